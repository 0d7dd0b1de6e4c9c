package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"unicode/utf8"
)

// Shape is what a stored value looks like when it is not a plaintext
// identifier: masked, hashed or encrypted. Scanners count shapes over a
// column's sample; one value alone proves little.
type Shape int

const (
	ShapeOther     Shape = iota // none of the below: plaintext, free text, numbers …
	ShapeMasked                 // 138****5678, 110***********1234, zh***@qq.com
	ShapeHashed                 // hex digest of a hash length, bcrypt/argon2 strings
	ShapeEncrypted              // base64/hex/binary ciphertext, age/PGP armour
)

func (s Shape) String() string {
	switch s {
	case ShapeMasked:
		return "masked"
	case ShapeHashed:
		return "hashed"
	case ShapeEncrypted:
		return "encrypted"
	}
	return "other"
}

// ClassifyValue says whether one stored value is masked, hashed or encrypted,
// or none of these. It never returns or keeps the value.
func ClassifyValue(s string) Shape { return Classify(s).Shape }

// Class is what Classify found: the shape, and for hashes and ciphertext the
// encoding and decoded size, so a caller can see whether a column's values
// share one length (digests do; ciphertext of varying plaintext does not).
type Class struct {
	Shape    Shape
	Reason   string // words that never contain the value ("hex, 64 chars: sha-256 length")
	Encoding string // hex, base64, binary, or "" (self-describing formats, masks)
	Size     int    // decoded bytes for hex, base64, binary
	// TailBlock identifies the last 16 decoded bytes (an FNV-1a hash) when
	// Size is a multiple of 16 and at least 32, else 0. AES-ECB (MySQL's
	// AES_ENCRYPT) of values that share their last characters ends in the
	// same block: different values with equal tails are ECB ciphertext,
	// which digests of those sizes never show.
	TailBlock uint64
}

func tailBlock(b []byte) uint64 {
	if len(b) < 32 || len(b)%16 != 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write(b[len(b)-16:])
	return h.Sum64() | 1 // never 0
}

// Classify is ClassifyValue with the details.
func Classify(s string) Class {
	if s == "" {
		return Class{}
	}
	if c := armoured(s); c.Shape != ShapeOther {
		return c
	}
	if isBinary(s) {
		return classifyBinary([]byte(s))
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return Class{}
	}
	if why := hashFormat(t); why != "" {
		return Class{Shape: ShapeHashed, Reason: why}
	}
	if c := hexDigest(t); c.Shape != ShapeOther {
		return c
	}
	if masked(t) {
		return Class{Shape: ShapeMasked, Reason: "mask characters between visible characters"}
	}
	// Ciphertext often carries a short label: "enc:v1:…", "kms1$…".
	body := t
	if i := strings.LastIndexAny(t, ":$"); i > 0 && i <= 24 && label(t[:i]) {
		body = t[i+1:]
		if c := hexDigest(body); c.Shape != ShapeOther {
			return c
		}
	}
	if c := hexValue(body); c.Shape != ShapeOther {
		return c
	}
	return base64Value(body)
}

// label: a short run of letters, digits and separators, as in "enc:v1".
func label(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '$' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Prefixes that only ciphertext has.
var cipherPrefixes = []struct{ prefix, why string }{
	{"age-encryption.org/v1\n", "age v1 header"},
	{"-----BEGIN AGE ENCRYPTED FILE-----", "age armour"},
	{"-----BEGIN PGP MESSAGE-----", "OpenPGP armour"},
	{"vault:v", "HashiCorp Vault transit ciphertext"},
	{"ENC(", "Jasypt ENC() value"},
	{"{cipher}", "Spring Cloud Config {cipher} value"},
}

func armoured(s string) Class {
	for _, p := range cipherPrefixes {
		if strings.HasPrefix(s, p.prefix) {
			return Class{Shape: ShapeEncrypted, Reason: p.why}
		}
	}
	return Class{}
}

// isBinary: not text a person or an application would store as a string.
func isBinary(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			return true
		}
	}
	return false
}

