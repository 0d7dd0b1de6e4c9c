package detect

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBankCard(t *testing.T) {
	c16 := withLuhn("621700123456789")
	c19 := withLuhn("622202123456789012")
	amex := "378282246310005"
	nine := withLuhn("999880123456789012") // 9998: in no issuer range
	icbc9558 := withLuhn("955880123456789012")
	two := withLuhn("222100123456789")
	icbc18 := withLuhn("62020012345678901")    // 620200: an 18-digit ICBC BIN
	serial405 := withLuhn("40512345678901234") // 18 digits, Visa's 4: no 18-digit range
	serial62 := withLuhn("62999912345678901")  // 18 digits, UnionPay's 62 outside its 18-digit BINs
	unlisted16 := withLuhn("563012345678901")  // 56: no scheme range
	runCases(t, []tcase{
		one("16", "退款至银行卡 6214831231007722 流水号", BankCard, "6214831231007722", ""),
		one("19", "卡号:"+c19, BankCard, c19, ""),
		one("grouped 4-4-4-4-3", "退款至银行卡 6225 8840 0390 2660 564 流水号", BankCard, "6225 8840 0390 2660 564", "6225884003902660564"),
		one("grouped dash", "card 4111-1111-1111-1111.", BankCard, "4111-1111-1111-1111", "4111111111111111"),
		one("full-width", "卡号"+toFullWidth(c16), BankCard, toFullWidth(c16), c16),
		one("amex", "amex "+amex, BankCard, amex, ""),
		one("amex grouped", "amex 3782 822463 10005", BankCard, "3782 822463 10005", amex),
		one("9 with keyword", "银行卡号："+nine, BankCard, nine, ""),
		one("2-series with keyword", "信用卡 "+two, BankCard, two, ""),
		one("card and decoy", "银行卡 "+c16+" 流水号 1686681908806184911", BankCard, c16, ""),
		one("16 without keyword", "退款 6214831231007722 流水号", BankCard, "6214831231007722", ""),
		one("domestic 9558 range without keyword", "流水号 "+icbc9558, BankCard, icbc9558, ""),
		one("18-digit BIN without keyword", "结算 "+icbc18, BankCard, icbc18, ""),
		one("18 digits outside a range, with keyword", "卡号 "+serial405, BankCard, serial405, ""),
		one("62 outside its 18-digit BINs, with keyword", "银行卡:"+serial62, BankCard, serial62, ""),
		one("16 outside the scheme ranges, with keyword", "借记卡 "+unlisted16, BankCard, unlisted16, ""),
		none("luhn fails", "卡号 "+withoutLuhn("621700123456789")),
		none("9 without keyword", "流水号 "+nine),
		one("9 with keyword too far", "银行卡 "+c16+" 流水号 "+nine, BankCard, c16, ""),
		none("2-series without keyword", "订单 "+two),
		none("18 digits outside a range (结算单号)", "结算单号 "+serial405),
		none("62 outside its 18-digit BINs", "结算单号 "+serial62),
		none("16 outside the scheme ranges", "单号 "+unlisted16),
		none("keyword before other digits", "卡号 2024 "+serial405),
		none("snowflake", "id=1686681908806184911"),
		none("hex digest sha256", "3f252edc87ff4adfa36d0840164709ab7f3f386d0cd566647b5aa666347428c3"),
		none("hex digest md5", "md5=d41d8cd98f00b204e9800998ecf8427e"),
		none("masked", "622***********1234 6222 **** **** 1234"),
		none("grouped with a sixth group", "6225 8840 0390 2660 564 1"),
		none("uneven groups", "62258 8400 3902 660564"),
	})
	// A column hint is context, as a keyword is.
	if typ, _, ok := Whole(serial405, BankCard); !ok || typ != BankCard {
		t.Errorf("18 digits outside a range in a card column: %q, ok %v", typ, ok)
	}
	if _, _, ok := Whole(serial405, ""); ok {
		t.Error("18 digits outside a range in a column without a hint: reported")
	}
}

