package dbsrc

import (
	"strings"
	"unicode/utf8"

	"github.com/atrest/atrest/audit/detect"
)

// shapeSet is a bit set of detector types.
type shapeSet uint8

const (
	shapeID shapeSet = 1 << iota
	shapeMobile
	shapeCard
	shapeUSCC
	shapeEmail
)

var shapeOf = map[detect.Type]shapeSet{
	detect.ResidentID: shapeID, detect.Mobile: shapeMobile, detect.BankCard: shapeCard,
	detect.USCC: shapeUSCC, detect.Email: shapeEmail,
}

// shapes reports which identifier types have a token of their shape in v,
// valid or not: an 18-character run of digits (ending in a digit or X), an
// 11-digit run starting with 1, a 15–19 digit run, an 18-character run of
// the USCC alphabet, an address with '@'. Matched/candidates is then the
// checksum pass rate of the column. Tokens follow SPEC §1: a run is bounded
// by non-alphanumerics, full-width forms count as ASCII, and digit groups
// joined by one space or '-' (138 1234 5678, 6222-0212-…) are one number.
func shapes(v []byte) shapeSet {
	var set shapeSet
	s := string(v)
	if at := strings.IndexByte(s, '@'); at > 0 && strings.IndexByte(s[at:], '.') > 0 {
		set |= shapeEmail
	}
	var tok []byte
	digitsOnly := true
	flush := func() {
		if len(tok) > 0 {
			set |= tokenShape(tok, digitsOnly)
		}
		tok, digitsOnly = tok[:0], true
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r >= '０' && r <= '９':
			r -= '０' - '0'
		case r >= 'Ａ' && r <= 'Ｚ':
			r -= 'Ａ' - 'A'
		case r >= 'ａ' && r <= 'ｚ':
			r -= 'ａ' - 'a'
		}
		switch {
		case r >= '0' && r <= '9':
			tok = append(tok, byte(r))
		case r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z':
			tok = append(tok, byte(r))
			digitsOnly = false
		case (r == ' ' || r == '-') && len(tok) > 0 && digitsOnly && i < len(s) && s[i] >= '0' && s[i] <= '9':
			// a separator inside a grouped number: keep going
		default:
			flush()
		}
	}
	flush()
	return set
}

func tokenShape(t []byte, digitsOnly bool) shapeSet {
	n := len(t)
	var set shapeSet
	last := t[n-1]
	body := digitsOnly || (allDigits(t[:n-1]) && (last == 'X' || last == 'x'))
	if body {
		switch {
		case n == 11 && t[0] == '1':
			set |= shapeMobile
		case n == 13 && string(t[:3]) == "861", n == 15 && string(t[:5]) == "00861":
			set |= shapeMobile
		}
		if n == 15 || n == 18 {
			set |= shapeID
		}
		if digitsOnly && n >= 15 && n <= 19 {
			set |= shapeCard
		}
	}
	if n == 18 && usccAlphabet(t) {
		set |= shapeUSCC
	}
	return set
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// usccAlphabet: digits and upper-case letters without I, O, S, V, Z.
func usccAlphabet(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z' && !strings.ContainsRune("IOSVZ", rune(c)):
		default:
			return false
		}
	}
	return true
}

// maskedType names the identifier a masked value hides, from what is left
// visible: 11 characters starting with 1 is a mobile; 15 or 18 is a resident
// ID (the 3+4 visible digits cannot tell it from an 18-digit card, so a
// bank-card hint decides); 16, 17, 19 a bank card; '@' an e-mail.
func maskedType(v string, h hint) detect.Type {
	if strings.ContainsAny(v, "@＠") {
		return detect.Email
	}
	v = strings.TrimSpace(v)
	for _, p := range []string{"+86", "＋86", "0086"} {
		v = strings.TrimPrefix(v, p)
	}
	r := []rune(strings.NewReplacer(" ", "", "-", "").Replace(v))
	if len(r) == 0 {
		return ""
	}
	first := r[0]
	if first >= '０' && first <= '９' {
		first -= '０' - '0'
	}
	switch n := len(r); {
	case n == 11 && first == '1':
		return detect.Mobile
	case n == 15 || n == 18:
		if h.has(detect.BankCard) && !h.has(detect.ResidentID) {
			return detect.BankCard
		}
		return detect.ResidentID
	case n >= 16 && n <= 19:
		return detect.BankCard
	}
	if len(h.types) > 0 {
		return h.types[0]
	}
	return ""
}