// Magic numbers of binary formats with high entropy that are not ciphertext:
// compressed data and media hold whatever their producer put in them.
var notCipherMagic = []struct {
	magic []byte
	what  string
}{
	{[]byte{0x1f, 0x8b}, "gzip"},
	{[]byte{0x28, 0xb5, 0x2f, 0xfd}, "zstd"},
	{[]byte("BZh"), "bzip2"},
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, "xz"},
	{[]byte("PK\x03\x04"), "zip"},
	{[]byte("\x89PNG"), "png"},
	{[]byte{0xff, 0xd8, 0xff}, "jpeg"},
	{[]byte("GIF8"), "gif"},
	{[]byte("%PDF"), "pdf"},
	{[]byte{0xd0, 0xcf, 0x11, 0xe0}, "ole2"},
	{[]byte("RIFF"), "riff"},
}

func classifyBinary(b []byte) Class {
	for _, m := range notCipherMagic {
		if bytes.HasPrefix(b, m.magic) {
			return Class{Reason: m.what + " data"}
		}
	}
	// zlib: CMF 0x78 with a valid header check.
	if len(b) > 2 && b[0] == 0x78 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 {
		return Class{Reason: "zlib data"}
	}
	if len(b) < 16 {
		return Class{}
	}
	if gb18030Text(b) {
		return Class{Reason: "GB18030 text"}
	}
	if !randomLooking(b) {
		return Class{}
	}
	// MySQL's AES_ENCRYPT (and any block cipher without a tag) returns a
	// multiple of 16 bytes; 20 and 28 bytes are raw SHA-1 and SHA-224 and no
	// block size. Other lengths are stream or AEAD ciphertext.
	c := Class{Shape: ShapeEncrypted, Encoding: "binary", Size: len(b), TailBlock: tailBlock(b)}
	switch n := len(b); {
	case n%16 == 0:
		c.Reason = fmt.Sprintf("binary, %d bytes (AES block multiple), high entropy", n)
	case n == 20 || n == 28:
		c.Shape, c.Reason = ShapeHashed, fmt.Sprintf("binary, %d bytes: raw digest length", n)
	default:
		c.Reason = fmt.Sprintf("binary, %d bytes, high entropy", n)
	}
	return c
}

// gb18030Text reports whether b is well-formed GB18030 (GBK) text without
// control characters, its double-byte characters nearly all in the GB2312
// range (lead 0xA1–0xF7, trail 0xA1–0xFE) where common Hanzi and punctuation
// live. Chinese text exported by Windows tools is not UTF-8 and has high byte
// entropy, but it is not ciphertext. Random bytes parse as GBK now and then
// when short (4% of 16-byte values); the GB2312 share rules them out.
func gb18030Text(b []byte) bool {
	double, gb2312 := 0, 0
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x80:
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
				return false
			}
			i++
		case c >= 0x81 && c <= 0xfe && i+1 < len(b):
			d := b[i+1]
			if d >= 0x40 && d <= 0xfe && d != 0x7f {
				i += 2
			} else if d >= 0x30 && d <= 0x39 && i+3 < len(b) &&
				b[i+2] >= 0x81 && b[i+2] <= 0xfe && b[i+3] >= 0x30 && b[i+3] <= 0x39 {
				i += 4
			} else {
				return false
			}
			double++
			if c >= 0xa1 && c <= 0xf7 && d >= 0xa1 && d <= 0xfe {
				gb2312++
			}
		default:
			return false
		}
	}
	return double > 0 && float64(gb2312) >= 0.9*float64(double)
}

// randomLooking: byte entropy close to the most that len(b) samples can show,
// and not mostly printable (base64 of text decodes to text).
func randomLooking(b []byte) bool {
	var counts [256]int
	printable := 0
	for _, c := range b {
		counts[c]++
		if c >= 0x20 && c < 0x7f {
			printable++
		}
	}
	n := float64(len(b))
	if float64(printable) > 0.9*n {
		return false
	}
	h := 0.0
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	// n random bytes show at most log2(min(n,256)) bits per byte; uniform
	// random data comes within a few percent of it (16 bytes: ~3.9 of 4;
	// 4 KiB: ~7.95 of 8). Text, UTF-16 and padded structures fall well short.
	return h >= 0.8*math.Log2(math.Min(n, 256))
}

