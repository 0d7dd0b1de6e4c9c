package suite

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"golang.org/x/mod/sumdb/note"
)

// Fuzz targets for every parser of untrusted bytes in the package: the sm
// object (header and body), key files, and SM2-signed notes. make test runs
// them over their seeds.

func FuzzParseHeader(f *testing.F) {
	r, _ := keyPair(f, SM)
	obj := seal(f, SM, []byte("select 1;"), r)
	f.Add(obj)
	f.Add(obj[:len(obj)/2])
	f.Add([]byte("atrest-sm/v1\nsm2 0123456789abcdef QUJD\niv 00112233445566778899aabbccddeeff\n---\n"))
	f.Add([]byte("atrest-sm/v1\n---\n"))
	f.Fuzz(func(t *testing.T, head []byte) {
		h, err := ParseHeader(head)
		if err != nil {
			return
		}
		if h.Len > len(head) || len(h.Recipients) == 0 || len(h.Recipients) > maxRecipients ||
			!bytes.HasSuffix(head[:h.Len], []byte("\n---\n")) || !IsObject(head) {
			t.Fatalf("accepted a header it should not: %+v", h)
		}
	})
}

// FuzzDecrypt feeds arbitrary objects to the sm reader with a fixed key: it
// must never panic, never return more bytes than the object holds, and
// never end cleanly on bytes the key's tag does not cover.
func FuzzDecrypt(f *testing.F) {
	k, err := sm2.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 4096)))
	if err != nil {
		f.Fatal(err)
	}
	rcp, err := newSM2Recipient(&k.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	id := sm2Identity{k}
	good := seal(f, SM, []byte("CREATE TABLE t (id INT);\n"), rcp)
	h, err := ParseHeader(good)
	if err != nil {
		f.Fatal(err)
	}
	hl := h.Len
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(append(bytes.Clone(good), 'x'))
	f.Add(seal(f, SM, nil, rcp))
	f.Fuzz(func(t *testing.T, obj []byte) {
		r, err := SM.Decrypt(bytes.NewReader(obj), []Identity{id})
		if err != nil {
			if !errors.Is(err, ErrIntegrity) && !errors.Is(err, ErrNoIdentity) {
				t.Fatalf("header error of no class: %v", err)
			}
			return
		}
		got, err := io.ReadAll(r)
		if len(got) > len(obj) {
			t.Fatalf("%d bytes out of a %d-byte object", len(got), len(obj))
		}
		// Under the good header the keys are the good ones, so only the
		// good body and tag can pass.
		if err == nil && len(obj) >= hl && bytes.Equal(obj[:hl], good[:hl]) && !bytes.Equal(obj, good) {
			t.Fatal("a changed object decrypted cleanly")
		}
		if err != nil && !errors.Is(err, ErrIntegrity) {
			t.Fatalf("body error of no class: %v", err)
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	priv, _ := SM.NewSigningKey()
	k, _ := ParseSigningKey(priv)
	pub, _ := MarshalPublicKey(&k.(*sm2.PrivateKey).PublicKey)
	std, _ := Standard.NewSigningKey()
	f.Add(priv)
	f.Add(pub)
	f.Add(std)
	f.Add([]byte("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"))
	f.Add([]byte("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n"))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	f.Add(bytes.Replace(priv, []byte("PRIVATE KEY"), []byte("EC PRIVATE KEY"), 2))
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := ParseSigningKey(data); err == nil {
			if _, err := Of(k); err != nil {
				t.Fatalf("parsed a signing key of no suite: %v", err)
			}
			if sig, err := Sign(k, []byte("m")); err != nil || !Verify(k.Public(), []byte("m"), sig) {
				t.Fatalf("parsed a signing key that does not sign: %v", err)
			}
		}
		if p, err := ParsePublicKey(data); err == nil && !sm2.IsSM2PublicKey(p) {
			t.Fatal("parsed a public key that is not SM2")
		}
		if r, err := ParseRecipient(data); err == nil && r.Suite() == nil {
			t.Fatal("recipient of no suite")
		}
		if ids, err := ParseIdentities(data); err == nil {
			for _, id := range ids {
				if id.Suite() == nil {
					t.Fatal("identity of no suite")
				}
			}
		}
	})
}

// FuzzOpenNote opens arbitrary notes with an SM2 verifier: only a note
// whose signature verifies may come back.
func FuzzOpenNote(f *testing.F) {
	k, err := sm2.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{9}, 4096)))
	if err != nil {
		f.Fatal(err)
	}
	s, _ := NoteSigner("atrest.journal/h", k)
	v, _ := NoteVerifier("atrest.journal/h", &k.PublicKey)
	signed, err := note.Sign(&note.Note{Text: "atrest.journal/h\n3\nAAAA\n"}, s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("atrest.journal/h\n10\nAAAA\n\n— atrest.journal/h AAAAAAA=\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		n, err := note.Open(msg, note.VerifierList(v))
		if err != nil {
			return
		}
		if len(n.Sigs) == 0 || !Verify(&k.PublicKey, []byte(n.Text), mustSig(t, n.Sigs[0].Base64)) {
			t.Fatalf("opened a note whose signature does not verify: %q", msg)
		}
	})
}

func mustSig(t *testing.T, b64 string) []byte {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(sig) < 5 {
		t.Fatalf("signature %q: %v", b64, err)
	}
	return sig[4:]
}
