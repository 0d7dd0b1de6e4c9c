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
	"os"

	"golang.org/x/term"
)

// Formats lists the accepted --format values.
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
	default:
		return nil, fmt.Errorf("unknown format %q (use table, json, jsonl or sarif)", format)
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

type jsonl struct{ enc *json.Encoder }

func newJSONL(w io.Writer) *jsonl {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonl{enc: enc}
}

func (j *jsonl) Write(rec any) error { return j.enc.Encode(rec) }
func (j *jsonl) Close() error        { return nil }

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
