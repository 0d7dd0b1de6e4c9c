package suite

// The sm backup object, version 1. It is built so that Debian's OpenSSL 3,
// coreutils and zstd restore it without atrest (README, "Restoring an sm
// backup by hand"): `openssl enc` does no AEAD, so confidentiality is
// SM4-CTR and integrity HMAC-SM3 over everything before the tag
// (encrypt-then-MAC), both under keys fresh for every object.
//
//	atrest-sm/v1\n                       magic line
//	sm2 <key id> <wrapped keys>\n        one line per recipient, 1 to 64
//	iv <32 hex digits>\n                 SM4-CTR initial counter block
//	---\n                                end of the header
//	<ciphertext>                         SM4-CTR of the plaintext, same length
//	<tag>                                32 bytes: HMAC-SM3(mac key, all bytes above)
//
// key id is the recipient's KeyID without "sm2:" (16 hex digits of SM3 over
// its DER public key), so a holder of several keys finds the line that is
// theirs. wrapped keys is the standard base64 of the SM2 encryption (GB/T
// 32918.4, ASN.1 C1C3C2 as OpenSSL writes and reads it) of 48 bytes: the
// SM4 key (16) followed by the HMAC-SM3 key (32). The counter is the whole
// 16-byte block, big-endian, as OpenSSL's and Go's CTR count it.
//
// The tag only proves that someone who knew the data key wrote the object;
// that it is the object atrest wrote is proved by the signed manifest,
// which holds the object's SHA-256.

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

const (
	objectMagic = "atrest-sm/v1"
	headerEnd   = "---"
	// TagSize is the length of the HMAC-SM3 tag that ends an sm object.
	TagSize = sm3.Size

	encKeySize     = 16 // SM4
	macKeySize     = 32 // HMAC-SM3, a full block of entropy
	ivSize         = sm4.BlockSize
	maxRecipients  = 64
	maxWrappedSize = 512 // an SM2 ciphertext of 48 bytes is about 155
	maxHeaderLine  = 1024
	// chunkSize is how much the reader and the writer take at a time; the
	// format has no chunks (one CTR stream, one tag). Each chunk's MAC runs
	// on a goroutine of its own beside its encryption: the bigger the chunk,
	// the fewer hand-offs.
	chunkSize = 256 << 10
	// macAsideMin is the smallest chunk whose MAC goes to a goroutine of
	// its own: SM3 takes about 40 µs for it, against a microsecond or two
	// for the hand-off.
	macAsideMin = 16 << 10
)

// Header is the parsed header of an sm object.
type Header struct {
	Recipients []Stanza
	IV         [ivSize]byte
	Len        int // bytes, "---\n" included: the ciphertext starts here
}

// Stanza is one recipient line.
type Stanza struct {
	KeyID   string // 16 hex digits
	Wrapped []byte // DER SM2 ciphertext of the keys
}

// IsObject reports whether head (the first bytes of an object) starts like
// an sm object, to tell it from an age one.
func IsObject(head []byte) bool {
	return bytes.HasPrefix(head, []byte(objectMagic+"\n"))
}

// ParseHeader parses the header at the start of head. It checks the form
// only: whether a key opens it is Decrypt's business.
func ParseHeader(head []byte) (*Header, error) {
	h, _, err := readHeader(bufio.NewReaderSize(bytes.NewReader(head), maxHeaderLine))
	return h, err
}

// readHeader reads the header line by line, never more than a line past
// it, and returns it parsed and as the bytes the tag covers.
func readHeader(br *bufio.Reader) (*Header, []byte, error) {
	var raw []byte
	h := &Header{}
	ivSeen := false
	for n := 0; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return nil, nil, fmt.Errorf("header line %d is longer than %d bytes", n+1, maxHeaderLine)
		}
		if err == io.EOF {
			return nil, nil, fmt.Errorf("header ends at line %d without its %q line", n+1, headerEnd)
		}
		if err != nil {
			return nil, nil, err
		}
		raw = append(raw, line...)
		text := string(line[:len(line)-1])
		switch {
		case n == 0:
			if text != objectMagic {
				return nil, nil, fmt.Errorf("not an sm object: the first line is not %q", objectMagic)
			}
		case text == headerEnd:
			if len(h.Recipients) == 0 || !ivSeen {
				return nil, nil, errors.New("header has no recipient or no iv line")
			}
			h.Len = len(raw)
			return h, raw, nil
		case len(text) > 4 && text[:4] == "sm2 ":
			if ivSeen || len(h.Recipients) == maxRecipients {
				return nil, nil, fmt.Errorf("header line %d: recipient after the iv, or more than %d", n+1, maxRecipients)
			}
			s, err := parseStanza(text[4:])
			if err != nil {
				return nil, nil, fmt.Errorf("header line %d: %w", n+1, err)
			}
			h.Recipients = append(h.Recipients, s)
		case len(text) > 3 && text[:3] == "iv ":
			b, err := hex.DecodeString(text[3:])
			if ivSeen || err != nil || len(b) != ivSize || hex.EncodeToString(b) != text[3:] {
				return nil, nil, fmt.Errorf("header line %d: not one iv of %d lower-case hex digits", n+1, 2*ivSize)
			}
			copy(h.IV[:], b)
			ivSeen = true
		default:
			return nil, nil, fmt.Errorf("header line %d is not a recipient, iv or %q line", n+1, headerEnd)
		}
	}
}

