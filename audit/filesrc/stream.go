package filesrc

import (
	"bufio"
	"compress/bzip2"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"

	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/internal/iox"
)

// result is what became of one stream: a file, or a member of a container.
type result struct {
	state, reason, format, encoding string
	notRead                         string // the class of a stream that could hold text and was not read
	findings                        int
	size                            int64 // of the file on disk; set by walker.file
	bomb                            bool  // a decompression cap tripped: stop the whole file
}

// Classes of streams that could hold text and were not read (FileRecord.NotRead).
const (
	notReadError = "read error"
	notReadBomb  = "decompression bomb"
	notReadDepth = "nested too deep"
)

// node locates a stream inside the file being scanned.
type node struct {
	member string // "" for the file itself
	format string // the container the bytes came from ("text" for the file itself)
	depth  int    // containers opened to reach this stream
}

// fileCtx is the state of one file being scanned; one goroutine owns it.
type fileCtx struct {
	w      *walker
	path   string
	budget budget
}

// budget accounts decompressed bytes over the whole file, so that many
// members each under the per-member caps cannot add up to a bomb.
type budget struct{ in, out int64 }

// stream classifies one stream and hands it to the matching opener. ra and
// size are set when the stream is random-access (a file on disk).
func (fc *fileCtx) stream(n node, r io.Reader, ra io.ReaderAt, size int64) result {
	cr := &iox.CountingReader{R: r}
	br := bufio.NewReaderSize(cr, sniffLen)
	head, err := br.Peek(sniffLen)
	atEOF := false
	switch {
	case err == io.EOF:
		atEOF = true
	case err != nil && err != bufio.ErrBufferFull:
		return fc.fail(err)
	}
	s := sniff(head, atEOF)
	switch s.kind {
	case kindEncrypted:
		return result{state: audit.StateEncrypted, reason: s.reason, format: s.format}
	case kindBinary:
		return result{state: audit.StateBinary, reason: s.reason, format: s.format}
	case kindSkipped:
		return result{state: audit.StateSkipped, reason: s.reason, format: s.format, notRead: s.notRead}
	case kindGzip, kindZstd, kindBzip2, kindXz:
		if s.kind == kindGzip && ra != nil {
			if err := fc.gzipTrailer(ra, size); err != nil {
				r := fc.fail(err)
				r.format = s.format
				return r
			}
		}
		return fc.decompress(n, s, br, func() int64 { return cr.N - int64(br.Buffered()) })
	case kindTar:
		return fc.tar(n, br)
	case kindMail:
		return fc.mail(n, br, s.format)
	case kindDBF:
		return fc.dbf(n, br, s.dbf)
	case kindRTF:
		res := fc.unit(n, "rtf", newRTFText(br))
		res.format = "rtf"
		return res
	case kindRar:
		return fc.rar(n, br)
	case kindZip, kindOLE2, kindPDF, kind7z, kindSQLite:
		if ra == nil { // archive/zip and the OLE2 directory need random access
			sp, err := spill(br)
			if err != nil {
				return fc.fail(err)
			}
			defer sp.Close()
			ra, size = sp, sp.Size()
		}
		switch s.kind {
		case kindOLE2:
			return fc.ole2(n, ra, size)
		case kindPDF:
			return fc.pdf(n, ra, size)
		case kind7z:
			return fc.sevenZip(n, ra, size)
		case kindSQLite:
			return fc.sqlite(n, ra, size)
		}
		return fc.zip(n, ra, size)
	}
	return fc.text(n, br, s)
}

// text scans a stream of text in the sniffed encoding, decoding as it goes.
func (fc *fileCtx) text(n node, br *bufio.Reader, s sniffed) result {
	var r io.Reader = br
	reason := ""
	switch s.enc {
	case "utf-8":
		if s.bom {
			br.Discard(3)
		}
		if s.repair {
			r = transform.NewReader(br, runes.ReplaceIllFormed())
			reason = "invalid utf-8 sequences replaced"
		}
	case "utf-16le", "utf-16be":
		order := unicode.LittleEndian
		if s.enc == "utf-16be" {
			order = unicode.BigEndian
		}
		// ExpectBOM drops the mark; IgnoreBOM decodes BOM-less text as is.
		policy := unicode.IgnoreBOM
		if s.bom {
			policy = unicode.ExpectBOM
		}
		r = transform.NewReader(br, unicode.UTF16(order, policy).NewDecoder())
	case "gb18030":
		r = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	case "unknown-8bit":
		r = transform.NewReader(br, runes.ReplaceIllFormed())
		reason = "not utf-8, utf-16 or gb18030: scanned with invalid sequences replaced"
	}
	res := fc.unit(n, s.enc, r)
	res.format = "text"
	if res.state == audit.StateScanned {
		res.reason = reason
	}
	return res
}