// Hex digest lengths: md5 (and 128-bit digests), sha1, sha224, sha256/sm3,
// sha384, sha512.
var digestHexLen = map[int]string{32: "md5", 40: "sha-1", 56: "sha-224", 64: "sha-256/sm3", 96: "sha-384", 128: "sha-512"}

// Password-hash and digest formats that announce themselves.
var hashPrefixes = []struct{ prefix, what string }{
	{"$2a$", "bcrypt"}, {"$2b$", "bcrypt"}, {"$2y$", "bcrypt"}, {"$2x$", "bcrypt"},
	{"$argon2id$", "argon2"}, {"$argon2i$", "argon2"}, {"$argon2d$", "argon2"},
	{"$scrypt$", "scrypt"}, {"$7$", "scrypt"}, {"$y$", "yescrypt"},
	{"$5$", "sha-crypt"}, {"$6$", "sha-crypt"}, {"$1$", "md5-crypt"},
	{"$pbkdf2", "pbkdf2"}, {"pbkdf2_sha256$", "pbkdf2 (Django)"}, {"pbkdf2_sha1$", "pbkdf2 (Django)"},
	{"{SSHA}", "LDAP SSHA"}, {"{SHA}", "LDAP SHA"}, {"{SSHA256}", "LDAP SSHA256"}, {"{SSHA512}", "LDAP SSHA512"},
}

func hashFormat(t string) string {
	for _, p := range hashPrefixes {
		if strings.HasPrefix(t, p.prefix) && len(t) > len(p.prefix)+8 && !strings.ContainsAny(t, " \t\n") {
			return p.what + " hash"
		}
	}
	return ""
}

// hexDigest: hex of a digest length, after an optional "sha256:", "0x" or
// "\x" prefix.
func hexDigest(t string) Class {
	h := t
	if i := strings.IndexByte(h, ':'); i > 0 && i <= 10 {
		h = h[i+1:]
	}
	h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), `\x`)
	alg, ok := digestHexLen[len(h)]
	if !ok || !isHex(h) || !hasLetterAndDigit(h) {
		return Class{}
	}
	if len(h) == 32 && uuidLike(h) {
		return Class{}
	}
	raw, _ := hex.DecodeString(h)
	return Class{Shape: ShapeHashed, Encoding: "hex", Size: len(h) / 2, TailBlock: tailBlock(raw),
		Reason: fmt.Sprintf("hex, %d chars: %s length", len(h), alg)}
}

// uuidLike: a 32-hex-digit value with the version and variant nibbles of a
// random (v4) or time-ordered (v7) UUID. 3% of md5 digests look so too; a
// column verdict counts many values and is not swayed by them.
func uuidLike(h string) bool {
	v, variant := h[12], h[16]|0x20
	return (v == '4' || v == '7') && (variant == '8' || variant == '9' || variant == 'a' || variant == 'b')
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

func hasLetterAndDigit(s string) bool {
	letter, digit := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c|0x20 >= 'a' && c|0x20 <= 'z':
			letter = true
		}
	}
	return letter && digit
}

// hexValue: hex text that is not a digest length but long enough to hold a
// cipher block (HEX(AES_ENCRYPT(…)) of a long value, IV‖ciphertext, …).
func hexValue(t string) Class {
	h := strings.TrimPrefix(t, "0x")
	if len(h) < 34 || len(h)%2 != 0 || !isHex(h) || !hasLetterAndDigit(h) || !sameCase(h) {
		return Class{}
	}
	if _, digest := digestHexLen[len(h)]; digest {
		return Class{} // only after a label; a bare one was a digest
	}
	return Class{Shape: ShapeEncrypted, Encoding: "hex", Size: len(h) / 2,
		Reason: fmt.Sprintf("hex, %d bytes", len(h)/2)}
}

func sameCase(h string) bool {
	lower, upper := false, false
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c >= 'a' && c <= 'f':
			lower = true
		case c >= 'A' && c <= 'F':
			upper = true
		}
	}
	return !(lower && upper)
}

// Base64-decoded lengths that are digest sizes (md5, sha1, sha224, sha256,
// sha384, sha512): applications store Base64(SHA-256(x)) about as often as
// Hex(SHA-256(x)). AES-ECB of a short value has the same lengths; either way
// it is not plaintext, and we call it hashed.
var digestRawLen = map[int]string{16: "md5", 20: "sha-1", 28: "sha-224", 32: "sha-256", 48: "sha-384", 64: "sha-512"}