func parseStanza(s string) (Stanza, error) {
	id, b64, ok := bytes.Cut([]byte(s), []byte(" "))
	if !ok || len(id) != 16 || !isLowerHex(id) {
		return Stanza{}, errors.New("recipient line: not a 16-hex-digit key id")
	}
	w, err := base64.StdEncoding.DecodeString(string(b64))
	if err != nil || len(w) == 0 || len(w) > maxWrappedSize || base64.StdEncoding.EncodeToString(w) != string(b64) {
		return Stanza{}, errors.New("recipient line: wrapped keys are not canonical base64 of at most 512 bytes")
	}
	return Stanza{KeyID: string(id), Wrapped: w}, nil
}

func isLowerHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// objectWriter encrypts into an sm object.
//
// SM4-CTR and HMAC-SM3 each read every byte once and take about as long
// (gmsm: both near 375 MB/s on one core, AMD EPYC family 25), so the MAC of
// one chunk runs on another goroutine while the next chunk is encrypted
// (BenchmarkEncrypt/sm on two cores: 187 MB/s one after the other, 317
// at once; BenchmarkDecrypt/sm 181 and 300).
type objectWriter struct {
	dst  io.Writer
	ctr  cipher.Stream
	mac  hash.Hash
	bufs [2][]byte // the chunk being encrypted, and the one its MAC may still read
	cur  int
	err  error // sticky
	// macDone is closed when the MAC has taken the last chunk handed to it
	// (nil: none is pending).
	macDone chan struct{}
}

func newObjectWriter(dst io.Writer, to []sm2Recipient) (*objectWriter, error) {
	keys := make([]byte, encKeySize+macKeySize)
	iv := make([]byte, ivSize)
	if _, err := rand.Read(keys); err != nil {
		return nil, err
	}
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	var hdr bytes.Buffer
	hdr.WriteString(objectMagic + "\n")
	for _, r := range to {
		w, err := sm2.Encrypt(rand.Reader, r.pub, keys, sm2.ASN1EncrypterOpts)
		if err != nil {
			return nil, fmt.Errorf("sm2: wrap the data key to %s: %w", r, err)
		}
		fmt.Fprintf(&hdr, "sm2 %s %s\n", r.id, base64.StdEncoding.EncodeToString(w))
	}
	fmt.Fprintf(&hdr, "iv %s\n%s\n", hex.EncodeToString(iv), headerEnd)
	w, err := newCipherStream(keys, iv)
	if err != nil {
		return nil, err
	}
	w.dst = dst
	clear(keys)
	w.mac.Write(hdr.Bytes())
	if _, err := dst.Write(hdr.Bytes()); err != nil {
		return nil, err
	}
	return w, nil
}

// newCipherStream sets up SM4-CTR and HMAC-SM3 from the 48 key bytes.
// cipher.NewCTR takes gmsm's own CTR (AES-NI and AVX2 on amd64) when the
// block offers it: gmsm's fastest SM4 path that `openssl enc` can undo.
func newCipherStream(keys, iv []byte) (*objectWriter, error) {
	block, err := sm4.NewCipher(keys[:encKeySize])
	if err != nil {
		return nil, fmt.Errorf("sm4: %w", err)
	}
	return &objectWriter{
		ctr: cipher.NewCTR(block, iv),
		mac: hmac.New(sm3.New, keys[encKeySize:]),
	}, nil
}

func (w *objectWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if w.bufs[w.cur] == nil {
			w.bufs[w.cur] = make([]byte, chunkSize)
		}
		c := w.bufs[w.cur][:min(len(p), chunkSize)]
		w.ctr.XORKeyStream(c, p[:len(c)])
		w.waitMAC() // the MAC takes the chunks in order
		w.startMAC(c)
		if _, err := w.dst.Write(c); err != nil {
			w.waitMAC()
			w.err = err
			return n, err
		}
		w.cur ^= 1 // c stays untouched until its MAC is done
		n += len(c)
		p = p[len(c):]
	}
	return n, nil
}

