package suite

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm4"
)

// The standards' own example vectors, so a library upgrade that changed an
// algorithm would fail here and not in a restore.

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// GB/T 32905-2016, Appendix A: examples 1 and 2.
func TestSM3Vectors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0"},
		{strings.Repeat("abcd", 16), "debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732"},
	} {
		got := SM.Sum([]byte(c.in))
		if !bytes.Equal(got[:], unhex(t, c.want)) {
			t.Errorf("SM3(%q) = %x", c.in, got)
		}
		h := SM.NewHash()
		h.Write([]byte(c.in))
		if !bytes.Equal(h.Sum(nil), got[:]) {
			t.Errorf("SM3 streaming differs from Sum for %q", c.in)
		}
	}
}

// GB/T 32907-2016, Appendix A: example 1 (one block) and example 2 (the
// same block encrypted 1,000,000 times).
func TestSM4Vectors(t *testing.T) {
	key := unhex(t, "01234567 89abcdef fedcba98 76543210")
	c, err := sm4.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), key...)
	c.Encrypt(b, b)
	if want := unhex(t, "681edf34 d206965e 86b3e94f 536e4246"); !bytes.Equal(b, want) {
		t.Fatalf("SM4 example 1: %x", b)
	}
	c.Decrypt(b, b)
	if !bytes.Equal(b, key) {
		t.Fatalf("SM4 example 1 decrypts to %x", b)
	}
	if testing.Short() {
		return
	}
	copy(b, key)
	for range 1000000 {
		c.Encrypt(b, b)
	}
	if want := unhex(t, "595298c7 c6fd271f 0402f804 c33d3f66"); !bytes.Equal(b, want) {
		t.Fatalf("SM4 example 2: %x", b)
	}
}

// GB/T 32918.5-2017 (GM/T 0003.5), Appendix A, on the recommended curve:
// the key pair, Z_A with ID 1234567812345678, the signature of "message
// digest" (made with a given k, so only its verification can be replayed:
// gmsm hedges k with the key and fresh randomness) and the decryption of
// the example ciphertext of "encryption standard", in the ASN.1 form.
func TestSM2Vectors(t *testing.T) {
	d := new(big.Int).SetBytes(unhex(t, "3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8"))
	priv := &sm2.PrivateKey{PrivateKey: ecdsa.PrivateKey{D: d}}
	priv.Curve = sm2.P256()
	priv.X, priv.Y = priv.Curve.ScalarBaseMult(d.Bytes())
	if got, want := fmt.Sprintf("%064x%064x", priv.X, priv.Y),
		strings.ToLower("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"+
			"CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"); got != want {
		t.Fatalf("public key %s", got)
	}
	za, err := sm2.CalculateZA(&priv.PublicKey, []byte(SignerID))
	if err != nil || !bytes.Equal(za, unhex(t, "B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3")) {
		t.Fatalf("Z_A %x %v", za, err)
	}
	r := unhex(t, "F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3")
	s := unhex(t, "B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA")
	sig := derSignature(r, s)
	if !Verify(&priv.PublicKey, []byte("message digest"), sig) {
		t.Fatal("the standard's signature does not verify")
	}
	if Verify(&priv.PublicKey, []byte("message digesT"), sig) {
		t.Fatal("the standard's signature verifies another message")
	}
	if mine, err := Sign(priv, []byte("message digest")); err != nil || !Verify(&priv.PublicKey, []byte("message digest"), mine) {
		t.Fatalf("sign with the standard's key: %v", err)
	}

	ct := unhex(t, "307c0220 04EBFC71 8E8D1798 62043226 8E77FEB6 415E2EDE 0E073C0F 4F640ECD 2E149A73"+
		"022100E8 58F9D81E 5430A57B 36DAAB8F 950A3C64 E6EE6A63 094D9928 3AFF767E 124DF0"+
		"0420 59983C18 F809E262 923C53AE C295D303 83B54E39 D609D160 AFCB1908 D0BD8766"+
		"0413 21886CA9 89CA9C7D 58087307 CA93092D 651EFA")
	pt, err := sm2.Decrypt(priv, ct)
	if err != nil || string(pt) != "encryption standard" {
		t.Fatalf("decrypt the standard's ciphertext: %q %v", pt, err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := sm2.Decrypt(priv, ct); err == nil {
		t.Fatal("a flipped ciphertext bit decrypts")
	}
}

// derSignature encodes r and s as the ASN.1 SEQUENCE of two INTEGERs.
func derSignature(r, s []byte) []byte {
	integer := func(b []byte) []byte {
		b = bytes.TrimLeft(b, "\x00")
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{0x02, byte(len(b))}, b...)
	}
	body := append(integer(r), integer(s)...)
	return append([]byte{0x30, byte(len(body))}, body...)
}
