package detect

import "time"

// maxYear is the latest birth year a resident ID may carry: none is issued for a
// date in the future.
var maxYear = time.Now().Year()

// provinces holds the two-digit province codes of GB/T 2260 (and 71 Taiwan,
// 81 Hong Kong, 82 Macao, 83 Taiwan residence permits).
var provinces = func() (t [100]bool) {
	for _, p := range []int{11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
		41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83} {
		t[p] = true
	}
	return
}()

// mobilePrefix holds the allocated second and third digits of 1xx (SPEC table in
// testdata/corpus/README.md). 174 is left out: its only allocation, 1740x, is
// Tiantong satellite service, not a terrestrial mobile number, and the
// reference validators (and the labeled data) count 1740x numbers as decoys.
var mobilePrefix = func() (t [100]bool) {
	for _, p := range []int{30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 45, 47, 50, 51, 52, 53, 55, 56, 57, 58, 59,
		62, 65, 66, 67, 70, 71, 72, 73, 75, 76, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89,
		90, 91, 92, 93, 95, 96, 97, 98, 99} {
		t[p] = true
	}
	return
}()

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheck = "10X98765432"

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

// daysIn is the length of each month of a common year.
var daysIn = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	dim := daysIn[m]
	if m == 2 && (y%4 == 0 && y%100 != 0 || y%400 == 0) {
		dim = 29
	}
	return d <= dim
}

// idShape reports an 18-character string whose first 17 are digits with a
// real province (or 9) and a real birth date: an ID whether or not its check
// character is right.
func idShape[T text](s T) bool {
	return len(s) == 18 && allDigits(s[:17]) && idDateOK(s)
}

// idDateOK is idShape for s whose first 17 characters the caller knows to be
// digits: the province (or 9) and the birth date.
func idDateOK[T text](s T) bool {
	if !provinces[num(s[:2])] && s[0] != '9' {
		return false
	}
	y := num(s[6:10])
	return y >= 1800 && y <= maxYear && validDate(y, num(s[10:12]), num(s[12:14]))
}

func validID18[T text](s T) bool {
	return idShape(s) && idCheckOK(s)
}

// idCheckOK reports that the 18th character of s is the MOD 11-2 check
// character of its first 17 (digits: the caller has checked idShape).
func idCheckOK[T text](s T) bool {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * idWeights[i]
	}
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	return idCheck[sum%11] == last
}

func validID15[T text](s T) bool {
	return len(s) == 15 && allDigits(s) && id15OK(s)
}

// id15OK is validID15 for 15 characters the caller knows to be digits.
func id15OK[T text](s T) bool {
	return provinces[num(s[:2])] && validDate(1900+num(s[6:8]), num(s[8:10]), num(s[10:12]))
}

// imei reports a 15-digit number that reads as an IMEI with a GSMA reporting
// body 35 (the common TAC range) and a valid Luhn digit; a legacy 15-digit ID
// of province 35 that happens to pass Luhn is lost, an IMEI is not reported.
func imei[T text](s T) bool {
	return len(s) == 15 && s[0] == '3' && s[1] == '5' && luhn(s)
}

func validMobile[T text](s T) bool {
	return len(s) == 11 && allDigits(s) && mobileOK(s)
}

// mobileOK is validMobile for 11 characters the caller knows to be digits.
func mobileOK[T text](s T) bool {
	return s[0] == '1' && mobilePrefix[num(s[1:3])]
}

func luhn[T text](s T) bool {
	// from the right: a digit as it is, then one doubled (less 9 above 9)
	sum := 0
	i := len(s) - 1
	for ; i >= 1; i -= 2 {
		sum += int(s[i]-'0') + luhnDouble[s[i-1]]
	}
	if i == 0 {
		sum += int(s[0] - '0')
	}
	return sum%10 == 0
}

// luhnDouble is Luhn's doubled value of each byte read as a digit (c-'0').
var luhnDouble = func() (t [256]int) {
	for c := range t {
		d := int(byte(c) - '0')
		d *= 2
		if d > 9 {
			d -= 9
		}
		t[c] = d
	}
	return
}()

// validCard: 16–19 digits with an issuer prefix 3, 4, 5, 6 (15 for American
// Express 34/37) and Luhn. With kw (a card keyword or column hint nearby) it
// also admits Mastercard's 2221–2720 range and 9-prefixed domestic cards.
func validCard[T text](s T, kw bool) bool {
	return allDigits(s) && cardOK(s, kw)
}

// cardOK is validCard for s the caller knows to be all digits.
func cardOK[T text](s T, kw bool) bool {
	n := len(s)
	if n < 15 || n > 19 {
		return false
	}
	if n == 15 {
		return s[0] == '3' && (s[1] == '4' || s[1] == '7') && luhn(s)
	}
	switch s[0] {
	case '3', '4', '5', '6':
	case '2':
		if p := num(s[:4]); !kw || n != 16 || p < 2221 || p > 2720 {
			return false
		}
	case '9':
		if !kw {
			return false
		}
	default:
		return false
	}
	return luhn(s)
}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccIdx, orgIdx = func() (u, o [256]int8) {
	for i := range u {
		u[i], o[i] = -1, -1
	}
	for i := 0; i < len(usccChars); i++ {
		u[usccChars[i]] = int8(i)
	}
	const orgChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := 0; i < len(orgChars); i++ {
		o[orgChars[i]] = int8(i)
	}
	return
}()

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// validUSCC: GB 32100-2015 registration authority and category, a region code
// with a real province prefix (10 for central bodies), the embedded GB 11714
// organisation-code check and the mod-31 check character.
func validUSCC[T text](s T) bool {
	if len(s) != 18 {
		return false
	}
	switch s[0] {
	case '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'N', 'Y':
	default:
		return false
	}
	switch s[1] {
	case '1', '2', '3', '4', '5', '9':
	default:
		return false
	}
	if !allDigits(s[2:8]) {
		return false
	}
	if p := num(s[2:4]); !provinces[p] && p != 10 {
		return false
	}
	// Every character from the USCC alphabet, with the code's weighted sum
	// over 0..16; then the organisation code's over 8..15.
	sum := 0
	for i, w := range &usccWeights {
		v := int(usccIdx[s[i]])
		if v < 0 {
			return false
		}
		sum += v * w
	}
	org := 0
	for i, w := range &orgWeights {
		org += int(orgIdx[s[8+i]]) * w
	}
	var oc byte
	switch v := 11 - org%11; v {
	case 10:
		oc = 'X'
	case 11:
		oc = '0'
	default:
		oc = byte('0' + v)
	}
	if s[16] != oc {
		return false
	}
	v := 31 - sum%31
	if v == 31 {
		v = 0
	}
	return s[17] == usccChars[v]
}