// startMAC hands ciphertext to the MAC on a goroutine of its own; c must
// not change until waitMAC returns. A small piece (a caller's small write,
// an object's last bytes) is MACed at once: a hand-off would cost more.
func (w *objectWriter) startMAC(c []byte) {
	if len(c) < macAsideMin {
		w.mac.Write(c)
		return
	}
	done := make(chan struct{})
	w.macDone = done
	go func() {
		w.mac.Write(c)
		close(done)
	}()
}

func (w *objectWriter) waitMAC() {
	if w.macDone != nil {
		<-w.macDone
		w.macDone = nil
	}
}

// Close writes the tag. It does not close dst.
func (w *objectWriter) Close() error {
	w.waitMAC()
	if w.err != nil {
		return w.err
	}
	w.err = errors.New("sm: write after close")
	_, err := w.dst.Write(w.mac.Sum(nil))
	return err
}

// objectReader decrypts an sm object. It holds back the last TagSize
// bytes it has read, since they may be the tag, and releases the final
// chunk only after the tag matched: a truncated or damaged object ends in
// an error wrapping ErrIntegrity, never in a clean io.EOF.
type objectReader struct {
	src   io.Reader
	c     *objectWriter // its ctr and mac
	buf   []byte        // ciphertext
	n     int           // bytes in buf
	held  int           // buf[held:n] is held back
	plain []byte        // what release decrypted; out is the rest of it
	out   []byte
	err   error
}

func newObjectReader(src io.Reader, keys []*sm2.PrivateKey) (*objectReader, error) {
	t := &tracked{r: src}
	br := bufio.NewReaderSize(t, chunkSize)
	h, raw, err := readHeader(br)
	if err != nil {
		return nil, t.classify(fmt.Errorf("sm header: %w", err))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("sm: %w: no SM2 private key given", ErrNoIdentity)
	}
	var c *objectWriter
	for _, k := range keys {
		id, err := sm2KeyID(&k.PublicKey)
		if err != nil {
			return nil, err
		}
		for _, s := range h.Recipients {
			if s.KeyID != id {
				continue
			}
			kb, err := sm2.Decrypt(k, s.Wrapped)
			if err != nil || len(kb) != encKeySize+macKeySize {
				return nil, fmt.Errorf("sm header: %w: the data key wrapped to sm2:%s does not open with that key", ErrIntegrity, id)
			}
			c, err = newCipherStream(kb, h.IV[:])
			clear(kb)
			if err != nil {
				return nil, err
			}
			break
		}
		if c != nil {
			break
		}
	}
	if c == nil {
		ids := make([]string, len(h.Recipients))
		for i, s := range h.Recipients {
			ids[i] = "sm2:" + s.KeyID
		}
		return nil, fmt.Errorf("sm: %w: the object is for %v", ErrNoIdentity, ids)
	}
	c.mac.Write(raw)
	return &objectReader{src: br, c: c, buf: make([]byte, chunkSize+TagSize), plain: make([]byte, chunkSize)}, nil
}

func (r *objectReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// fill reads the next chunk and decrypts what is certainly not the tag.
func (r *objectReader) fill() {
	r.n = copy(r.buf, r.buf[r.held:r.n])
	m, err := io.ReadFull(r.src, r.buf[r.n:])
	r.n += m
	switch err {
	case nil:
		r.release(r.n - TagSize)
	case io.EOF, io.ErrUnexpectedEOF:
		if r.n < TagSize {
			r.err = fmt.Errorf("sm: %w: the object ends before its %d-byte tag (truncated)", ErrIntegrity, TagSize)
			return
		}
		r.release(r.n - TagSize)
		if subtle.ConstantTimeCompare(r.c.mac.Sum(nil), r.buf[r.n-TagSize:r.n]) != 1 {
			r.out = nil
			r.err = fmt.Errorf("sm: %w: HMAC-SM3 tag does not match (the object is damaged or truncated)", ErrIntegrity)
			return
		}
		r.err = io.EOF
	default:
		r.err = err
	}
}

// release decrypts buf[:k] into plain while the MAC takes the same bytes
// on another goroutine (see objectWriter).
func (r *objectReader) release(k int) {
	ct := r.buf[:k]
	r.c.startMAC(ct)
	r.out = r.plain[:k]
	r.c.ctr.XORKeyStream(r.out, ct)
	r.c.waitMAC()
	r.held = k
}

// tracked remembers the first error its reader returned other than EOF,
// so that a failure can be told apart: the source's (transport) or the
// bytes' (integrity).
type tracked struct {
	r   io.Reader
	err error
}

func (t *tracked) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// classify returns err as a transport error when the source failed, and
// as an integrity failure otherwise.
func (t *tracked) classify(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if t.err != nil {
		if errors.Is(err, t.err) {
			return err
		}
		return fmt.Errorf("%w (then: %v)", t.err, err)
	}
	return fmt.Errorf("%w: %w", ErrIntegrity, err)
}
