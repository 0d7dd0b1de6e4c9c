package check

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup"
)

// maxZstdWindow bounds the memory a zstd stream may ask for: zstd's own
// CLI needs --long to go beyond 128 MiB, and a stream from a bucket is not
// trusted to be modest.
const maxZstdWindow = 128 << 20

// readOutcome is the result of one attempt at reading an object.
type readOutcome struct {
	failure string // "", FailIntegrity or FailTransport
	status  Status // set for outcomes that are neither pass nor a read failure
	detail  string
	figures map[string]any
}

// readChecked runs read, and once more if it failed, and records the
// verdict under Integrity. A transport failure twice is reported as such,
// never as corruption; an integrity failure is called one only when a
// second read agrees.
func (c *checker) readChecked(key string, read func() readOutcome) Result {
	start := time.Now()
	r1 := read()
	if r1.failure == "" {
		return *c.record(key, r1, "", start)
	}
	r2 := read()
	switch {
	case r2.failure == "" && r1.failure == FailTransport:
		return *c.record(key, r2, "read failed once ("+r1.detail+") and passed when retried; ", start)
	case r2.failure == "":
		r2.status = Warn
		return *c.record(key, r2, "the first read failed the integrity check ("+r1.detail+") and a second read passed: bytes changed on the way; ", start)
	default:
		// Both failed: report the second, which is the server's answer
		// now; an integrity failure either time makes it one.
		if r1.failure == FailIntegrity && r2.failure == FailTransport {
			r1, r2 = r2, r1
		}
		if r1.detail == r2.detail {
			return *c.record(key, r2, "", start, " (the same on a second read)")
		}
		return *c.record(key, r2, "", start, " (read twice; the other read: "+r1.detail+")")
	}
}

func (c *checker) record(key string, o readOutcome, prefix string, start time.Time, suffix ...string) *Result {
	st := o.status
	if st == "" {
		st = Pass
		if o.failure != "" {
			st = Fail
		}
	}
	if o.figures == nil {
		o.figures = map[string]any{}
	}
	o.figures["seconds"] = time.Since(start).Seconds()
	if prefix != "" {
		o.figures["retried"] = true
	}
	r := c.add(Integrity, st, key, prefix+o.detail+strings.Join(suffix, ""), o.figures)
	r.Failure = o.failure
	return r
}

// source is an object body that counts and hashes what passes and keeps
// the first error the store gave, so that a failure further down (age,
// zstd) caused by a broken connection is put down to the connection.
type source struct {
	r   io.Reader
	n   int64
	h   hash.Hash
	err error
	// head keeps the first bytes, for the age header.
	head    []byte
	headCap int
}

func newSource(r io.Reader, headCap int) *source {
	return &source{r: r, h: sha256.New(), headCap: headCap}
}

func (s *source) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	s.h.Write(p[:n])
	if room := s.headCap - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(n, room)]...)
	}
	if err != nil {
		s.err = err
	}
	return n, err
}

// finish reads the rest of the body (a decoder that stopped at an error
// leaves some) and returns the transport failure, if any: a store error,
// or fewer bytes than the store announced.
func (s *source) finish(announced int64) string {
	if s.err == nil {
		io.Copy(io.Discard, s)
	}
	if s.err != nil && s.err != io.EOF {
		return fmt.Sprintf("read failed after %d bytes: %s", s.n, oneLine(s.err))
	}
	if announced >= 0 && s.n != announced {
		return fmt.Sprintf("body ended after %d of the %d bytes the server announced", s.n, announced)
	}
	return ""
}

func (s *source) sum() string { return hex.EncodeToString(s.h.Sum(nil)) }

