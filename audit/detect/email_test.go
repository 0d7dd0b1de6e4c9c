package detect

import "testing"

func TestEmail(t *testing.T) {
	runCases(t, []tcase{
		one("log", "INFO notify email=hatlltoes496@hospital.org.cn 订单 1706800914516", Email, "hatlltoes496@hospital.org.cn", ""),
		one("mixed case", "联系邮箱：Zhang.San+yb@Example.COM。", Email, "Zhang.San+yb@Example.COM", "zhang.san+yb@example.com"),
		one("digits local part", "QQ邮箱 13812345678@qq.com", Email, "13812345678@qq.com", ""),
		one("grouped digits local part", "mail 138-1234-5678@qq.com", Email, "138-1234-5678@qq.com", "138-1234-5678@qq.com"),
		one("full-width", "邮箱"+toFullWidth("zhang@qq.com"), Email, toFullWidth("zhang@qq.com"), "zhang@qq.com"),
		one("angle brackets", "<li.ming@ybj.gov.cn>", Email, "li.ming@ybj.gov.cn", ""),
		one("trailing dot", "写信给 a_b@c-d.com.", Email, "a_b@c-d.com", ""),
		one("leading dots", "...x1@qq.com", Email, "x1@qq.com", ""),
		none("no dot in domain", "user@localhost"),
		none("numeric tld", "user@10.0.0.1"),
		none("one-letter tld", "a@b.c"),
		none("empty local part", "email=@qq.com @mention"),
		none("double dot", "a..b@qq.com"),
		none("trailing dot local", "ab.@qq.com"),
	})
}

func TestValidEmail(t *testing.T) {
	checkValidator(t, "ValidEmail", ValidEmail, []vcase{
		{"a.b@qq.com", true},
		{"a.b@qq", false},
		{"x a.b@qq.com", false},
	})
}
