package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestClassifyValue(t *testing.T) {
	id := "11010519491231002X"
	sum := sha256.Sum256([]byte(id))
	s1 := sha1.Sum([]byte(id))
	s5 := sha512.Sum512([]byte(id))
	m5 := md5.Sum([]byte(id))
	for _, c := range []struct {
		in   string
		want Shape
	}{
		// masked
		{"138****5678", ShapeMasked},
		{"110***********1234", ShapeMasked},
		{"110***********123X", ShapeMasked},
		{"140********8974", ShapeMasked},
		{"622202******1234", ShapeMasked},
		{"**************1234", ShapeMasked},
		{"1381234****", ShapeMasked},
		{"138××××5678", ShapeMasked},
		{"138####5678", ShapeMasked},
		{"138xxxx5678", ShapeMasked},
		{"１３８＊＊＊＊５６７８", ShapeMasked},
		{"zh***@qq.com", ShapeMasked},
		{"+86 138****5678", ShapeMasked},
		{"138 **** 5678", ShapeMasked},
		// hashed
		{hex.EncodeToString(sum[:]), ShapeHashed},
		{strings.ToUpper(hex.EncodeToString(sum[:])), ShapeHashed},
		{hex.EncodeToString(s1[:]), ShapeHashed},
		{hex.EncodeToString(s5[:]), ShapeHashed},
		{hex.EncodeToString(m5[:]), ShapeHashed},
		{hex.EncodeToString(s5[:48]), ShapeHashed},  // sha384 length
		{hex.EncodeToString(sum[:28]), ShapeHashed}, // sha224 length
		{"sha256:" + hex.EncodeToString(sum[:]), ShapeHashed},
		{"sha256$" + hex.EncodeToString(sum[:]), ShapeHashed},
		{"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", ShapeHashed},
		{"$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", ShapeHashed},
		{base64.StdEncoding.EncodeToString(sum[:]), ShapeHashed},
		// encrypted
		{base64.StdEncoding.EncodeToString(gcm(t, id)), ShapeEncrypted},
		{base64.URLEncoding.EncodeToString(gcm(t, "13812345678")), ShapeEncrypted},
		{base64.RawStdEncoding.EncodeToString(gcm(t, "6222021234567890123")), ShapeEncrypted},
		{"O7wLTy0/CuhSr834TV8T8HgmZWokPvPGZq5K0ZW658Wi+MWIDS9R/QH7I3GjOVw=", ShapeEncrypted},
		{string(aesECB(t, id)), ShapeEncrypted},            // MySQL AES_ENCRYPT, 32 bytes
		{string(aesECB(t, "13812345678")), ShapeEncrypted}, // 16 bytes
		{string(gcm(t, id)), ShapeEncrypted},               // raw AEAD output, 46 bytes
		{hex.EncodeToString(gcm(t, id)), ShapeEncrypted},   // hex, 46 bytes
		{"age-encryption.org/v1\n-> X25519 abc\n", ShapeEncrypted},
		{"-----BEGIN PGP MESSAGE-----\n\nhQEMA...\n", ShapeEncrypted},
		{"vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w==", ShapeEncrypted},
		{"enc:v2:" + base64.StdEncoding.EncodeToString(gcm(t, id)), ShapeEncrypted},
		{"kms1$" + hex.EncodeToString(gcm(t, id)), ShapeEncrypted},
		{"note: " + hex.EncodeToString(gcm(t, id)), ShapeOther}, // a label has no space
		{"commit " + hex.EncodeToString(s1[:]) + " fixed", ShapeOther},
		// other
		{"", ShapeOther},
		{"梁欣萍", ShapeOther},
		{"张*", ShapeOther},
		{"Zhang San", ShapeOther},
		{"13812345678", ShapeOther},
		{"+86 138 1234 5678", ShapeOther},
		{id, ShapeOther},
		{"110105194912310021", ShapeOther},
		{"6222021234567890123", ShapeOther},
		{"91330106MA2CFXXX0P", ShapeOther},
		{"yvajud441@qq.com", ShapeOther},
		{"ok", ShapeOther},
		{"***", ShapeOther},
		{"******", ShapeOther},
		{"a ** b", ShapeOther},
		{"see note *important* 2024", ShapeOther},
		{"5*3=15", ShapeOther},
		{base64.StdEncoding.EncodeToString([]byte("hello")), ShapeOther},
		{base64.StdEncoding.EncodeToString([]byte("the quick brown fox jumps over the lazy dog")), ShapeOther},
		{"ThisIsAVeryLongIdentifierName", ShapeOther},
		{"12345678901234567890123456789012", ShapeOther}, // 32 digits, no hex letter
		{"550e8400-e29b-41d4-a716-446655440000", ShapeOther},
		{"550e8400e29b41d4a716446655440000", ShapeOther}, // uuid v4 without dashes
		{"trace 120***********1234 ok", ShapeOther},      // masked token inside text
		{`{"idNo": "650102195707121634", "lvl": 3}`, ShapeOther},
		{"1732456789012", ShapeOther},
		{"0755-56719060", ShapeOther},
		{"202611217796696246", ShapeOther},
		{"\x1f\x8b\x08\x00" + strings.Repeat("\x93\x11\xfe\x07", 8), ShapeOther},                 // gzip
		{"\xd5\xc5\xc8\xfd\xb5\xc4\xc9\xed\xb7\xdd\xd6\xa4\xba\xc5\xc2\xeb\xca\xc7", ShapeOther}, // GBK text
		{strings.Repeat("\x00\x01", 20), ShapeOther},                                             // low entropy binary
	} {
		if got := ClassifyValue(c.in); got != c.want {
			t.Errorf("ClassifyValue(%q) = %v (%s), want %v", abbrev(c.in), got, Classify(c.in).Reason, c.want)
		}
	}
}

