// Package gen makes fake but valid identifiers and realistic decoys for the
// demo, the benchmarks and tests. Every value is synthetic; nothing here is
// about a real person.
package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var regions = []string{"110101", "110105", "120104", "310104", "320106", "330106", "350203", "370202",
	"410102", "420106", "440305", "440306", "500103", "510107", "610102", "650102"}

var mobilePrefixes = []string{"130", "135", "138", "139", "150", "152", "158", "166", "177", "180", "186", "189", "191", "199"}

var cardBINs = []string{"622202", "622848", "621700", "621661", "622588", "623052", "625965"}

// Gen produces fake identifiers from a seeded source, so runs are repeatable.
type Gen struct{ r *rand.Rand }

// New returns a generator seeded with seed.
func New(seed uint64) *Gen { return &Gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

// From returns a generator drawing from r, for a test that has its own.
func From(r *rand.Rand) *Gen { return &Gen{r: r} }

func (g *Gen) digits(n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

// ResidentID returns a valid 18-digit resident ID number.
func (g *Gen) ResidentID() string {
	body := fmt.Sprintf("%s%04d%02d%02d%03d", regions[g.r.IntN(len(regions))],
		1940+g.r.IntN(80), 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(1000))
	return body + idCheck(body)
}

func idCheck(body17 string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range body17 {
		sum += int(c-'0') * w[i]
	}
	return string("10X98765432"[sum%11])
}

// SerialLikeID returns a region+date+sequence number shaped like an ID whose
// check digit is wrong: a decoy.
func (g *Gen) SerialLikeID() string {
	id := g.ResidentID()
	last := id[17]
	for {
		c := "0123456789"[g.r.IntN(10)]
		if c != last {
			return id[:17] + string(c)
		}
	}
}

// Serial returns a settlement serial shaped as 医保 systems make them:
// region + date + a 4-digit sequence, 18 digits. Its last digit equals the
// resident-ID check character about 1 time in 11, which is how a column of
// them must be told from a column of ID numbers (by pass rate, not by one
// value).
func (g *Gen) Serial() string {
	return fmt.Sprintf("%s%04d%02d%02d%04d", regions[g.r.IntN(len(regions))],
		2020+g.r.IntN(6), 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(10000))
}

// Mobile returns an allocated mainland mobile number.
func (g *Gen) Mobile() string { return mobilePrefixes[g.r.IntN(len(mobilePrefixes))] + g.digits(8) }

// Card returns a Luhn-valid UnionPay card number of 16 or 19 digits.
func (g *Gen) Card() string {
	n := 16
	if g.r.IntN(2) == 0 {
		n = 19
	}
	body := cardBINs[g.r.IntN(len(cardBINs))] + g.digits(n-7)
	for c := '0'; c <= '9'; c++ {
		if luhn(body + string(c)) {
			return body + string(c)
		}
	}
	panic("unreachable")
}

func luhn(s string) bool {
	sum, alt := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if alt {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		alt = !alt
	}
	return sum%10 == 0
}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
const orgChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// USCC returns a valid unified social credit code.
func (g *Gen) USCC() string {
	var org strings.Builder
	for range 8 {
		org.WriteByte(usccChars[g.r.IntN(10+g.r.IntN(2)*21)])
	}
	ow := []int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range org.String() {
		sum += strings.IndexRune(orgChars, c) * ow[i]
	}
	v := 11 - sum%11
	check := fmt.Sprint(v)
	switch v {
	case 10:
		check = "X"
	case 11:
		check = "0"
	}
	body := []string{"91", "12", "52", "93"}[g.r.IntN(4)] + regions[g.r.IntN(len(regions))] + org.String() + check
	uw := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum = 0
	for i, c := range body {
		sum += strings.IndexRune(usccChars, c) * uw[i]
	}
	cv := 31 - sum%31
	if cv == 31 {
		cv = 0
	}
	return body + string(usccChars[cv])
}

// Email returns a fake e-mail address.
func (g *Gen) Email() string {
	var b strings.Builder
	for range 5 + g.r.IntN(6) {
		b.WriteByte(byte('a' + g.r.IntN(26)))
	}
	return b.String() + g.digits(3) + "@" + []string{"qq.com", "163.com", "ybj.gov.cn", "hospital.org.cn"}[g.r.IntN(4)]
}

// Decoy returns a value that looks like an identifier and is not one: a ms
// timestamp, an order number, a snowflake id, a hex digest, a masked value.
func (g *Gen) Decoy() string {
	switch g.r.IntN(6) {
	case 0:
		return fmt.Sprint(1600000000000 + g.r.Int64N(200000000000))
	case 1:
		return "2026" + g.digits(14)
	case 2:
		return "1" + g.digits(18)
	case 3:
		return fmt.Sprintf("%016x%016x", g.r.Uint64(), g.r.Uint64())
	case 4:
		m := g.Mobile()
		return m[:3] + "****" + m[7:]
	default:
		return g.SerialLikeID()
	}
}

var names = []string{"王伟", "李娜", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄丽"}

// Name returns a fake Chinese name.
func (g *Gen) Name() string { return names[g.r.IntN(len(names))] }

// LogLine returns one dense log line with a mix of identifiers and decoys.
func (g *Gen) LogLine(i int) string {
	ts := fmt.Sprintf("2026-%02d-%02d %02d:%02d:%02d", 1+i%12, 1+i%28, i%24, i%60, (i*7)%60)
	switch i % 6 {
	case 0:
		return fmt.Sprintf("%s INFO settle 参保人%s 身份证号:%s 结算成功 金额%d.%02d元 trace=%s", ts, g.Name(), g.ResidentID(), g.r.IntN(5000), g.r.IntN(100), g.Decoy())
	case 1:
		return fmt.Sprintf("%s WARN contact 手机号码 %s 短信发送失败 retry=%d order=%s", ts, g.Mobile(), g.r.IntN(999), g.Decoy())
	case 2:
		return fmt.Sprintf("%s DEBUG pay 退款至银行卡 %s 流水号 %s", ts, g.Card(), g.Decoy())
	case 3:
		return fmt.Sprintf("%s INFO org 统一社会信用代码=%s email=%s", ts, g.USCC(), g.Email())
	case 4:
		return fmt.Sprintf("%s INFO batch 处理记录 %s 耗时 %dms", ts, g.Decoy(), g.r.IntN(1000))
	default:
		return fmt.Sprintf("%s ERROR upstream id=%s peer=%s 超时", ts, g.Decoy(), g.Decoy())
	}
}
