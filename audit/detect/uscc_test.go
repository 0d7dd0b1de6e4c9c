package detect

import "testing"

func TestUSCC(t *testing.T) {
	runCases(t, []tcase{
		one("log", "定点医药机构统一社会信用代码=91210106UHUXQEEG57 名称=大学附属医院", USCC, "91210106UHUXQEEG57", ""),
		one("all digits org", "信用代码 123502032Y0UM0663M", USCC, "123502032Y0UM0663M", ""),
		one("central body 10", "code:12100000758005171Y;", USCC, "12100000758005171Y", ""),
		one("full-width", "代码"+toFullWidth("91110108448862426B"), USCC, toFullWidth("91110108448862426B"), "91110108448862426B"),
		none("wrong check", "信用代码 91210106UHUXQEEG58"),
		none("wrong org check", "信用代码 91210106UHUXQEEH57"),
		none("lower case", "信用代码 91210106uhuxqeeg57"),
		none("bad region", "信用代码 91990106UHUXQEEG57"),
	})
}

func TestValidUSCC(t *testing.T) {
	checkValidator(t, "ValidUSCC", ValidUSCC, []vcase{
		{"91210106UHUXQEEG57", true},
		{"91210106UHUXQEEG58", false},
	})
}

// TestUSCCWeights checks that the powers validUSCC's Horner sums stand for
// are the weights the standards print.
func TestUSCCWeights(t *testing.T) {
	usccWeights := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28} // GB 32100-2015
	orgWeights := []int{3, 7, 9, 10, 5, 8, 4, 2}                                         // GB 11714-1997
	p := 1
	for i, w := range usccWeights {
		if p%31 != w {
			t.Errorf("3^%d mod 31 = %d, GB 32100 weight %d", i, p%31, w)
		}
		p *= 3
	}
	for i, w := range orgWeights {
		if q := (1 << (8 - i)) % 11; q != w {
			t.Errorf("2^%d mod 11 = %d, GB 11714 weight %d", 8-i, q, w)
		}
	}
}
