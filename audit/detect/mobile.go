package detect

// cn_mobile: mainland mobile numbers, with an allocated 1xx prefix, and the
// country code forms 86, +86 and 0086 before them.

// ValidMobile reports whether s is an 11-digit mainland mobile number with an
// allocated prefix.
func ValidMobile(s string) bool { return validMobile(s) }

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

func validMobile[T text](s T) bool {
	return len(s) == 11 && allDigits(s) && mobileOK(s)
}

// mobileOK is validMobile for 11 characters the caller knows to be digits.
func mobileOK[T text](s T) bool {
	return s[0] == '1' && mobilePrefix[num2(s, 1)]
}

// plusBefore extends a joined +86 number to its '+'.
func (s *scanner) plusBefore(ws int) int {
	if c, n := charBefore(s.buf, ws); c == '+' {
		return ws - n
	}
	return ws
}

// mobilePrefix returns where a mobile number at ws starts when a separate
// country code ("86", "+86", "0086") stands before it, one separator apart.
func (s *scanner) mobilePrefix(ws int) int {
	buf := s.buf
	// Most numbers have no digit one ASCII separator before them: decided
	// from raw bytes (a full-width separator is decoded below).
	if ws < 2 || buf[ws-1] < 0x80 && (!isSep(buf[ws-1]) || !digitMayEnd(buf, ws-1)) {
		return ws
	}
	c, n := charBefore(buf, ws)
	if !isSep(c) {
		return ws
	}
	j := ws - n
	k, nd := j, 0
	var d [5]byte
	for nd < 5 {
		c, n := charBefore(buf, k)
		if class[c]&cDigit == 0 {
			break
		}
		d[4-nd] = c
		k -= n
		nd++
	}
	if !(nd == 2 && d[3] == '8' && d[4] == '6' || nd == 4 && d[1] == '0' && d[2] == '0' && d[3] == '8' && d[4] == '6') {
		return ws
	}
	c, n = charBefore(buf, k)
	switch {
	case c == '+':
		return k - n
	case class[c]&cAlnum != 0:
		return ws
	case isSep(c):
		// "2024 86 138…": the 86 continues a run of numbers, it is no prefix.
		if c2, _ := charBefore(buf, k-n); class[c2]&cDigit != 0 {
			return ws
		}
	}
	return k
}
