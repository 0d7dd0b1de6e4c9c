package detect

import "testing"

func TestMobile(t *testing.T) {
	runCases(t, []tcase{
		one("plain", "手机号码 15964363363 短信", Mobile, "15964363363", ""),
		one("+86 space", "手机号码 +86 19067916011 短信", Mobile, "+86 19067916011", "19067916011"),
		one("+86 joined", "tel:+8613812345678,", Mobile, "+8613812345678", "13812345678"),
		one("86 joined", "tel 8613812345678", Mobile, "8613812345678", "13812345678"),
		one("0086 joined", "tel 008613812345678", Mobile, "008613812345678", "13812345678"),
		one("0086 dash", "tel 0086-13812345678", Mobile, "0086-13812345678", "13812345678"),
		one("3-4-4 dash", "电话 138-1234-5678。", Mobile, "138-1234-5678", "13812345678"),
		one("3-4-4 space", "电话 138 1234 5678", Mobile, "138 1234 5678", "13812345678"),
		one("+86 3-4-4", "电话 +86 138 1234 5678", Mobile, "+86 138 1234 5678", "13812345678"),
		one("+86-3-4-4", "电话+86-138-1234-5678", Mobile, "+86-138-1234-5678", "13812345678"),
		one("paren", "(+86)13812345678", Mobile, "13812345678", ""),
		one("full-width", "手机："+toFullWidth("13812345678"), Mobile, toFullWidth("13812345678"), "13812345678"),
		one("full-width grouped", "手机："+toFullWidth("+86 138-1234-5678"), Mobile, toFullWidth("+86 138-1234-5678"), "13812345678"),
		one("ideographic space groups", "手机 138\u30001234\u30005678", Mobile, "138\u30001234\u30005678", "13812345678"),
		none("satellite 1740x", "卫星电话 17400123456"),
		one("CJK around", "联系人张三13812345678已通知", Mobile, "13812345678", ""),
		one("after a number", "2024 13812345678", Mobile, "13812345678", ""),
		none("unallocated 179", "处理完成 17946092858"),
		none("unallocated 100", "处理记录 10009171452"),
		none("174 not satellite", "17455223856"),
		none("ms timestamp", "订单 1706800914516 ts=1732456789012"),
		none("snowflake", "id=1570341070499588179"),
		none("landline", "流水号 010-21146569 0755-63371584 028-23269910"),
		none("masked", "138****5678 tel=171****2722"),
		none("decimal fraction", "score=0.13812345678 v1.13812345678"),
		one("float export", "phone,13812345678.0,", Mobile, "13812345678", ""),
		none("3-4-4 continued", "138 1234 5678 9"),
		none("letters", "abc13812345678 13812345678abc"),
		none("12 digits", "138123456789"),
		one("in e-mail domain", "x@mail.13812345678.cn", Email, "x@mail.13812345678.cn", ""),
		none("in e-mail domain without TLD", "x@mail.13812345678"),
	})
}

func TestValidMobile(t *testing.T) {
	checkValidator(t, "ValidMobile", ValidMobile, []vcase{
		{"13812345678", true},
		{"17946092858", false},
		{"+8613812345678", false},
	})
}
