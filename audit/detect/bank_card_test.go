package detect

import "testing"

func TestBankCard(t *testing.T) {
	c16 := withLuhn("621700123456789")
	c19 := withLuhn("622202123456789012")
	amex := "378282246310005"
	nine := withLuhn("955880123456789012")
	two := withLuhn("222100123456789")
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
		none("luhn fails", "卡号 "+withoutLuhn("621700123456789")),
		none("9 without keyword", "流水号 "+nine),
		one("9 with keyword too far", "银行卡 "+c16+" 流水号 "+nine, BankCard, c16, ""),
		none("2-series without keyword", "订单 "+two),
		none("snowflake", "id=1686681908806184911"),
		none("hex digest sha256", "3f252edc87ff4adfa36d0840164709ab7f3f386d0cd566647b5aa666347428c3"),
		none("hex digest md5", "md5=d41d8cd98f00b204e9800998ecf8427e"),
		none("masked", "622***********1234 6222 **** **** 1234"),
		none("grouped with a sixth group", "6225 8840 0390 2660 564 1"),
		none("uneven groups", "62258 8400 3902 660564"),
	})
}

func TestValidCard(t *testing.T) {
	checkValidator(t, "ValidCard", ValidCard, []vcase{
		{"6214831231007722", true},
		{"6214831231007723", false},
		{"378282246310005", true},
		{withLuhn("955880123456789012"), false},
	})
}
