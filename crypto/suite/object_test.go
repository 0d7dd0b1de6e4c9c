package suite

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/emmansun/gmsm/sm2"
)

// keyPair returns a recipient and the identity that opens it, made and
// parsed the way key files are.
func keyPair(t testing.TB, s Suite) (Recipient, Identity) {
	t.Helper()
	var pub, priv []byte
	switch s {
	case Standard:
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		pub, priv = []byte(id.Recipient().String()), []byte(id.String()+"\n")
	case SM:
		var err error
		if priv, err = SM.NewSigningKey(); err != nil {
			t.Fatal(err)
		}
		k, _ := ParseSigningKey(priv)
		pub, _ = MarshalPublicKey(&k.(*sm2.PrivateKey).PublicKey)
	}
	r, err := ParseRecipient(pub)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ParseIdentities(priv)
	if err != nil || len(ids) != 1 {
		t.Fatal(err)
	}
	return r, ids[0]
}

func seal(t testing.TB, s Suite, plain []byte, to ...Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := s.Encrypt(&buf, to)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes, to cross chunk boundaries in every way.
	for p := plain; len(p) > 0; {
		n := min(len(p), 7777)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(s Suite, obj []byte, ids ...Identity) ([]byte, error) {
	r, err := s.Decrypt(bytes.NewReader(obj), ids)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

var suites = []Suite{Standard, SM}

// Both suites keep the same contract: round trips of every size, several
// recipients, the key failure class for a wrong key, the integrity class
// for damage and truncation, and a transport error kept as such.
func TestSuitesRoundTrip(t *testing.T) {
	for _, s := range suites {
		t.Run(s.Name(), func(t *testing.T) {
			r1, id1 := keyPair(t, s)
			r2, id2 := keyPair(t, s)
			_, stranger := keyPair(t, s)
			for _, n := range []int{0, 1, TagSize - 1, TagSize, TagSize + 1, chunkSize - TagSize, chunkSize,
				chunkSize + 1, 3*chunkSize + 17, 1 << 20} {
				plain := randBytes(n)
				obj := seal(t, s, plain, r1, r2)
				for _, id := range []Identity{id1, id2} {
					got, err := open(s, obj, stranger, id)
					if err != nil || !bytes.Equal(got, plain) {
						t.Fatalf("%d bytes: %v", n, err)
					}
				}
				if _, err := open(s, obj, stranger); !errors.Is(err, ErrNoIdentity) {
					t.Fatalf("%d bytes, wrong key: %v", n, err)
				}
			}
		})
	}
}

func TestSuitesCatchDamage(t *testing.T) {
	for _, s := range suites {
		t.Run(s.Name(), func(t *testing.T) {
			r, id := keyPair(t, s)
			plain := randBytes(200000)
			obj := seal(t, s, plain, r)
			hdr := bytes.Index(obj, []byte("\n---")) + 4
			if s == Standard {
				hdr = bytes.Index(obj, []byte("\n--- ")) + 1
				hdr += bytes.IndexByte(obj[hdr:], '\n') + 1
			}
			for _, at := range []int{len(obj) - 1, len(obj) - TagSize, len(obj) - TagSize - 1, hdr, hdr + 70000, len(obj) / 2} {
				bad := bytes.Clone(obj)
				bad[at] ^= 0x04
				if _, err := open(s, bad, id); !errors.Is(err, ErrIntegrity) {
					t.Errorf("flipped byte at %d of %d (header %d): %v", at, len(obj), hdr, err)
				}
			}
			// A flip in the header is caught one way or the other.
			for at := 0; at < hdr; at += 7 {
				bad := bytes.Clone(obj)
				bad[at] ^= 0x01
				if _, err := open(s, bad, id); !errors.Is(err, ErrIntegrity) && !errors.Is(err, ErrNoIdentity) {
					t.Fatalf("flipped header byte %d: %v", at, err)
				}
			}
			for _, n := range []int{0, 10, hdr - 1, hdr, hdr + 1, hdr + TagSize, len(obj) - TagSize, len(obj) - 1} {
				if _, err := open(s, obj[:n], id); !errors.Is(err, ErrIntegrity) {
					t.Errorf("truncated to %d of %d: %v", n, len(obj), err)
				}
			}
			if _, err := open(s, append(bytes.Clone(obj), 0), id); !errors.Is(err, ErrIntegrity) {
				t.Errorf("a byte appended: %v", err)
			}
		})
	}
}

// failAfter reads n bytes of r and then fails like a dropped connection.
type failAfter struct {
	r io.Reader
	n int
}

var errDropped = errors.New("connection reset by peer")

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDropped
	}
	n, err := f.r.Read(p[:min(len(p), f.n)])
	f.n -= n
	return n, err
}

func TestSuitesKeepTransportErrors(t *testing.T) {
	for _, s := range suites {
		t.Run(s.Name(), func(t *testing.T) {
			r, id := keyPair(t, s)
			obj := seal(t, s, randBytes(300000), r)
			for _, n := range []int{5, 100000} {
				dr, err := s.Decrypt(&failAfter{bytes.NewReader(obj), n}, []Identity{id})
				if err == nil {
					_, err = io.ReadAll(dr)
				}
				if !errors.Is(err, errDropped) || errors.Is(err, ErrIntegrity) {
					t.Errorf("source failed after %d bytes: %v", n, err)
				}
			}
		})
	}
}

func TestSuitesRefuseOtherKeys(t *testing.T) {
	ageR, ageID := keyPair(t, Standard)
	smR, smID := keyPair(t, SM)
	if _, err := SM.Encrypt(io.Discard, []Recipient{smR, ageR}); err == nil || !strings.Contains(err.Error(), "recipient 2 is a key of suite standard, not sm") {
		t.Errorf("sm with an age recipient: %v", err)
	}
	if _, err := Standard.Encrypt(io.Discard, []Recipient{smR}); err == nil || !strings.Contains(err.Error(), "recipient 1 is a key of suite sm, not standard") {
		t.Errorf("standard with an SM2 recipient: %v", err)
	}
	if _, err := SM.Encrypt(io.Discard, nil); err == nil {
		t.Error("sm with no recipient")
	}
	// An age object given to the sm suite, and the reverse.
	if _, err := open(SM, seal(t, Standard, []byte("x"), ageR), smID); !errors.Is(err, ErrIntegrity) {
		t.Errorf("age object opened as sm: %v", err)
	}
	if _, err := open(Standard, seal(t, SM, []byte("x"), smR), ageID); !errors.Is(err, ErrIntegrity) {
		t.Errorf("sm object opened as age: %v", err)
	}
	if _, err := open(SM, seal(t, SM, []byte("x"), smR), ageID); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("sm object with only an age identity: %v", err)
	}
}