// readAtrest streams one atrest backup and compares it with its manifest:
// ciphertext size and SHA-256, then with an identity age authentication
// (every chunk), zstd to the end, compressed and plaintext size and the
// plaintext SHA-256; without one, the age header's structure and the
// payload length it implies.
func (c *checker) readAtrest(key string, m *backup.Manifest) readOutcome {
	rc, info, err := c.o.Store.Get(c.ctx, key)
	if err != nil {
		if errors.Is(err, backup.ErrNotFound) {
			return readOutcome{failure: FailIntegrity, detail: "the object is gone"}
		}
		return readOutcome{failure: FailTransport, detail: "get: " + oneLine(err)}
	}
	defer rc.Close()
	src := newSource(rc, 64<<10)
	var (
		decodeErr       string
		compressed      int64
		plain           int64
		plainSum        string
		identityMissing bool
	)
	if c.o.Identity != nil {
		compressed, plain, plainSum, decodeErr, identityMissing = decodeAge(src, c.o.Identity)
	}
	if t := src.finish(info.Size); t != "" {
		return readOutcome{failure: FailTransport, detail: t}
	}
	mo := m.Object
	figs := map[string]any{"bytes": src.n}
	switch {
	case src.n != mo.CiphertextBytes:
		return readOutcome{failure: FailIntegrity, figures: figs,
			detail: fmt.Sprintf("the object holds %d bytes, the manifest says %d", src.n, mo.CiphertextBytes)}
	case src.sum() != mo.CiphertextSHA256:
		d := "ciphertext SHA-256 differs from the manifest: the stored bytes are not the bytes uploaded"
		if decodeErr != "" {
			d += "; " + decodeErr
		}
		return readOutcome{failure: FailIntegrity, figures: figs, detail: d}
	}
	if identityMissing {
		// The bytes are the ones uploaded, and our key cannot open them:
		// not corruption, but a backup this installation cannot restore.
		return readOutcome{failure: "", status: Fail, figures: figs,
			detail: fmt.Sprintf("ciphertext SHA-256 matches, but the identity is not among the backup's recipients (%s): a restore with it would fail", strings.Join(m.Encryption.Recipients, ", "))}
	}
	if c.o.Identity == nil {
		if bad := ageStructure(src.head, src.n, m); bad != "" {
			return readOutcome{failure: FailIntegrity, figures: figs, detail: bad}
		}
		return readOutcome{figures: figs, detail: fmt.Sprintf("read %s: size and ciphertext SHA-256 match the manifest; age header well-formed, %d recipient stanza(s), payload length as the compressed size implies; without an identity, age authentication and zstd were not checked (give --identity, or a drill identity_file)",
			size(src.n), len(m.Encryption.Recipients))}
	}
	figs["plaintext_bytes"] = plain
	switch {
	case decodeErr != "":
		return readOutcome{failure: FailIntegrity, figures: figs, detail: decodeErr}
	case compressed != mo.CompressedBytes:
		return readOutcome{failure: FailIntegrity, figures: figs, detail: fmt.Sprintf("age decrypted to %d bytes of zstd, the manifest says %d", compressed, mo.CompressedBytes)}
	case plain != mo.PlaintextBytes:
		return readOutcome{failure: FailIntegrity, figures: figs, detail: fmt.Sprintf("zstd decoded to %d bytes of SQL, the manifest says %d", plain, mo.PlaintextBytes)}
	case plainSum != mo.PlaintextSHA256:
		return readOutcome{failure: FailIntegrity, figures: figs, detail: "plaintext SHA-256 differs from the manifest"}
	}
	return readOutcome{figures: figs, detail: fmt.Sprintf("read %s: ciphertext SHA-256 matches, age authenticated every chunk with the identity, zstd decoded to the end, %s of SQL with the manifest's SHA-256 (not restored)",
		size(src.n), size(plain))}
}

// decodeAge decrypts and decompresses r to the end, hashing the plaintext.
func decodeAge(r io.Reader, id age.Identity) (compressed, plain int64, plainSum, errText string, noMatch bool) {
	ar, err := age.Decrypt(r, id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return 0, 0, "", "", true
		}
		return 0, 0, "", "age: " + oneLine(err), false
	}
	cr := &countReader{r: ar}
	zr, err := zstd.NewReader(cr, zstd.WithDecoderMaxWindow(maxZstdWindow))
	if err != nil {
		return 0, 0, "", "zstd: " + oneLine(err), false
	}
	defer zr.Close()
	h := sha256.New()
	plain, err = io.Copy(h, zr)
	if err != nil {
		// age's errors come through zstd; name the layer that failed.
		layer := "zstd"
		if cr.err != nil && cr.err != io.EOF {
			layer = "age"
			err = cr.err
		}
		return cr.n, plain, "", fmt.Sprintf("%s: %s after %d bytes of SQL", layer, oneLine(err), plain), false
	}
	return cr.n, plain, hex.EncodeToString(h.Sum(nil)), "", false
}

type countReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// age's payload: a 16-byte nonce, then the plaintext in 64 KiB chunks each
// with a 16-byte tag (at least one chunk, even for no plaintext).
const (
	ageNonce = 16
	ageChunk = 64 << 10
	ageTag   = 16
)

// ageStructure checks what can be checked of an age file without its key:
// a well-formed header whose recipient stanzas match the manifest's count,
// and a payload exactly as long as the manifest's compressed size implies.
func ageStructure(head []byte, total int64, m *backup.Manifest) string {
	hdr, err := age.ExtractHeader(bytes.NewReader(head))
	if err != nil {
		return "age header: " + oneLine(err)
	}
	if !bytes.HasPrefix(head, hdr) {
		return "age header is not in canonical form"
	}
	stanzas := 0
	for line := range strings.SplitSeq(string(hdr), "\n") {
		if strings.HasPrefix(line, "-> ") {
			stanzas++
		}
	}
	if want := len(m.Encryption.Recipients); want > 0 && stanzas != want {
		return fmt.Sprintf("age header has %d recipient stanza(s), the manifest lists %d recipients", stanzas, want)
	}
	c := m.Object.CompressedBytes
	chunks := max(1, (c+ageChunk-1)/ageChunk)
	if want := int64(len(hdr)) + ageNonce + c + chunks*ageTag; total != want {
		return fmt.Sprintf("age payload: the object is %d bytes, a header of %d and %d compressed bytes make %d", total, len(hdr), c, want)
	}
	return ""
}
