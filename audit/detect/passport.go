package detect

// cn_passport and cn_hmt_permit: 护照 and 港澳/台湾通行证, 回乡证, 台胞证 numbers.
// They have no check digit, so they are reported only after a keyword or
// with a column hint.

var (
	passportKw = []string{"护照", "passport"}
	permitKw   = []string{"通行证", "回乡证", "台胞证", "港澳", "往来", "台湾", "香港", "澳门"}
	// a bare 8-digit number is a permit only after one of these
	bareKw = []string{"台胞证", "通行证", "台湾居民"}
)

func permitKwFor(bare bool) []string {
	if bare {
		return bareKw
	}
	return permitKw
}

// passportShape: E/G + 8 digits, E + letter + 7 digits, DE/SE/PE + 7 digits,
// older D/S/P + 7 or 8 digits, 1990s 14/15 + 7 digits.
func passportShape(w []byte) bool {
	switch len(w) {
	case 9:
		switch w[0] {
		case 'E':
			return digitsFrom(w, 1) || class[w[1]]&cUpper != 0 && digitsFrom(w, 2)
		case 'G':
			return digitsFrom(w, 1)
		case 'D', 'S', 'P':
			return digitsFrom(w, 1) || w[1] == 'E' && digitsFrom(w, 2)
		case '1':
			return (w[1] == '4' || w[1] == '5') && digitsFrom(w, 0)
		}
	case 8:
		switch w[0] {
		case 'D', 'S', 'P':
			return digitsFrom(w, 1)
		}
	}
	return false
}

// permitShape: 往来港澳通行证 C/W + 8 digits or C + letter + 7 digits;
// 往来台湾通行证 L/T + 8 digits; 台胞证 8 digits (the caller rejects one that
// is joined to other numbers);
// 回乡证 H/M + 8–10 digits.
func permitShape(w []byte, allDigit bool) bool {
	switch n := len(w); {
	case n == 8 && allDigit:
		return true
	case n == 9 && (w[0] == 'C' || w[0] == 'W' || w[0] == 'L' || w[0] == 'T' || w[0] == 'H' || w[0] == 'M'):
		return digitsFrom(w, 1) || w[0] == 'C' && class[w[1]]&cUpper != 0 && digitsFrom(w, 2)
	case (n == 10 || n == 11) && (w[0] == 'H' || w[0] == 'M'):
		return digitsFrom(w, 1)
	}
	return false
}
