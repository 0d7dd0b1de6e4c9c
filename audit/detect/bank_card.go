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
