package detect

import "time"

// cn_resident_id: 居民身份证号 (18 characters, ISO 7064 MOD 11-2 check),
// the legacy 15-digit form, 港澳台居民居住证 (81/82/83) and the 2023 永居证 (9).

// ValidResidentID reports whether s (ASCII, no separators) is an 18-digit
// resident ID (province or 9, date, check digit) or a legacy 15-digit one.
func ValidResidentID(s string) bool {
	switch len(s) {
	case 18:
		return validID18(s)
	case 15:
		return validID15(s)
	}
	return false
}

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

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheck = "10X98765432"

// idLanes are idCheckOK's multipliers for the weights of the first 16
// digits: of the even digits of s[0:8], its odd ones, then the same of
// s[8:16]. The digit in lane j (value times 2^16j) meets its weight at
// 2^(48-16j), so that their product lands in the top lane.
var idLanes = func() (m [4]uint64) {
	for k := range m {
		first := k/2*8 + k%2
		for j := 0; j < 4; j++ {
			m[k] |= uint64(idWeights[first+2*j]) << (48 - 16*j)
		}
	}
	return
}()

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
	if !provinces[num2(s, 0)] && s[0] != '9' {
		return false
	}
	y := num4(s, 6)
	return y >= 1800 && y <= maxYear && validDate(y, num2(s, 10), num2(s, 12))
}

func validID18[T text](s T) bool {
	return idShape(s) && idCheckOK(s)
}

// idCheckOK reports that the 18th character of s is the MOD 11-2 check
// character of its first 17 (digits: the caller has checked idShape).
//
// The weighted sum is taken four digits to a multiply, as every 18-digit
// number of a log comes here: the even (or odd) digits of an eight-byte word
// spread into its four 16-bit lanes, times a multiplier that holds their
// weights in reverse lane order, leave their dot product in the top lane
// (idLanes). No lane's partial sum reaches 2^16 (at most 4 x 9 x 10 per
// product, 1440 for the four added up), so none carries into the next.
func idCheckOK[T text](s T) bool {
	const even = 0x00FF00FF00FF00FF
	x0 := le64(s, 0) - 0x30*lsb // digit values; they are digits, so nothing borrows
	x1 := le64(s, 8) - 0x30*lsb
	sum := int((x0&even*idLanes[0] + x0>>8&even*idLanes[1] +
		x1&even*idLanes[2] + x1>>8&even*idLanes[3]) >> 48)
	sum += int(s[16]-'0') * idWeights[16]
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
	return provinces[num2(s, 0)] && validDate(1900+num2(s, 6), num2(s, 8), num2(s, 10))
}

// imei reports a 15-digit number that reads as an IMEI with a GSMA reporting
// body 35 (the common TAC range) and a valid Luhn digit; a legacy 15-digit ID
// of province 35 that happens to pass Luhn is lost, an IMEI is not reported.
func imei[T text](s T) bool {
	return len(s) == 15 && s[0] == '3' && s[1] == '5' && luhn(s)
}