// unit hands one decoded text stream to the scanner.
func (fc *fileCtx) unit(n node, enc string, text io.Reader) result {
	t := &trapReader{r: text}
	found, err := fc.w.scan(Unit{Path: fc.path, Member: n.member, Format: n.format, Encoding: enc, Text: t})
	switch {
	case t.err != nil:
		res := fc.fail(t.err)
		res.findings = found
		return res
	case err != nil:
		return result{state: audit.StateError, reason: "scan: " + err.Error(), findings: found, notRead: notReadError}
	}
	return result{state: audit.StateScanned, encoding: enc, findings: found}
}

// decompress opens a single compressed stream and classifies what is inside.
func (fc *fileCtx) decompress(n node, s sniffed, br *bufio.Reader, in func() int64) result {
	if r, deep := fc.tooDeep(n, s.format); deep {
		return r
	}
	var zr io.Reader
	name := ""
	switch s.kind {
	case kindGzip:
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fc.fail(prefixErr("gzip", err))
		}
		defer gz.Close()
		zr, name = gz, gz.Name
	case kindZstd:
		// The window cap bounds memory; streams made with --long up to 128 MiB still open.
		zd, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(128<<20), zstd.WithDecoderLowmem(true))
		if err != nil {
			return fc.fail(prefixErr("zstd", err))
		}
		defer zd.Close()
		zr = zd
	case kindBzip2:
		zr = bzip2.NewReader(br)
	case kindXz:
		xr, err := newXZReader(br)
		if err != nil {
			return fc.fail(prefixErr("xz", err))
		}
		zr = xr
	}
	if name == "" || strings.ContainsAny(name, "/\\") {
		name = innerName(fc.baseName(n), s.format)
	}
	inner := node{member: joinMember(n.member, name), format: s.format, depth: n.depth + 1}
	res := fc.stream(inner, &prefixReader{r: fc.limit(zr, in), prefix: s.format}, nil, -1)
	res.format = s.format
	return res
}

// gzipTrailer applies the caps to the size a gzip file declares in its
// trailer (ISIZE, the last member's length mod 2^32), so that an honest bomb
// is refused before inflating it, like a zip entry. Even a bomb of zeros, which
// the sniffer would call binary after 64 KiB, is named for what it is.
func (fc *fileCtx) gzipTrailer(ra io.ReaderAt, size int64) error {
	if size < 18 {
		return nil
	}
	var b [4]byte
	if _, err := ra.ReadAt(b[:], size-4); err != nil {
		return nil // the stream itself will say what is wrong
	}
	return fc.check(int64(binary.LittleEndian.Uint32(b[:])), size)
}

// tooDeep refuses to open one more container below MaxDepth.
func (fc *fileCtx) tooDeep(n node, format string) (result, bool) {
	if n.depth < fc.w.opts.MaxDepth {
		return result{}, false
	}
	return result{state: audit.StateSkipped, format: format, notRead: notReadDepth,
		reason: fmt.Sprintf("containers nested deeper than %d", fc.w.opts.MaxDepth)}, true
}

func (fc *fileCtx) baseName(n node) string {
	if n.member != "" {
		return path.Base(n.member)
	}
	return filepath.Base(fc.path)
}

// innerName names the stream inside a compressed file that carries no name:
// the outer name without its compression suffix.
func innerName(outer, format string) string {
	lower := strings.ToLower(outer)
	for _, sfx := range compressedSuffixes[format] {
		if strings.HasSuffix(lower, sfx.ext) {
			return outer[:len(outer)-len(sfx.ext)] + sfx.repl
		}
	}
	return outer
}

var compressedSuffixes = map[string][]struct{ ext, repl string }{
	"gzip":  {{".tgz", ".tar"}, {".gz", ""}, {".gzip", ""}},
	"zstd":  {{".tzst", ".tar"}, {".zst", ""}, {".zstd", ""}},
	"bzip2": {{".tbz2", ".tar"}, {".tbz", ".tar"}, {".bz2", ""}, {".bzip2", ""}},
	"xz":    {{".txz", ".tar"}, {".xz", ""}},
}

