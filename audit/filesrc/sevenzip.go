package filesrc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bodgit/sevenzip"
	"github.com/nwaples/rardecode/v2"
	"github.com/ulikunitz/xz"

	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/internal/iox"
)

// 7z (bodgit/sevenzip), rar (nwaples/rardecode) and xz (ulikunitz/xz) are
// read like zip and gzip: every member classified by content, under the
// same caps on decompressed size and ratio; an archive that needs a password
// is encrypted.

// maxXZDict bounds the LZMA2 dictionary an xz stream may ask for: the
// decoder allocates it up front, so a header claiming 1.5 GiB would be a
// memory bomb before a byte came out. 128 MiB is more than xz -9e uses.
const maxXZDict = 128 << 20

// newXZReader opens an xz stream after checking the dictionary size of its
// first block.
func newXZReader(r interface {
	io.Reader
	Peek(int) ([]byte, error)
}) (io.Reader, error) {
	if head, _ := r.Peek(64); len(head) > 14 {
		if dict := xzDictSize(head); dict > maxXZDict {
			return nil, &bombError{sizeCap: maxXZDict, what: fmt.Sprintf("xz dictionary of %d MiB", dict>>20)}
		}
	}
	return xz.NewReader(r)
}

// xzDictSize reads the LZMA2 dictionary size from the first block header
// (xz file format 1.1.0 §3.1); 0 when it cannot tell.
func xzDictSize(b []byte) int64 {
	b = b[12:] // stream header
	size := (int(b[0]) + 1) * 4
	if b[0] == 0 || size > len(b) {
		return 0
	}
	flags := b[1]
	p := 2
	vli := func() uint64 {
		v, n := binary.Uvarint(b[p:size])
		if n <= 0 {
			p = size
			return 0
		}
		p += n
		return v
	}
	if flags&0x40 != 0 {
		vli()
	}
	if flags&0x80 != 0 {
		vli()
	}
	for i := 0; i <= int(flags&3) && p < size; i++ {
		id, n := vli(), vli()
		if p+int(n) > size {
			return 0
		}
		if id == 0x21 && n == 1 {
			bits := b[p] & 0x3f
			if bits > 40 {
				return 1 << 40
			}
			if bits == 40 {
				return 1<<32 - 1
			}
			return int64(2|bits&1) << (bits/2 + 11)
		}
		p += int(n)
	}
	return 0
}

// sevenZip reads a 7z archive.
func (fc *fileCtx) sevenZip(n node, ra io.ReaderAt, size int64) result {
	if r, deep := fc.tooDeep(n, "7z"); deep {
		return r
	}
	zr, err := sevenzip.NewReader(ra, size)
	if err != nil {
		if encrypted7z(err) {
			return result{state: audit.StateEncrypted, format: "7z", reason: "7z archive encrypted with a password (file names too)"}
		}
		return result{state: audit.StateError, format: "7z", notRead: notReadError, reason: prefixed("7z", errReason(err))}
	}
	m := fc.members("7z")
	for _, f := range zr.File {
		if fc.w.ctx.Err() != nil {
			break
		}
		if f.FileInfo().IsDir() {
			continue
		}
		name := joinMember(n.member, strings.ToValidUTF8(f.Name, "\uFFFD"))
		if !m.add(name, int64(f.UncompressedSize), fc.sevenZipEntry(n, f, name, size)) {
			break
		}
	}
	return m.result(nil)
}

func (fc *fileCtx) sevenZipEntry(n node, f *sevenzip.File, name string, archive int64) result {
	// 7z compresses many files as one stream: the ratio is held against the
	// whole archive, and the file budget holds the total.
	if err := fc.check(int64(f.UncompressedSize), archive); err != nil {
		return fc.fail(err)
	}
	rc, err := f.Open()
	if err != nil {
		if encrypted7z(err) {
			return result{state: audit.StateEncrypted, reason: "7z entry encrypted with a password"}
		}
		return fc.fail(prefixErr("7z", err))
	}
	defer rc.Close()
	body := &sevenZipBody{r: &prefixReader{r: fc.limit(rc, func() int64 { return archive }), prefix: "7z"}}
	res := fc.stream(node{member: name, format: "7z", depth: n.depth + 1}, body, nil, int64(f.UncompressedSize))
	if body.encrypted {
		return result{state: audit.StateEncrypted, reason: "7z entry encrypted with a password"}
	}
	return res
}

// sevenZipBody notes a read that failed for want of a password.
type sevenZipBody struct {
	r         io.Reader
	encrypted bool
}

func (b *sevenZipBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && encrypted7z(err) {
		b.encrypted = true
	}
	return n, err
}

func encrypted7z(err error) bool {
	var re sevenzip.ReadError
	if errors.As(err, &re) && re.Encrypted {
		return true
	}
	var rp *sevenzip.ReadError
	return errors.As(err, &rp) && rp.Encrypted || strings.Contains(err.Error(), "password")
}

// rar reads a rar archive (RAR 1.5 to 5) as a stream of members.
func (fc *fileCtx) rar(n node, r io.Reader) result {
	if res, deep := fc.tooDeep(n, "rar"); deep {
		return res
	}
	cr := &iox.CountingReader{R: r}
	rr, err := rardecode.NewReader(&rarInput{r: cr})
	if err != nil {
		if errors.Is(err, rardecode.ErrArchiveEncrypted) {
			return result{state: audit.StateEncrypted, format: "rar", reason: "rar archive encrypted with a password (file names too)"}
		}
		return result{state: audit.StateError, format: "rar", notRead: notReadError, reason: prefixed("rar", errReason(err))}
	}
	m := fc.members("rar")
	for fc.w.ctx.Err() == nil {
		h, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, rardecode.ErrArchiveEncrypted) {
				return result{state: audit.StateEncrypted, format: "rar", reason: "rar archive encrypted with a password (file names too)"}
			}
			return m.result(err)
		}
		// A link (RAR5 symlink, hard link or file copy; a RAR4 unix
		// symlink, whose data is the target's name) holds no data of its
		// own, as zip skips its symlinks.
		if h.IsDir || h.LinkType != 0 || !h.Mode().IsRegular() {
			continue
		}
		name := joinMember(n.member, strings.ToValidUTF8(h.Name, "\uFFFD"))
		var res result
		if h.Encrypted {
			res = result{state: audit.StateEncrypted, reason: "rar entry encrypted with a password"}
		} else {
			packed := h.PackedSize
			body := &prefixReader{r: fc.limit(rr, func() int64 { return max(packed, cr.N) }), prefix: "rar"}
			res = fc.stream(node{member: name, format: "rar", depth: n.depth + 1}, body, nil, h.UnPackedSize)
		}
		if !m.add(name, h.UnPackedSize, res) {
			break
		}
	}
	return m.result(nil)
}

// errRARCut is the end of a rar archive's input before its end-of-archive
// block.
var errRARCut = errors.New("archive cut short: input ends before the end-of-archive block")

// rarInput hands rardecode the archive and reports its end as errRARCut,
// never io.EOF. rardecode stops at the end-of-archive block and reads no
// further, so a whole archive never meets it; but it takes an io.EOF met
// while it skips a member's data (an encrypted or binary member), or where
// a RAR4 block header should start, for the end of the archive, and a
// cut-short archive read as complete.
type rarInput struct{ r io.Reader }

func (in *rarInput) Read(p []byte) (int, error) {
	n, err := in.r.Read(p)
	if err == io.EOF {
		if n > 0 {
			return n, nil // the next Read meets the end again
		}
		return 0, errRARCut
	}
	return n, err
}
