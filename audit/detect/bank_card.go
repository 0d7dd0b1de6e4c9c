package detect

// bank_card: payment card numbers, Luhn and an issuer range (bins.go).

// cardKw are the words that, just before a number, make it a card number.
var cardKw = []string{"卡号", "银行卡", "信用卡", "借记卡", "储蓄卡", "card", "账号", "帐号"}

// ValidCard reports whether s is a payment card number without context: 15–19
// digits that pass Luhn, in an issuer range of data/bins.txt for their length.
func ValidCard(s string) bool { return validCard(s, false) }

// card validates a card number at ws: in an issuer range, or with a plausible
// prefix and a card keyword or column hint (looked up only then).
func (s *scanner) card(v []byte, ws int) bool {
	// v is all digits: a digit word, or the groups of a grouped number
	if len(v) < 15 || len(v) > 19 || !luhn(v) {
		return false
	}
	return issuerRange(v) || plausibleCard(v) && s.keyword(ws, cardKw, kwGapCard, BankCard)
}

// luhn reports that the digits s pass the Luhn check: from the right, a
// digit as it is, then one doubled (less 9 above 9), must add up to a
// multiple of 10.
//
// Numbers of 16 digits or more (every card-length number of a log comes
// here) take their last 16 digits as two eight-byte words at once: counted
// from the right, the bytes at even offsets of each word are the doubled
// ones. Those are spread into 16-bit lanes, doubled, less 9 where the digit
// is 5 or more (d+11 carries into bit 4); the others join them in the lanes;
// and one multiply adds up the lanes into the top one (at most 8 x 18 = 144,
// so no lane carries into the next). The digits before them go one by one.
func luhn[T text](s T) bool {
	sum, i := 0, len(s)-1
	if len(s) >= 16 {
		lanes := luhnLanes(le64(s, len(s)-16)) + luhnLanes(le64(s, len(s)-8))
		sum, i = int(lanes*0x0001000100010001>>48), len(s)-17
	}
	for ; i >= 1; i -= 2 {
		sum += int(s[i]-'0') + luhnDouble[s[i-1]]
	}
	if i == 0 {
		sum += int(s[0] - '0')
	}
	return sum%10 == 0
}

// luhnLanes is luhn's eight digits x in four 16-bit lanes: each lane holds
// a doubled digit's Luhn value and the next digit's value.
func luhnLanes(x uint64) uint64 {
	const even, ones = 0x00FF00FF00FF00FF, 0x0001000100010001
	x -= 0x30 * lsb // digit values; they are digits, so nothing borrows
	dbl := x & even
	return x>>8&even + 2*dbl - 9*((dbl+11*ones)>>4&ones)
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

// validCard reports a card number: 15–19 digits that pass Luhn, in an issuer
// range of data/bins.txt; with kw (a card keyword or column hint nearby), any
// plausible prefix will do (plausibleCard).
func validCard[T text](s T, kw bool) bool {
	return allDigits(s) && cardOK(s, kw)
}

// cardOK is validCard for s the caller knows to be all digits.
func cardOK[T text](s T, kw bool) bool {
	n := len(s)
	if n < 15 || n > 19 || !luhn(s) {
		return false
	}
	return issuerRange(s) || kw && plausibleCard(s)
}

// plausibleCard is the prefix rule for a number with a card keyword or hint
// nearby: an issuer prefix 3, 4, 5 or 6 at 16–19 digits (American Express 34
// and 37 at 15), Mastercard's 2221–2720 at 16, and 9 for domestic cards.
func plausibleCard[T text](s T) bool {
	n := len(s)
	if n == 15 {
		return s[0] == '3' && (s[1] == '4' || s[1] == '7')
	}
	switch s[0] {
	case '3', '4', '5', '6', '9':
		return true
	case '2':
		p := num4(s, 0)
		return n == 16 && p >= 2221 && p <= 2720
	}
	return false
}