func joinMember(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "/" + name
}

// fail turns a read error into a result: a tripped cap is "skipped" (and
// stops the file), anything else "error".
func (fc *fileCtx) fail(err error) result {
	var b *bombError
	if errors.As(err, &b) {
		return result{state: audit.StateSkipped, reason: b.Error(), bomb: true, notRead: notReadBomb}
	}
	if cerr := fc.w.ctx.Err(); cerr != nil {
		return result{state: audit.StateError, reason: cerr.Error(), notRead: notReadError}
	}
	return result{state: audit.StateError, reason: errReason(err), notRead: notReadError}
}

// bombError is a decompression cap that tripped.
type bombError struct {
	ratio, maxRatio int64  // set for a ratio cap
	sizeCap         int64  // set for a size cap
	what            string // set when something other than output size hit sizeCap
}

func (e *bombError) Error() string {
	if e.what != "" {
		return fmt.Sprintf("decompression bomb: %s exceeds cap of %d MiB", e.what, e.sizeCap>>20)
	}
	if e.sizeCap > 0 {
		return fmt.Sprintf("decompression bomb: more than %d bytes decompressed exceeds cap", e.sizeCap)
	}
	return fmt.Sprintf("decompression bomb: ratio %d:1 exceeds cap %d:1", e.ratio, e.maxRatio)
}

// ratioGrace is how much may come out before the ratio cap applies: small
// highly compressible members (a sheet of empty cells) are normal.
const ratioGrace = 1 << 20

// limitReader counts decompressed bytes against the member and file caps.
type limitReader struct {
	fc  *fileCtx
	r   io.Reader
	in  func() int64 // compressed bytes consumed so far (or the member's compressed size)
	out int64
	err error
	// local streams (a tar member) decompress nothing: they are capped but
	// kept out of the file's budget, which would otherwise count them twice.
	local bool
}

func (fc *fileCtx) limit(r io.Reader, in func() int64) *limitReader {
	return &limitReader{fc: fc, r: r, in: in}
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	l.out += int64(n)
	if !l.local {
		l.fc.budget.out += int64(n)
	}
	if e := l.fc.check(l.out, l.in()); e != nil {
		l.err = e
		return 0, e
	}
	return n, err
}

// check applies the caps to a stream that turned in compressed bytes into out.
func (fc *fileCtx) check(out, in int64) error {
	o := fc.w.opts
	// The ratio first: it says more about a bomb than its size does.
	if out > ratioGrace && out/max(in, 1) > int64(o.MaxRatio) {
		return &bombError{ratio: out / max(in, 1), maxRatio: int64(o.MaxRatio)}
	}
	if b := fc.budget; b.out > ratioGrace && b.out/max(b.in, 1) > int64(o.MaxRatio) {
		return &bombError{ratio: b.out / max(b.in, 1), maxRatio: int64(o.MaxRatio)}
	}
	if out > o.MaxMemberBytes {
		return &bombError{sizeCap: o.MaxMemberBytes}
	}
	return nil
}

// prefixReader says which layer a read error came from ("gzip: unexpected
// EOF"); tripped caps and EOF pass through untouched.
type prefixReader struct {
	r      io.Reader
	prefix string
}

func (p *prefixReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		err = prefixErr(p.prefix, err)
	}
	return n, err
}

func prefixErr(prefix string, err error) error {
	var b *bombError
	if errors.As(err, &b) || strings.HasPrefix(err.Error(), prefix+":") {
		return err
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// prefixed does the same for a reason string.
func prefixed(prefix, reason string) string {
	if strings.HasPrefix(reason, prefix+":") || strings.HasPrefix(reason, "archive/"+prefix+":") {
		return reason
	}
	return prefix + ": " + reason
}

// trapReader remembers the first read error other than EOF, so a failure in
// a decoder or a tripped cap is reported even if the scanner swallows it.
type trapReader struct {
	r   io.Reader
	err error
}

func (t *trapReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// ctxReaderAt stops reads once the walk is cancelled.
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c *ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}

func newSectionReader(r io.ReaderAt, size int64) io.Reader {
	return io.NewSectionReader(r, 0, size)
}
