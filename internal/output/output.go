// Package output writes scan, check and drill records in the formats every
// subcommand offers: table (for people), json, jsonl (one record per line, for
// scripts and the acceptance checks) and sarif (findings only, for code-scanning
// tools). Records arrive already free of raw identifiers; this package only
// formats them.
package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/atrest/atrest/audit"
	"golang.org/x/term"
)

// Formats lists the --format values of every record kind (sarif is for
// scans' findings). New also takes "junit", for backup check and drill
// run, whose records are test cases (JUnitCaser, JUnitCaseser).
var Formats = []string{"table", "json", "jsonl", "sarif"}

// Writer writes records; Close finishes the document (json and sarif need it).
type Writer interface {
	Write(rec any) error
	Close() error
}

// DefaultFormat is table on a terminal and jsonl otherwise, so pipes get
// machine-readable output without a flag.
func DefaultFormat(f *os.File) string {
	if term.IsTerminal(int(f.Fd())) {
		return "table"
	}
	return "jsonl"
}

// New returns a Writer for format on w. Output is buffered (a scan can emit
// millions of records; one write per record would cost more than finding
// them), so Close must be called to flush it.
func New(format string, w io.Writer) (Writer, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	var inner Writer
	switch format {
	case "jsonl":
		inner = newJSONL(bw)
	case "json":
		inner = &jsonArray{w: bw}
	case "table":
		inner = &table{w: bw}
	case "sarif":
		inner = newSARIF(bw)
	case "junit":
		inner = NewJUnit(bw, "atrest")
	default:
		return nil, fmt.Errorf("unknown format %q (use table, json, jsonl, sarif or junit)", format)
	}
	return &buffered{Writer: inner, bw: bw}, nil
}

type buffered struct {
	Writer
	bw *bufio.Writer
}

func (b *buffered) Close() error {
	err := b.Writer.Close()
	if ferr := b.bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// jsonl writes one record per line. Findings and file records, which a scan
// emits by the million, are encoded by hand (appendFinding, appendFileRecord),
// byte for byte as encoding/json with SetEscapeHTML(false) would; anything
// else goes through encoding/json.
type jsonl struct {
	w   io.Writer
	enc *json.Encoder
	buf []byte
	// the last finding's path, and its JSON form: findings come in runs with
	// the same path
	path     string
	pathJSON []byte
}

func newJSONL(w io.Writer) *jsonl {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonl{w: w, enc: enc}
}

func (j *jsonl) Write(rec any) error {
	switch r := rec.(type) {
	case audit.Finding:
		j.buf = j.appendFinding(j.buf[:0], &r)
	case *audit.Finding:
		if r == nil {
			return j.enc.Encode(rec)
		}
		j.buf = j.appendFinding(j.buf[:0], r)
	case audit.FileRecord:
		j.buf = appendFileRecord(j.buf[:0], &r)
	case *audit.FileRecord:
		if r == nil {
			return j.enc.Encode(rec)
		}
		j.buf = appendFileRecord(j.buf[:0], r)
	default:
		return j.enc.Encode(rec)
	}
	j.buf = append(j.buf, '\n')
	_, err := j.w.Write(j.buf)
	return err
}

func (j *jsonl) Close() error { return nil }

// appendFinding appends f as encoding/json encodes it (no newline).
func (j *jsonl) appendFinding(b []byte, f *audit.Finding) []byte {
	b = append(b, `{"record":`...)
	b = appendString(b, f.Record)
	b = append(b, `,"path":`...)
	if f.Path != j.path || j.pathJSON == nil {
		j.path, j.pathJSON = f.Path, appendString(j.pathJSON[:0], f.Path)
	}
	b = append(b, j.pathJSON...)
	if f.Member != "" {
		b = append(b, `,"member":`...)
		b = appendString(b, f.Member)
	}
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(f.Line), 10)
	b = append(b, `,"type":`...)
	b = appendString(b, string(f.Type))
	b = append(b, `,"masked":`...)
	b = appendString(b, f.Masked)
	b = append(b, `,"fingerprint":`...)
	b = appendString(b, f.Fingerprint)
	return append(b, '}')
}