func TestValidCard(t *testing.T) {
	checkValidator(t, "ValidCard", ValidCard, []vcase{
		{"6214831231007722", true},
		{"6214831231007723", false},
		{"378282246310005", true},
		{withLuhn("999880123456789012"), false},
		{withLuhn("955880123456789012"), true},
		{withLuhn("62020012345678901"), true},
		{withLuhn("40512345678901234"), false},
	})
}

// TestSerialsAreNotCards: one million random 18-digit serial numbers (结算单号,
// fixed seed) without a card keyword; Luhn alone passes one in ten, Luhn and a
// first digit 3–6 (the rule before the issuer table) one in 25. The issuer
// table must keep it under one in a thousand.
func TestSerialsAreNotCards(t *testing.T) {
	const n = 1000000
	g := newGen(2026)
	var b strings.Builder
	b.Grow(n * 24)
	for i := 0; i < n; i++ {
		b.WriteString("结算单号 ")
		b.WriteString(g.digits(18))
		b.WriteByte('\n')
	}
	cards := 0
	FindIn([]byte(b.String()), 0, b.Len(), func(m Match) {
		if m.Type == BankCard {
			cards++
		}
	})
	rate := float64(cards) / n
	t.Logf("%d of %d random 18-digit serials called bank_card (%.4f%%)", cards, n, 100*rate)
	if rate >= 0.001 {
		t.Errorf("%.4f%% of random 18-digit serials called bank_card; want under 0.1%%", 100*rate)
	}
}

func TestBinsTable(t *testing.T) {
	for k := 15; k <= 19; k++ {
		if len(issuers[k]) == 0 {
			t.Errorf("data/bins.txt lists no range of %d digits", k)
		}
	}
	for _, c := range []struct{ text, want string }{
		{"62 16,19 ok\n4", "line 2: want PREFIX"},
		{"62-621 16 x", `prefix range "62-621"`},
		{"63-62 16 x", `prefix range "63-62"`},
		{"6x 16 x", `prefix range "6x"`},
		{"12345678901 16 x", `prefix range "12345678901"`},
		{"62 14 x", `card length "14"`},
		{"62 16,,19 x", `card length ""`},
	} {
		if _, err := parseBins(c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseBins(%q): %v, want an error with %q", c.text, err, c.want)
		}
	}
	// ranges merge and overlap; the search finds the last range at or below
	tab, err := parseBins("# c\n62 16\n621-623 16\n6299 16 # more\n65 16\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := tab[16]; len(got) != 2 || got[0].lo != 6200000000 || got[0].hi != 6299999999 {
		t.Errorf("merged ranges: %v", got)
	}
}

func TestIssuerRange(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"6200000000000000", true},
		{"6299999999999999", true},
		{"6300000000000000", false},
		{"6199999999999999", false},
		{"4000000000000000", true},
		{"400000000000000000", false},
		{"6202000000000000000"[:18], true},
		{"6201990000000000000"[:18], false},
		{"9558000000000000000", true},
		{"9557999999999999999", false},
		{"0000000000000000", false},
		{"9999999999999999999", false},
	} {
		if got := issuerRange(c.s); got != c.want {
			t.Errorf("issuerRange(%s…, %d digits) = %v, want %v", c.s[:6], len(c.s), got, c.want)
		}
	}
}

// TestLuhnLanes checks luhn against the rule written out, for every length a
// card can have and a few around them.
func TestLuhnLanes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 200000; n++ {
		l := 1 + r.IntN(24)
		b := make([]byte, l)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		if n%7 == 0 {
			for i := range b {
				b[i] = '9' // the largest lanes
			}
		}
		sum := 0
		for i := range b {
			d := int(b[len(b)-1-i] - '0')
			if i%2 == 1 {
				if d *= 2; d > 9 {
					d -= 9
				}
			}
			sum += d
		}
		want := sum%10 == 0
		if got := luhn(b); got != want {
			t.Fatalf("luhn of %d digits (case %d) = %v, want %v", l, n, got, want)
		}
		if got := luhn(string(b)); got != want {
			t.Fatalf("luhn of a string of %d digits (case %d) = %v, want %v", l, n, got, want)
		}
	}
}