// TestClassifyRandomCiphertext checks the shape rules hold for many
// ciphertexts, not for one lucky value: a verdict counts a whole column.
func TestClassifyRandomCiphertext(t *testing.T) {
	miss := 0
	for i := range 1000 {
		pt := strings.Repeat("9", 11+i%9)
		if ClassifyValue(base64.StdEncoding.EncodeToString(gcm(t, pt))) != ShapeEncrypted {
			miss++
		}
	}
	// 11–19 byte plaintexts give 39–47 byte GCM outputs: no digest length.
	// The character-mix rule may lose a value now and then, never many.
	if miss > 10 {
		t.Fatalf("%d of 1000 base64 ciphertexts not classified encrypted", miss)
	}
	miss = 0
	for range 1000 {
		b := make([]byte, 16) // AES_ENCRYPT of a phone number
		rand.Read(b)
		if ClassifyValue(string(b)) != ShapeEncrypted {
			miss++
		}
	}
	if miss > 10 {
		t.Fatalf("%d of 1000 16-byte binary ciphertexts not classified encrypted", miss)
	}
	miss = 0
	for range 1000 {
		b := make([]byte, 32)
		rand.Read(b)
		if ClassifyValue(hex.EncodeToString(b)) != ShapeHashed {
			miss++
		}
	}
	if miss > 50 { // uuid-like values: 1 in 32
		t.Fatalf("%d of 1000 hex digests not classified hashed", miss)
	}
}

func TestClassifyReasonHasNoValue(t *testing.T) {
	for _, v := range []string{"138****5678", "11010519491231002X", base64.StdEncoding.EncodeToString(gcm(t, "11010519491231002X"))} {
		if why := Classify(v).Reason; strings.Contains(why, v) || strings.Contains(why, "1381") {
			t.Errorf("reason %q repeats the value", why)
		}
	}
}

func gcm(t testing.TB, pt string) []byte {
	key := make([]byte, 16)
	rand.Read(key)
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := cipher.NewGCM(b)
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, []byte(pt), nil)
}

// aesECB is what MySQL's AES_ENCRYPT returns: AES-128-ECB, PKCS#7 padding.
func aesECB(t testing.TB, pt string) []byte {
	key := make([]byte, 16)
	rand.Read(key)
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	p := 16 - len(pt)%16
	in := append([]byte(pt), []byte(strings.Repeat(string(rune(p)), p))...)
	out := make([]byte, len(in))
	for i := 0; i < len(in); i += 16 {
		b.Encrypt(out[i:], in[i:i+16])
	}
	return out
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"138****5678", "$2b$10$abc", "age-encryption.org/v1\n", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Classify(s)
		sh, why := c.Shape, c.Reason
		if sh == ShapeOther && why != "" && !strings.HasSuffix(why, "data") && why != "GB18030 text" {
			t.Fatalf("other with reason %q", why)
		}
		if len(s) >= 8 && why != "" && strings.Contains(why, s) {
			t.Fatalf("reason repeats the value")
		}
	})
}

// TestTailBlock: AES-ECB of IDs sharing their last two characters share the
// last block; digests do not.
func TestTailBlock(t *testing.T) {
	key := make([]byte, 16)
	rand.Read(key)
	ecb := func(pt string) []byte {
		b, _ := aes.NewCipher(key)
		p := 16 - len(pt)%16
		in := append([]byte(pt), []byte(strings.Repeat(string(rune(p)), p))...)
		out := make([]byte, len(in))
		for i := 0; i < len(in); i += 16 {
			b.Encrypt(out[i:], in[i:i+16])
		}
		return out
	}
	a := Classify(strings.ToUpper(hex.EncodeToString(ecb("110105194912310021"))))
	b := Classify(strings.ToUpper(hex.EncodeToString(ecb("310104198001010021"))))
	if a.Shape != ShapeHashed || a.TailBlock == 0 || a.TailBlock != b.TailBlock {
		t.Fatalf("ECB tails %x %x (%v)", a.TailBlock, b.TailBlock, a.Shape)
	}
	s1, s2 := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	if x, y := Classify(hex.EncodeToString(s1[:])), Classify(hex.EncodeToString(s2[:])); x.TailBlock == y.TailBlock {
		t.Fatal("digests share a tail block")
	}
	if c := Classify(base64.StdEncoding.EncodeToString(ecb("13812345678"))); c.TailBlock != 0 {
		t.Fatal("one block has no tail to compare")
	}
}
