package eval

import (
	"strings"
	"time"
)

// These validators are the labeled corpus's reference rules (its README), kept
// apart from audit/detect on purpose: a scorer that used the detector's own
// validators to look for leaks would be blind to exactly the values the
// detector gets wrong.

var provinces = map[int]bool{11: true, 12: true, 13: true, 14: true, 15: true, 21: true, 22: true, 23: true,
	31: true, 32: true, 33: true, 34: true, 35: true, 36: true, 37: true, 41: true, 42: true, 43: true, 44: true,
	45: true, 46: true, 50: true, 51: true, 52: true, 53: true, 54: true, 61: true, 62: true, 63: true, 64: true,
	65: true, 71: true, 81: true, 82: true, 83: true}

var mobilePrefixes = strings.Fields(`130 131 132 133 134 135 136 137 138 139 145 147 150 151 152 153 155 156
157 158 159 162 165 166 167 170 171 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189
190 191 192 193 195 196 197 198 199`)

const (
	idChecks  = "10X98765432"
	usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	orgChars  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

var (
	idWeights   = []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	usccWeights = []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	orgWeights  = []int{3, 7, 9, 10, 5, 8, 4, 2}
)

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func validDate(y, m, d int) bool {
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return m >= 1 && m <= 12 && t.Year() == y && int(t.Month()) == m && t.Day() == d
}

// IsResidentID: 18-digit resident ID (also 81/82/83 residence permits and the
// 2023 permanent-resident ID starting with 9) or the legacy 15-digit form.
func IsResidentID(s string) bool {
	if len(s) == 18 && allDigits(s[:17]) {
		last := s[17]
		if !(last >= '0' && last <= '9' || last == 'X' || last == 'x') {
			return false
		}
		y, m, d := atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])
		sum := 0
		for i, w := range idWeights {
			sum += int(s[i]-'0') * w
		}
		want := idChecks[sum%11]
		if last == 'x' {
			last = 'X'
		}
		return (provinces[atoi(s[:2])] || s[0] == '9') && validDate(y, m, d) && y >= 1800 && y <= time.Now().Year() && want == last
	}
	if len(s) == 15 && allDigits(s) {
		return provinces[atoi(s[:2])] && validDate(1900+atoi(s[6:8]), atoi(s[8:10]), atoi(s[10:12]))
	}
	return false
}

// IsMobile: 11 digits with an allocated prefix.
func IsMobile(s string) bool {
	if len(s) != 11 || !allDigits(s) {
		return false
	}
	for _, p := range mobilePrefixes {
		if s[:3] == p {
			return true
		}
	}
	return false
}

func luhn(s string) bool {
	sum, alt := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if alt {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		alt = !alt
	}
	return sum%10 == 0
}

// IsCard: 16–19 digits starting 3–6, Luhn.
func IsCard(s string) bool {
	return len(s) >= 16 && len(s) <= 19 && allDigits(s) && strings.ContainsRune("3456", rune(s[0])) && luhn(s)
}

// IsUSCC: GB 32100-2015 with the embedded GB 11714 check.
func IsUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(usccChars, s[i]) < 0 {
			return false
		}
	}
	if strings.IndexByte("123456789ANY", s[0]) < 0 || strings.IndexByte("123459", s[1]) < 0 || !allDigits(s[2:8]) {
		return false
	}
	if p := atoi(s[2:4]); !provinces[p] && p != 10 {
		return false
	}
	for i := 8; i < 17; i++ {
		if strings.IndexByte(orgChars, s[i]) < 0 {
			return false
		}
	}
	sum := 0
	for i, w := range orgWeights {
		sum += strings.IndexByte(orgChars, s[8+i]) * w
	}
	var org byte
	switch v := 11 - sum%11; v {
	case 10:
		org = 'X'
	case 11:
		org = '0'
	default:
		org = byte('0' + v)
	}
	if org != s[16] {
		return false
	}
	sum = 0
	for i, w := range usccWeights {
		sum += strings.IndexByte(usccChars, s[i]) * w
	}
	v := 31 - sum%31
	if v == 31 {
		v = 0
	}
	return usccChars[v] == s[17]
}

// Leaks returns the distinct raw identifiers in out, found the way the corpus
// scorers look for them: whole alphanumeric tokens of 11–19 characters (and
// 17 digits plus a check character) that pass a reference validator.
func Leaks(out string) []string {
	seen := map[string]bool{}
	var leaks []string
	isAlnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
	for i := 0; i < len(out); {
		if !isAlnum(out[i]) {
			i++
			continue
		}
		j := i
		for j < len(out) && isAlnum(out[j]) {
			j++
		}
		tok := out[i:j]
		i = j
		if len(tok) >= 11 && len(tok) <= 19 && strings.ToUpper(tok) == tok && !seen[tok] &&
			(IsResidentID(tok) || IsMobile(tok) || IsCard(tok) || IsUSCC(tok)) {
			seen[tok] = true
			leaks = append(leaks, tok)
		}
		// 17 digits and a check character anywhere, even inside a longer token
		// (a hex digest, a longer digit run), as the corpus scorers look.
		for k := 0; k+18 <= len(tok); k++ {
			s := tok[k : k+18]
			if allDigits(s[:17]) && strings.IndexByte("0123456789Xx", s[17]) >= 0 && !seen[s] && IsResidentID(s) {
				seen[s] = true
				leaks = append(leaks, s)
			}
		}
	}
	return leaks
}
