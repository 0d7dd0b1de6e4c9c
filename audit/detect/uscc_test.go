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
