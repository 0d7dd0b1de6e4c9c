package detect

// Characters: the byte classes the scanner works with, full-width folding
// (U+FF01–U+FF5E and U+3000 read as their ASCII forms) in both directions,
// and the small digit helpers every rule shares.

// Character classes of folded (ASCII) characters, and the raw-byte trigger.
const (
	cDigit  uint8 = 1 << iota
	cUpper        // A-Z
	cLower        // a-z
	cLocal        // e-mail local part: alnum . _ % + -
	cDomain       // e-mail domain: alnum . -
	cSep          // group separator: ' ' '-' (U+3000 and '－' fold to them)
	cTrig         // raw byte that can start a candidate: digit, '@', 0xEF (full-width)

	cAlpha = cUpper | cLower
	cAlnum = cDigit | cAlpha
)

var class = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit | cLocal | cDomain | cTrig
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = cUpper | cLocal | cDomain
		t[c+32] = cLower | cLocal | cDomain
	}
	for _, c := range "._%+-" {
		t[c] |= cLocal
	}
	t['.'] |= cDomain
	t['-'] |= cDomain | cSep
	t[' '] |= cSep
	t['@'] |= cTrig
	t[0xEF] |= cTrig
	return
}()

// other is what a non-ASCII character that does not fold reads as: no class.
const other = 0x80

// charAt decodes the character at buf[i]: ASCII as is, full-width forms
// U+FF01–U+FF5E and the ideographic space U+3000 folded to ASCII (3 bytes), any
// other byte as `other` (1 byte, so that invalid UTF-8 never misaligns). At the
// end of buf it returns (0, 0).
//
// The compiler does not inline it (the call to foldAt costs too much), so the
// hottest loops spell its ASCII case out and call foldAt only for bytes >= 0x80:
//
//	c, n := buf[i], 1
//	if c >= 0x80 {
//		c, n = foldAt(buf, i)
//	}
func charAt(buf []byte, i int) (byte, int) {
	if i >= len(buf) {
		return 0, 0
	}
	b := buf[i]
	if b < 0x80 {
		return b, 1
	}
	return foldAt(buf, i)
}

func foldAt(buf []byte, i int) (byte, int) {
	if i+2 < len(buf) {
		switch buf[i] {
		case 0xEF:
			b1, b2 := buf[i+1], buf[i+2]
			if b1 == 0xBC && b2 > 0x80 && b2 <= 0xBF {
				return 0x20 + (b2 - 0x80), 3 // U+FF01..FF3F
			}
			if b1 == 0xBD && b2 >= 0x80 && b2 <= 0x9E {
				return 0x60 + (b2 - 0x80), 3 // U+FF40..FF5E
			}
		case 0xE3:
			if buf[i+1] == 0x80 && buf[i+2] == 0x80 {
				return ' ', 3
			}
		}
	}
	return other, 1
}

// endsBefore reports that the character ending at buf[i] (i > 0) is not
// alphanumeric, looking at raw bytes only: an ASCII non-alphanumeric, or a
// non-ASCII byte that cannot end a folding sequence (none starts at i-3).
// When it reports false the character may still be a non-alphanumeric;
// callers then decode it.
func endsBefore(buf []byte, i int) bool {
	b := buf[i-1]
	if b < 0x80 {
		return class[b]&cAlnum == 0
	}
	return i < 3 || buf[i-3] != 0xEF && buf[i-3] != 0xE3
}

// digitMayEnd reports that the character ending at buf[i] (i > 0) may be a
// digit, from raw bytes: an ASCII digit, or the last byte of a folding
// sequence (0xEF at i-3). When it reports true callers decode it.
func digitMayEnd(buf []byte, i int) bool {
	b := buf[i-1]
	if b < 0x80 {
		return b-'0' < 10
	}
	return i >= 3 && buf[i-3] == 0xEF
}

// startsAt is endsBefore for the character that starts at buf[i] (i <
// len(buf)): only 0xEF and 0xE3 start folding sequences.
func startsAt(b byte) bool {
	if b < 0x80 {
		return class[b]&cAlnum == 0
	}
	return b != 0xEF && b != 0xE3
}

// charBefore decodes the character that ends at buf[i] (i > 0); (0, 0) at the
// start. A folding sequence cannot overlap another (its lead bytes are never
// continuation bytes), so this agrees with charAt. Hot loops spell out its
// ASCII case as they do charAt's, with foldBefore for the rest.
func charBefore(buf []byte, i int) (byte, int) {
	if i <= 0 {
		return 0, 0
	}
	b := buf[i-1]
	if b < 0x80 {
		return b, 1
	}
	return foldBefore(buf, i)
}

// foldBefore is charBefore for a non-ASCII byte at buf[i-1].
func foldBefore(buf []byte, i int) (byte, int) {
	if i >= 3 {
		if c, n := foldAt(buf, i-3); n == 3 {
			return c, 3
		}
	}
	return other, 1
}

func upper(w []byte) {
	for i, c := range w {
		if class[c]&cLower != 0 {
			w[i] = c - 32
		}
	}
}

func isSep(c byte) bool { return class[c]&cSep != 0 }

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0
}

type text interface{ ~string | ~[]byte }

func isDigitB(c byte) bool { return c-'0' < 10 }

func allDigits[T text](s T) bool {
	for i := 0; i < len(s); i++ {
		if !isDigitB(s[i]) {
			return false
		}
	}
	return true
}

func num[T text](s T) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// num2 and num4 read the two or four digits at s[i:] as a number.
func num2[T text](s T, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }

func num4[T text](s T, i int) int { return num2(s, i)*100 + num2(s, i+2) }

// le64 reads s[i:i+8] as a little-endian word (the compiler makes it one
// load, for strings and byte slices alike).
func le64[T text](s T, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

func digitsFrom(w []byte, i int) bool {
	return i < len(w) && allDigits(w[i:])
}
