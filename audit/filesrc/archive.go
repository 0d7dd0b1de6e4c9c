package filesrc

import (
	"archive/tar"
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/atrest/atrest/audit"
)

// members sums up the members of one container into the container's result,
// and reports every member that was not scanned.
type members struct {
	fc                        *fileCtx
	format                    string
	total, scanned, encrypted int
	findings                  int
	firstErr, firstSkip       string
	notScanned                map[string]int
	bomb                      *result
}

func (fc *fileCtx) members(format string) *members {
	return &members{fc: fc, format: format, notScanned: map[string]int{}}
}

// add records one member's result; it returns false when the container
// must not be read further (a decompression bomb).
func (m *members) add(member string, size int64, r result) bool {
	m.total++
	m.findings += r.findings
	if r.state == audit.StateScanned {
		m.scanned++
		return true
	}
	m.fc.w.report(audit.FileRecord{Record: "file", Path: m.fc.path, Member: member, State: r.state,
		Reason: r.reason, Format: r.format, Encoding: r.encoding, Size: size, Findings: r.findings, NotRead: r.notRead})
	m.notScanned[r.state]++
	switch r.state {
	case audit.StateEncrypted:
		m.encrypted++
	case audit.StateError:
		if m.firstErr == "" {
			m.firstErr = member + ": " + r.reason
		}
	case audit.StateSkipped:
		if m.firstSkip == "" {
			m.firstSkip = member + ": " + r.reason
		}
	}
	if r.bomb {
		m.bomb = &r
		return false
	}
	return true
}

// result is the container's own state: a bomb anywhere skips the whole file;
// otherwise it counts as scanned if any member was, encrypted if every member
// is, and else takes the worst of its members' states.
func (m *members) result(err error) result {
	r := result{format: m.format, findings: m.findings}
	switch {
	case m.bomb != nil:
		r.state, r.reason, r.bomb = audit.StateSkipped, m.bomb.reason, true
	case err != nil:
		f := m.fc.fail(err)
		r.state, r.reason, r.bomb, r.notRead = f.state, prefixed(m.format, f.reason), f.bomb, f.notRead
	case m.total == 0:
		r.state, r.reason = audit.StateScanned, "no members"
	case m.scanned > 0:
		r.state = audit.StateScanned
		if m.scanned < m.total {
			r.reason = fmt.Sprintf("%d of %d members not scanned (%s)", m.total-m.scanned, m.total, m.summary())
		}
	case m.encrypted == m.total:
		r.state, r.reason = audit.StateEncrypted, fmt.Sprintf("all %d %s entries encrypted", m.total, m.format)
	case m.firstErr != "":
		r.state, r.reason = audit.StateError, m.firstErr
	case m.firstSkip != "":
		r.state, r.reason = audit.StateSkipped, m.firstSkip
	default:
		r.state, r.reason = audit.StateBinary, "no text members"
	}
	return r
}

func (m *members) summary() string {
	var parts []string
	for _, s := range []string{audit.StateEncrypted, audit.StateBinary, audit.StateSkipped, audit.StateError} {
		if n := m.notScanned[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return strings.Join(parts, ", ")
}

// zip opens a zip archive and reads it as xlsx, docx or a plain archive.
func (fc *fileCtx) zip(n node, ra io.ReaderAt, size int64) result {
	if r, deep := fc.tooDeep(n, "zip"); deep {
		return r
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return result{state: audit.StateError, format: "zip", reason: prefixed("zip", errReason(err)), notRead: notReadError}
	}
	zr.RegisterDecompressor(zip.Deflate, flate.NewReader) // faster than the std one
	zr.RegisterDecompressor(zstd.ZipMethodWinZip, zstd.ZipDecompressor(zstd.WithDecoderMaxWindow(128<<20), zstd.WithDecoderLowmem(true)))
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		parts[f.Name] = f
	}
	switch {
	case parts["xl/workbook.xml"] != nil:
		return fc.xlsx(n, parts)
	case parts["word/document.xml"] != nil:
		return fc.docx(n, parts)
	case isODF(parts):
		return fc.odf(n, parts)
	case parts["xl/workbook.bin"] != nil:
		return result{state: audit.StateSkipped, format: "xlsb", notRead: "xlsb", reason: "Excel binary workbook (.xlsb) not parsed"}
	}
	m := fc.members("zip")
	for _, f := range zr.File {
		if fc.w.ctx.Err() != nil {
			break
		}
		if strings.HasSuffix(f.Name, "/") || !f.Mode().IsRegular() {
			continue // directories and symlink entries hold no data
		}
		name := joinMember(n.member, zipName(f))
		if !m.add(name, int64(f.UncompressedSize64), fc.zipEntry(n, f, name)) {
			break
		}
	}
	return m.result(nil)
}

// zipEntry classifies one entry of a plain archive.
func (fc *fileCtx) zipEntry(n node, f *zip.File, name string) result {
	if f.Flags&1 != 0 {
		return result{state: audit.StateEncrypted, reason: "zip entry encrypted"}
	}
	rc, err := fc.openZip(f)
	if err != nil {
		return fc.fail(err)
	}
	defer rc.Close()
	return fc.stream(node{member: name, format: "zip", depth: n.depth + 1}, rc, nil, int64(f.UncompressedSize64))
}

// openZip opens an entry behind the caps. Sizes in the central directory are
// checked first, so an honest bomb is refused without inflating a byte; the
// limitReader catches the dishonest ones (archive/zip itself stops at the
// declared size).
func (fc *fileCtx) openZip(f *zip.File) (io.ReadCloser, error) {
	declared := func() int64 { return int64(f.CompressedSize64) }
	if err := fc.check(int64(f.UncompressedSize64), declared()); err != nil {
		return nil, err
	}
	rc, err := f.Open()
	if errors.Is(err, zip.ErrAlgorithm) {
		return nil, fmt.Errorf("zip: unsupported compression method %d", f.Method)
	}
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{&prefixReader{r: fc.limit(rc, declared), prefix: "zip"}, rc}, nil
}

// zipName returns an entry name as UTF-8. Zip tools on Chinese Windows write
// names in GBK without the UTF-8 flag; decode those when they decode cleanly.
func zipName(f *zip.File) string {
	if utf8.ValidString(f.Name) {
		return f.Name
	}
	if f.NonUTF8 && gb18030Clean([]byte(f.Name), true) {
		if s, err := simplifiedchinese.GB18030.NewDecoder().String(f.Name); err == nil {
			return s
		}
	}
	return strings.ToValidUTF8(f.Name, "\uFFFD")
}

// tar reads a tar stream member by member; it needs no random access.
func (fc *fileCtx) tar(n node, r io.Reader) result {
	if res, deep := fc.tooDeep(n, "tar"); deep {
		return res
	}
	tr := tar.NewReader(r)
	m := fc.members("tar")
	for fc.w.ctx.Err() == nil {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m.result(err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		name := joinMember(n.member, strings.ToValidUTF8(h.Name, "\uFFFD"))
		size := h.Size
		// Sparse members expand holes: hold them to the same caps.
		body := fc.limit(tr, func() int64 { return size })
		body.local = true
		if !m.add(name, size, fc.stream(node{member: name, format: "tar", depth: n.depth + 1}, body, nil, size)) {
			break
		}
	}
	return m.result(nil)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