// appendFileRecord appends r as encoding/json encodes it (no newline).
func appendFileRecord(b []byte, r *audit.FileRecord) []byte {
	b = append(b, `{"record":`...)
	b = appendString(b, r.Record)
	b = append(b, `,"path":`...)
	b = appendString(b, r.Path)
	if r.Member != "" {
		b = append(b, `,"member":`...)
		b = appendString(b, r.Member)
	}
	b = append(b, `,"state":`...)
	b = appendString(b, r.State)
	if r.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, r.Reason)
	}
	if r.Format != "" {
		b = append(b, `,"format":`...)
		b = appendString(b, r.Format)
	}
	if r.Encoding != "" {
		b = append(b, `,"encoding":`...)
		b = appendString(b, r.Encoding)
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, r.Size, 10)
	b = append(b, `,"findings":`...)
	b = strconv.AppendInt(b, int64(r.Findings), 10)
	if len(r.ByType) > 0 {
		b = append(b, `,"by_type":{`...)
		for i, t := range slices.Sorted(maps.Keys(r.ByType)) { // encoding/json sorts map keys
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, t)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(r.ByType[t]), 10)
		}
		b = append(b, '}')
	}
	if r.NotRead != "" {
		b = append(b, `,"not_read":`...)
		b = appendString(b, r.NotRead)
	}
	return append(b, '}')
}

// plain marks the ASCII bytes a JSON string holds as they are (with HTML
// escaping off): everything from ' ' up but '"' and '\\'.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

// appendString appends s as a JSON string exactly as encoding/json does with
// SetEscapeHTML(false): short escapes for \b \f \n \r \t, \u00XX for other
// control characters, each byte of invalid UTF-8 as \ufffd, and U+2028 and
// U+2029 escaped.
func appendString(b []byte, s string) []byte {
	if plainString(s) { // most values: one copy, no byte-by-byte walk
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && !needsLook(le64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainString reports whether every byte of s is plain: eight bytes at a
// time, the last eight read again when the length is not a multiple of eight
// (four and four, overlapping, from 4 to 7 bytes).
func plainString(s string) bool {
	n := len(s)
	if n < 8 {
		if n >= 4 {
			return !needsLook(uint64(le32(s[:4]))<<32 | uint64(le32(s[n-4:n])))
		}
		for i := 0; i < n; i++ {
			if c := s[i]; c >= utf8.RuneSelf || !plain[c] {
				return false
			}
		}
		return true
	}
	for i := 0; i+8 <= n; i += 8 {
		if needsLook(le64(s[i : i+8])) {
			return false
		}
	}
	return n%8 == 0 || !needsLook(le64(s[n-8:n]))
}

// needsLook reports whether one of the eight bytes of x may need escaping: a
// control character, '"', '\\' or a non-ASCII byte. It may say so of a plain
// byte after one of those (a borrow), never the other way round.
func needsLook(x uint64) bool {
	q := x ^ 0x2222222222222222  // '"'
	bs := x ^ 0x5c5c5c5c5c5c5c5c // '\\'
	// a byte below 0x20, or equal to one of them, borrows into its high bit
	// (bytes with it set are caught by the last term)
	return ((x-0x2020202020202020)|(q-0x0101010101010101)|(bs-0x0101010101010101)|x)&0x8080808080808080 != 0
}

// le64 reads the first eight bytes of w, little-endian: one load (the
// compiler merges them, and a single bounds check covers all).
func le64(w string) uint64 {
	w = w[:8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// le32 reads the first four bytes of w, little-endian.
func le32(w string) uint32 {
	w = w[:4]
	return uint32(w[0]) | uint32(w[1])<<8 | uint32(w[2])<<16 | uint32(w[3])<<24
}

// jsonArray streams one JSON array so memory stays bounded on big scans.
type jsonArray struct {
	w     io.Writer
	count int
}

func (j *jsonArray) Write(rec any) error {
	b, err := marshalIndent(rec, "  ", "  ")
	if err != nil {
		return err
	}
	sep := ",\n  "
	if j.count == 0 {
		sep = "[\n  "
	}
	j.count++
	_, err = fmt.Fprintf(j.w, "%s%s", sep, b)
	return err
}

func (j *jsonArray) Close() error {
	if j.count == 0 {
		_, err := io.WriteString(j.w, "[]\n")
		return err
	}
	_, err := io.WriteString(j.w, "\n]\n")
	return err
}

func marshalIndent(v any, prefix, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