func base64Value(t string) Class {
	// 16 bytes is the smallest cipher block; its base64 is 22+ characters.
	if len(t) < 22 || !base64Mix(t) {
		return Class{}
	}
	b := decodeBase64(t)
	if len(b) < 16 || !randomLooking(b) {
		return Class{}
	}
	c := Class{Shape: ShapeEncrypted, Encoding: "base64", Size: len(b), TailBlock: tailBlock(b),
		Reason: fmt.Sprintf("base64, %d bytes, high entropy", len(b))}
	if alg, ok := digestRawLen[len(b)]; ok {
		c.Shape, c.Reason = ShapeHashed, fmt.Sprintf("base64, %d bytes: %s length", len(b), alg)
	}
	return c
}

// base64Mix: the character mix of encoded random bytes. A 22-character
// encoding of random bytes lacks an upper- or lower-case letter with
// probability < 1e-4; words, numbers and lower-case hex never have both.
func base64Mix(t string) bool {
	lower, upper, other := false, false, false
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9', c == '+', c == '/', c == '-', c == '_':
			other = true
		case c == '=':
			if strings.TrimRight(t[i:], "=") != "" {
				return false
			}
		default:
			return false
		}
	}
	return lower && upper && other
}

func decodeBase64(t string) []byte {
	raw := strings.TrimRight(t, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(raw); err == nil {
			return b
		}
	}
	return nil
}

// Mask characters seen in Chinese systems' exports: ASCII and full-width
// asterisks, the multiplication sign, '#', bullets, and runs of x.
func maskRune(r rune) bool {
	switch r {
	case '*', '＊', '×', '#', '•', '●', '✱', '※':
		return true
	}
	return false
}

func digitRune(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }

func alnumRune(r rune) bool {
	return digitRune(r) || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
		r >= 'ａ' && r <= 'ｚ' || r >= 'Ａ' && r <= 'Ｚ'
}

// masked: one token in which a run of at least two mask characters sits
// between visible characters (138****5678, zh***@qq.com) or keeps only the
// head or the tail (**************1234) of something with several visible
// digits. A bare "***" or a sentence with an asterisk is not a masked value.
func masked(t string) bool {
	// "+86 138 **** 5678": drop the country code and the grouping.
	if len(t) <= 40 {
		for _, p := range []string{"+86", "＋86", "0086"} {
			t = strings.TrimPrefix(t, p)
		}
		t = strings.TrimSpace(t)
		grouped := true
		for _, part := range strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == '-' }) {
			for _, c := range part {
				if !digitRune(c) && !maskRune(c) {
					grouped = false
				}
			}
		}
		if grouped {
			t = strings.NewReplacer(" ", "", "-", "").Replace(t)
		}
	}
	r := []rune(t)
	n := len(r)
	if n < 5 {
		return false
	}
	visibleDigits, email := 0, false
	for _, c := range r {
		switch {
		case digitRune(c):
			visibleDigits++
		case c == '@', c == '＠':
			email = true
		case maskRune(c), alnumRune(c), c == '.', c == '-', c == '_', c == '+':
		default:
			return false // not one token
		}
	}
	for i := 0; i < n; {
		// A run of mask characters, or of x/X between digits (138xxxx5678).
		j := i
		for j < n && maskRune(r[j]) {
			j++
		}
		if j == i {
			for j < n && (r[j] == 'x' || r[j] == 'X') {
				j++
			}
			if j-i >= 2 && (i == 0 || !digitRune(r[i-1]) || j == n || !digitRune(r[j])) {
				j = i // x-runs count only between digits
			}
		}
		if run := j - i; run >= 2 {
			before := i > 0 && alnumRune(r[i-1])
			after := j < n && (alnumRune(r[j]) || r[j] == '@' || r[j] == '＠' || r[j] == '.')
			switch {
			case before && after && (visibleDigits >= 2 || email):
				return true
			case (before || after) && visibleDigits >= 3:
				return true
			}
			i = j
			continue
		}
		i++
	}
	return false
}