// The sm writer MACs a big chunk on another goroutine while it encrypts
// the next: writes of every size, big and small in turn, must give the
// object that one write of the whole does (the MAC takes the chunks in
// order, and none changes before its MAC is done), and a failed write
// must stop the object with its error, tag unwritten.
func TestSMWriterPieces(t *testing.T) {
	r, id := keyPair(t, SM)
	sizes := []int{1, macAsideMin, 7, chunkSize + 5, macAsideMin - 1, 3 * chunkSize, 100, 2*chunkSize - 1, macAsideMin + 1}
	total := 0
	for _, n := range sizes {
		total += n
	}
	plain := randBytes(total)
	var obj bytes.Buffer
	w, err := SM.Encrypt(&obj, []Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	for p, i := plain, 0; len(p) > 0; i++ {
		n := sizes[i]
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := open(SM, obj.Bytes(), id); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("written in pieces of %v: %v", sizes, err)
	}

	for _, after := range []int{0, chunkSize / 2, 2*chunkSize + 3} {
		dst := &failingWriter{room: 1 << 20} // the header goes through
		w, err := SM.Encrypt(dst, []Recipient{r})
		if err != nil {
			t.Fatal(err)
		}
		dst.room = dst.n + after
		_, werr := w.Write(plain)
		cerr := w.Close()
		if !errors.Is(werr, errDiskFull) || !errors.Is(cerr, errDiskFull) {
			t.Errorf("dst failing after %d bytes of ciphertext: Write %v, Close %v", after, werr, cerr)
		}
		if dst.n > dst.room {
			t.Errorf("dst failing after %d bytes: %d bytes written past the failure", after, dst.n-dst.room)
		}
	}
}

var errDiskFull = errors.New("no space left on device")

// failingWriter takes room bytes, then fails every write.
type failingWriter struct{ n, room int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.room {
		return 0, errDiskFull
	}
	f.n += len(p)
	return len(p), nil
}

func TestObjectLayout(t *testing.T) {
	r1, _ := keyPair(t, SM)
	r2, _ := keyPair(t, SM)
	plain := randBytes(1000)
	obj := seal(t, SM, plain, r1, r2)
	if !IsObject(obj) {
		t.Fatal("IsObject is false on an sm object")
	}
	h, err := ParseHeader(obj)
	if err != nil {
		t.Fatal(err)
	}
	if len(obj) != h.Len+len(plain)+TagSize {
		t.Errorf("object of %d bytes: header %d + plaintext %d + tag %d", len(obj), h.Len, len(plain), TagSize)
	}
	if len(h.Recipients) != 2 || "sm2:"+h.Recipients[0].KeyID != r1.String() || "sm2:"+h.Recipients[1].KeyID != r2.String() {
		t.Errorf("recipients %+v, want %s %s", h.Recipients, r1, r2)
	}
	lines := strings.Split(string(obj[:h.Len]), "\n")
	if len(lines) != 6 || lines[0] != "atrest-sm/v1" || !strings.HasPrefix(lines[3], "iv ") || lines[4] != "---" {
		t.Errorf("header lines %q", lines)
	}
	// Two objects never share a data key or an IV.
	h2, _ := ParseHeader(seal(t, SM, plain, r1))
	if h2.IV == h.IV || bytes.Equal(h2.Recipients[0].Wrapped, h.Recipients[0].Wrapped) {
		t.Error("a second object reuses the IV or the wrapped key")
	}
}

func TestParseHeaderRefuses(t *testing.T) {
	w := strings.Repeat("QUJD", 40)
	iv := "iv 00112233445566778899aabbccddeeff\n"
	good := "atrest-sm/v1\nsm2 0123456789abcdef " + w + "\n" + iv + "---\n"
	if _, err := ParseHeader([]byte(good)); err != nil {
		t.Fatalf("good header: %v", err)
	}
	for name, h := range map[string]string{
		"other magic":       "atrest-sm/v2\nsm2 0123456789abcdef " + w + "\n" + iv + "---\n",
		"no recipient":      "atrest-sm/v1\n" + iv + "---\n",
		"no iv":             "atrest-sm/v1\nsm2 0123456789abcdef " + w + "\n---\n",
		"two ivs":           "atrest-sm/v1\nsm2 0123456789abcdef " + w + "\n" + iv + iv + "---\n",
		"recipient after":   "atrest-sm/v1\n" + iv + "sm2 0123456789abcdef " + w + "\n---\n",
		"upper-case key id": "atrest-sm/v1\nsm2 0123456789ABCDEF " + w + "\n" + iv + "---\n",
		"short key id":      "atrest-sm/v1\nsm2 0123 " + w + "\n" + iv + "---\n",
		"bad base64":        "atrest-sm/v1\nsm2 0123456789abcdef QUJ*\n" + iv + "---\n",
		"unknown line":      "atrest-sm/v1\nsm2 0123456789abcdef " + w + "\nx25519 a b\n" + iv + "---\n",
		"short iv":          "atrest-sm/v1\nsm2 0123456789abcdef " + w + "\niv 0011\n---\n",
		"no end":            "atrest-sm/v1\nsm2 0123456789abcdef " + w + "\n" + iv,
		"long line":         "atrest-sm/v1\nsm2 0123456789abcdef " + strings.Repeat("QUJD", 400) + "\n" + iv + "---\n",
		"crlf":              "atrest-sm/v1\r\nsm2 0123456789abcdef " + w + "\n" + iv + "---\n",
		"too many":          "atrest-sm/v1\n" + strings.Repeat("sm2 0123456789abcdef "+w+"\n", maxRecipients+1) + iv + "---\n",
	} {
		if _, err := ParseHeader([]byte(h)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Layout gives, without a key, the recipient count and the object size of
// both suites exactly, and refuses a header of the other suite.
func TestLayout(t *testing.T) {
	for _, s := range suites {
		t.Run(s.Name(), func(t *testing.T) {
			r1, _ := keyPair(t, s)
			r2, _ := keyPair(t, s)
			for _, n := range []int{0, 1, ageChunk - 1, ageChunk, ageChunk + 1, 3*ageChunk + 5} {
				obj := seal(t, s, randBytes(n), r1, r2)
				head := obj[:min(len(obj), 4096)]
				rcp, size, err := s.Layout(head, int64(n))
				if err != nil || rcp != 2 || size != int64(len(obj)) {
					t.Errorf("%d bytes: %d recipients, size %d of %d: %v", n, rcp, size, len(obj), err)
				}
			}
		})
	}
	ageR, _ := keyPair(t, Standard)
	smR, _ := keyPair(t, SM)
	if _, _, err := SM.Layout(seal(t, Standard, []byte("x"), ageR), 1); err == nil {
		t.Error("sm Layout of an age object")
	}
	if _, _, err := Standard.Layout(seal(t, SM, []byte("x"), smR), 1); err == nil {
		t.Error("standard Layout of an sm object")
	}
}

func TestParseVerificationKey(t *testing.T) {
	for _, s := range suites {
		priv, err := s.NewSigningKey()
		if err != nil {
			t.Fatal(err)
		}
		k, _ := ParseSigningKey(priv)
		pem, err := MarshalPublicKey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ParseVerificationKey(pem)
		if err != nil {
			t.Fatalf("%s: %v", s.Name(), err)
		}
		if got, _ := Of(pub); got != s {
			t.Errorf("%s key parsed as %v", s.Name(), got)
		}
		msg := []byte("m")
		sig, _ := Sign(k, msg)
		if !Verify(pub, msg, sig) {
			t.Errorf("%s: signature does not verify with the parsed key", s.Name())
		}
	}
	if _, err := ParseVerificationKey([]byte("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n")); err == nil {
		t.Error("a private key block accepted")
	}
}
