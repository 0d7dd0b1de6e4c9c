package detect

// bank_card: payment card numbers, Luhn and an issuer range (bins.go).

// cardKw are the words that, just before a number, make it a card number.
var cardKw = []string{"卡号", "银行卡", "信用卡", "借记卡", "储蓄卡", "card", "账号", "帐号"}

// ValidCard reports whether s is a payment card number: 16–19 digits starting
// with 3, 4, 5 or 6 (15 for American Express 34/37) that pass Luhn.
func ValidCard(s string) bool { return validCard(s, false) }

// card validates a card number at ws; the keyword is looked up only for the
// prefixes that need one.
func (s *scanner) card(v []byte, ws int) bool {
	// v is all digits: a digit word, or the groups of a grouped number
	if v[0] == '2' || v[0] == '9' {
		return cardOK(v, true) && s.keyword(ws, cardKw, kwGapCard, BankCard)
	}
	return cardOK(v, false)
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
