package detect

// cn_uscc: 统一社会信用代码 (GB 32100-2015) with the embedded GB 11714
// organisation code.

// ValidUSCC reports whether s is a unified social credit code (GB 32100-2015).
func ValidUSCC(s string) bool { return validUSCC(s) }

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

// The standards' weights are powers: GB 32100's for characters 0..16 are
// 3^i mod 31 (1, 3, 9, 27, 19, 26, ...), GB 11714's for the organisation
// code's 8 are 2^(8-i) mod 11 (3, 7, 9, 10, 5, 8, 4, 2). So validUSCC takes
// both weighted sums by Horner's rule, a multiply-add a character, and
// reduces them once at the end (TestUSCCWeights keeps them to the tables).

// validUSCC: GB 32100-2015 registration authority and category, a region code
// with a real province prefix (10 for central bodies), the embedded GB 11714
// organisation-code check and the mod-31 check character.
func validUSCC[T text](s T) bool {
	if len(s) != 18 {
		return false
	}
	_ = s[17] // one bounds check for the loops below
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
	if p := num2(s, 2); !provinces[p] && p != 10 {
		return false
	}
	// The embedded organisation code's check over 8..15 first: it rejects
	// most numbers that only look like a code for 8 products, not 17.
	org := 0 // sum of v_i * 2^(8-i)
	for i := 8; i < 16; i++ {
		v := int(orgIdx[s[i]])
		if v < 0 {
			return false
		}
		org = 2 * (org + v)
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
	// Every character from the USCC alphabet, with the code's weighted sum
	// over 0..16.
	sum := 0 // sum of v_i * 3^i
	for i := 16; i >= 0; i-- {
		v := int(usccIdx[s[i]])
		if v < 0 {
			return false
		}
		sum = 3*sum + v
	}
	v := 31 - sum%31
	if v == 31 {
		v = 0
	}
	return s[17] == usccChars[v]
}
