package detect

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Helpers that make valid identifiers, so the tests do not depend on a few
// memorised values.

func withIDCheck(body17 string) string {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body17[i]-'0') * idWeights[i]
	}
	return body17 + string(idCheck[sum%11])
}

// wrongIDCheck returns body17 with a check character that is not the right one.
func wrongIDCheck(body17 string) string {
	right := withIDCheck(body17)[17]
	for _, c := range "0123456789X" {
		if byte(c) != right {
			return body17 + string(c)
		}
	}
	panic("unreachable")
}

func withLuhn(body string) string {
	for c := '0'; c <= '9'; c++ {
		if s := body + string(c); luhn(s) {
			return s
		}
	}
	panic("unreachable")
}

func withoutLuhn(body string) string {
	for c := '0'; c <= '9'; c++ {
		if s := body + string(c); !luhn(s) {
			return s
		}
	}
	panic("unreachable")
}

func toFullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7F {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

var genRegions = []string{"110101", "110105", "310104", "440306", "510107", "650102", "330106", "420106", "520102"}
var genBins = []string{"622202", "622848", "621700", "621661", "622588", "623052", "625965", "628288"}
var genPrefixes = []string{"130", "135", "139", "147", "150", "158", "166", "171", "177", "186", "189", "191", "199"}

type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, 7))} }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) id() string {
	y := 1930 + g.r.IntN(90)
	return withIDCheck(fmt.Sprintf("%s%04d%02d%02d%s", genRegions[g.r.IntN(len(genRegions))], y, 1+g.r.IntN(12), 1+g.r.IntN(28), g.digits(3)))
}

func (g *gen) mobile() string { return genPrefixes[g.r.IntN(len(genPrefixes))] + g.digits(8) }

func (g *gen) card() string {
	n := 16
	if g.r.IntN(2) == 0 {
		n = 19
	}
	return withLuhn(genBins[g.r.IntN(len(genBins))] + g.digits(n-7))
}

func (g *gen) email() string {
	return fmt.Sprintf("u%s%d@%s", g.digits(3), g.r.IntN(1000), []string{"qq.com", "163.com", "ybj.gov.cn", "hospital.org.cn"}[g.r.IntN(4)])
}

func (g *gen) hex(n int) string {
	const hx = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hx[g.r.IntN(16)]
	}
	return string(b)
}

// decoy is a number that must never match.
func (g *gen) decoy() string {
	switch g.r.IntN(9) {
	case 0:
		return "17" + g.digits(11) // ms timestamp
	case 1:
		return "1" + g.digits(18) // snowflake
	case 2:
		return "0" + g.digits(2) + "-" + g.digits(8) // landline
	case 3:
		return g.hex(64)
	case 4:
		return genPrefixes[g.r.IntN(len(genPrefixes))] + "****" + g.digits(4)
	case 5:
		return wrongIDCheck(g.id()[:17])
	case 6:
		return "86" + g.digits(13) // IMEI-like
	case 7:
		return g.digits(5) + g.id() // 23-digit run
	default:
		return "2026" + g.digits(14) // order number
	}
}

// logLine is one line shaped like the corpus logs; it returns how many
// identifiers it holds.
func (g *gen) logLine(b *strings.Builder) int {
	fmt.Fprintf(b, "2026-%02d-%02d %02d:%02d:%02d ", 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
	n := 1
	switch g.r.IntN(8) {
	case 0:
		fmt.Fprintf(b, "INFO settle.service 参保人王伟 身份证号:%s 结算成功 金额%d.%02d元", g.id(), g.r.IntN(3000), g.r.IntN(100))
	case 1:
		fmt.Fprintf(b, "WARN contact 手机号码 %s 短信发送失败 retry=%d", g.mobile(), g.r.IntN(1000))
	case 2:
		fmt.Fprintf(b, "DEBUG pay 退款至银行卡 %s 流水号 %s", g.card(), g.decoy())
	case 3:
		fmt.Fprintf(b, "INFO notify email=%s 订单 %s", g.email(), g.decoy())
	case 4:
		fmt.Fprintf(b, "INFO org 定点医药机构统一社会信用代码=91210106UHUXQEEG57 名称=大学附属医院")
	case 5:
		fmt.Fprintf(b, "ERROR upstream id=%s 超时", g.decoy())
		n = 0
	default:
		fmt.Fprintf(b, "INFO batch 处理记录 %s 耗时 %dms", g.decoy(), g.r.IntN(1000))
		n = 0
	}
	b.WriteByte('\n')
	return n
}

// denseLog returns about size bytes of log text and the identifiers it holds.
func denseLog(seed uint64, size int) ([]byte, int) {
	g := newGen(seed)
	var b strings.Builder
	b.Grow(size + 256)
	n := 0
	for b.Len() < size {
		n += g.logLine(&b)
	}
	return []byte(b.String()), n
}
