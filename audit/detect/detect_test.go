package detect

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

type want struct {
	typ   Type
	text  string // the identifier as written (Start/End must cover exactly this)
	value string // normalised value; "" means text itself
}

type tcase struct {
	name string
	in   string
	want []want
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Find([]byte(tc.in))
			if len(got) != len(tc.want) {
				t.Fatalf("%q: got %d matches %v, want %d", tc.in, len(got), types(got), len(tc.want))
			}
			from := 0
			for i, w := range tc.want {
				start := strings.Index(tc.in[from:], w.text)
				if start < 0 {
					t.Fatalf("bad case: %q not in input", w.text)
				}
				start += from
				m := got[i]
				if m.Type != w.typ || m.Start != start || m.End != start+len(w.text) {
					t.Errorf("%q: match %d = %s [%d,%d) %q, want %s [%d,%d) %q", tc.in, i, m.Type, m.Start, m.End,
						tc.in[m.Start:m.End], w.typ, start, start+len(w.text), w.text)
				}
				v := w.value
				if v == "" {
					v = w.text
				}
				if m.Value != v {
					t.Errorf("%q: value of match %d differs from the expected normalised form", tc.in, i)
				}
				from = start + len(w.text)
			}
		})
	}
}

func types(ms []Match) []Type {
	var ts []Type
	for _, m := range ms {
		ts = append(ts, m.Type)
	}
	return ts
}

func none(name, in string) tcase { return tcase{name: name, in: in} }

func one(name, in string, typ Type, text, value string) tcase {
	return tcase{name: name, in: in, want: []want{{typ, text, value}}}
}

func TestResidentID(t *testing.T) {
	id := "11010519491231002X"
	permitHK := withIDCheck("81000019900101123")
	foreign := withIDCheck("91100019900101123")
	settle := wrongIDCheck("52010220130809917") // region + date + sequence, wrong check
	// a settlement number with the wrong ID check that still passes Luhn and
	// starts with 5: no card either, it reads as a broken ID
	var settleLuhn string
	for seq := 0; settleLuhn == ""; seq++ {
		body := fmt.Sprintf("52010220130809%03d", seq)
		if s := wrongIDCheck(body); luhn(s) {
			settleLuhn = s
		}
	}
	future := withIDCheck(fmt.Sprintf("110105%04d0101001", maxYear+1))
	runCases(t, []tcase{
		one("gitleaks example", "身份证号:"+id+" 结算成功", ResidentID, id, ""),
		one("lower x", "sfz="+strings.ToLower(id)+"。", ResidentID, strings.ToLower(id), id),
		one("full-width", "证件号码："+toFullWidth(id)+"，", ResidentID, toFullWidth(id), id),
		one("full-width lower x", "证件号码"+toFullWidth("11010519491231002x"), ResidentID, toFullWidth("11010519491231002x"), id),
		one("HK residence permit", "居住证 "+permitHK, ResidentID, permitHK, ""),
		one("2023 foreign permanent resident", "永居证 "+foreign, ResidentID, foreign, ""),
		one("legacy 15", "旧证 110105491231002 end", ResidentID, "110105491231002", ""),
		one("grouped 6-8-4", "证件 110105 19491231 002X 备注", ResidentID, "110105 19491231 002X", id),
		one("csv field", "1,王伟,"+id+",", ResidentID, id, ""),
		one("json", `{"sfzh":"`+id+`"}`, ResidentID, id, ""),
		one("suffix dash", "scan-"+id+"-01.pdf", ResidentID, id, ""),
		none("wrong check", "身份证号:110105194912310021"),
		none("settlement with wrong check", "处理记录 "+settle+" 耗时"),
		none("settlement with wrong check passing Luhn", "处理记录 "+settleLuhn+" 耗时"),
		none("future birth year", "id "+future),
		none("bad province", "id "+withIDCheck("99010519491231002"[:0]+"20010519491231002")),
		none("bad date", "id "+withIDCheck("11010519490231002")),
		none("inside 23-digit run", "id=12345"+id[:17]+"0"),
		none("inside 23-digit run ending X", "id=79933010620090509933x26"),
		none("letters before", "ID"+id),
		none("letters after", id+"abc"),
		none("full-width digit after", id+"１"),
		none("masked", "id=110***********1234 and 110105********002X"),
		none("legacy 15 bad date", "110105491331002"),
		none("IMEI 86", "IMEI 868300159857312"),
		none("IMEI 35 that reads as a legacy ID", "IMEI "+withLuhn("35010285010112")),
	})
}

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

func TestPassportPermit(t *testing.T) {
	runCases(t, []tcase{
		one("passport E", "护照号码：E12345678", Passport, "E12345678", ""),
		one("passport G", "护照 G12345678 签发", Passport, "G12345678", ""),
		one("passport EA", "Passport No. EA1234567", Passport, "EA1234567", ""),
		one("passport lower", "passport: ea1234567", Passport, "ea1234567", "EA1234567"),
		one("passport DE", "外交护照 DE1234567", Passport, "DE1234567", ""),
		one("HK/Macao permit", "往来港澳通行证 C12345678", HMTPermit, "C12345678", ""),
		one("HK/Macao permit CA", "港澳通行证号:CA1234567", HMTPermit, "CA1234567", ""),
		one("Taiwan permit", "往来台湾通行证 L12345678", HMTPermit, "L12345678", ""),
		one("MTP", "台胞证 12345678", HMTPermit, "12345678", ""),
		one("home return permit", "回乡证 H1234567890", HMTPermit, "H1234567890", ""),
		one("home return permit M", "港澳居民来往内地通行证：M12345678", HMTPermit, "M12345678", ""),
		none("no keyword", "单号 E12345678 G12345678 C12345678"),
		none("keyword too far", "护照 "+strings.Repeat("很", 12)+"E12345678"),
		none("keyword before other digits", "护照 2024 E12345678"),
		none("bare 8 digits with a weak keyword", "往来 12345678"),
		none("bare 8 digits in a run", "台胞证 12345678 2024"),
	})
}

func TestPrecedence(t *testing.T) {
	// An ID that also passes Luhn is reported as an ID, once.
	g := newGen(3)
	for i := 0; i < 200; i++ {
		id := g.id()
		ms := Find([]byte("x " + id + " y"))
		if len(ms) != 1 || ms[0].Type != ResidentID {
			t.Fatalf("%s: got %v", id[:3], types(ms))
		}
	}
}

func TestNoise(t *testing.T) {
	// Encoded and hashed forms of identifiers never match.
	g := newGen(4)
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		raw := []byte(g.id() + "," + g.mobile() + "," + g.card() + "," + g.email())
		b.WriteString(base64.StdEncoding.EncodeToString(raw))
		b.WriteByte(' ')
		b.WriteString(base64.RawURLEncoding.EncodeToString(raw))
		b.WriteByte(' ')
		b.WriteString(g.hex(64))
		b.WriteByte(' ')
		b.WriteString(g.hex(32))
		b.WriteByte('\n')
		b.WriteString(g.decoy())
		b.WriteByte('\n')
	}
	if ms := Find([]byte(b.String())); len(ms) != 0 {
		t.Errorf("%d matches in encoded/hashed noise, e.g. %s", len(ms), ms[0].Type)
	}
	bin := make([]byte, 1<<20)
	for i := range bin {
		bin[i] = byte(g.r.Uint32())
	}
	if n := Count(bin); n != 0 {
		t.Errorf("%d matches in random bytes", n)
	}
}

func TestWhole(t *testing.T) {
	id := "11010519491231002X"
	for _, tc := range []struct {
		in   string
		hint Type
		typ  Type
		val  string
	}{
		{id, "", ResidentID, id},
		{"  " + toFullWidth(id) + "\u3000", "", ResidentID, id},
		{"13812345678", "", Mobile, "13812345678"},
		{"+86 138-1234-5678", "", Mobile, "13812345678"},
		{"6214831231007722", "", BankCard, "6214831231007722"},
		{"91210106UHUXQEEG57", "", USCC, "91210106UHUXQEEG57"},
		{"A@B.CN", "", Email, "a@b.cn"},
		{"E12345678", Passport, Passport, "E12345678"},
		{"C12345678", HMTPermit, HMTPermit, "C12345678"},
		{"12345678", HMTPermit, HMTPermit, "12345678"},
		{withLuhn("955880123456789012"), BankCard, BankCard, withLuhn("955880123456789012")},
		{"E12345678", "", "", ""},
		{"E12345678", HMTPermit, "", ""},
		{"138****5678", Mobile, "", ""},
		{"tel 13812345678", "", "", ""},
		{"13812345678 13912345678", "", "", ""},
		{"", "", "", ""},
		{"1706800914516", Mobile, "", ""},
	} {
		typ, val, ok := Whole(tc.in, tc.hint)
		if typ != tc.typ || val != tc.val || ok != (tc.typ != "") {
			t.Errorf("Whole(%q, %q) = %q, ok %v; want %q", tc.in, tc.hint, typ, ok, tc.typ)
		}
	}
}

func TestValidators(t *testing.T) {
	checks := []struct {
		f    func(string) bool
		s    string
		want bool
	}{
		{ValidResidentID, "11010519491231002X", true},
		{ValidResidentID, "11010519491231002x", true},
		{ValidResidentID, "110105194912310021", false},
		{ValidResidentID, "110105491231002", true},
		{ValidMobile, "13812345678", true},
		{ValidMobile, "17946092858", false},
		{ValidMobile, "+8613812345678", false},
		{ValidCard, "6214831231007722", true},
		{ValidCard, "6214831231007723", false},
		{ValidCard, "378282246310005", true},
		{ValidCard, withLuhn("955880123456789012"), false},
		{ValidUSCC, "91210106UHUXQEEG57", true},
		{ValidUSCC, "91210106UHUXQEEG58", false},
		{ValidEmail, "a.b@qq.com", true},
		{ValidEmail, "a.b@qq", false},
		{ValidEmail, "x a.b@qq.com", false},
	}
	for _, c := range checks {
		if got := c.f(c.s); got != c.want {
			t.Errorf("validator(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

// chunked runs FindIn over buf cut into chunks of size cs, each with Overlap
// bytes of context on both sides, as a stream reader would.
func chunked(buf []byte, cs int) []Match {
	var out []Match
	for lo := 0; lo < len(buf); lo += cs {
		hi := min(lo+cs, len(buf))
		blo, bhi := max(0, lo-Overlap), min(len(buf), hi+Overlap)
		FindIn(buf[blo:bhi], lo-blo, hi-blo, func(m Match) {
			m.Start += blo
			m.End += blo
			out = append(out, m)
		})
	}
	return out
}

func sameMatches(a, b []Match) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func checkMatches(t *testing.T, buf []byte, ms []Match) {
	t.Helper()
	last := -1
	for _, m := range ms {
		if m.Start < 0 || m.End > len(buf) || m.Start >= m.End {
			t.Fatalf("match out of range: [%d,%d) of %d", m.Start, m.End, len(buf))
		}
		if m.Start < last {
			t.Fatalf("matches out of order or overlapping: %d after end %d", m.Start, last)
		}
		last = m.End
		if m.Value == "" {
			t.Fatalf("empty value")
		}
		for i := 0; i < len(m.Value); i++ {
			if m.Value[i] >= 0x80 {
				t.Fatalf("value not ASCII")
			}
		}
	}
}

func TestChunkedEqualsWhole(t *testing.T) {
	buf, _ := denseLog(11, 300<<10)
	// spice: full-width lines, grouped numbers and long runs without any
	// line break or punctuation, so chunk borders fall everywhere
	g := newGen(12)
	var b bytes.Buffer
	b.Write(buf)
	for i := 0; i < 300; i++ {
		b.WriteString(toFullWidth(g.mobile()) + " 1 2 3 4 5 6 " + g.email() + " +86 138 1234 5678 ")
		b.WriteString(strings.Repeat("ab12", g.r.IntN(300)) + "-" + g.id() + " 6225 8840 0390 2660 564 ")
	}
	buf = b.Bytes()
	whole := Find(buf)
	checkMatches(t, buf, whole)
	for _, cs := range []int{1, 7, 64, 100, 1000, 4096, 65536} {
		if got := chunked(buf, cs); !sameMatches(got, whole) {
			t.Fatalf("chunk size %d: %d matches, whole buffer %d", cs, len(got), len(whole))
		}
	}
}

func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"身份证号:11010519491231002X 手机 +86 138-1234-5678 mail a.b@qq.com",
		"退款至银行卡 6225 8840 0390 2660 564 流水号 1686681908806184911",
		"护照号码：E12345678 台胞证 12345678 回乡证 H1234567890",
		toFullWidth("11010519491231002X 13812345678 zhang@qq.com"),
		"91210106UHUXQEEG57 138****5678 0.13812345678 x@mail.13812345678.cn",
		"138 1234 5678@qq.com 86 13812345678 0086-13812345678",
		"x 138-1234-5678 tail X-110105 19491231 002X 12 3782 822463 10005",
		"....a1@b.cn a@b.cn@c.cn 1.13812345678 x@y.13812345678",
	} {
		f.Add([]byte(s), uint16(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		ms := Find(data)
		checkMatches(t, data, ms)
		cs := int(split)%64 + 1
		if got := chunked(data, cs); !sameMatches(got, ms) {
			t.Fatalf("chunk size %d: %d matches, whole buffer %d", cs, len(got), len(ms))
		}
		// Past Overlap, the context of a chunk is cut: repeat the input so
		// that chunk borders meet truncated context too.
		if len(data) > 0 && len(data) < 4*Overlap {
			big := bytes.Repeat(data, 3*Overlap/len(data)+1)
			whole := Find(big)
			checkMatches(t, big, whole)
			if got := chunked(big, cs*37); !sameMatches(got, whole) {
				t.Fatalf("repeated input, chunk size %d: %d matches, whole buffer %d", cs*37, len(got), len(whole))
			}
		}
	})
}

var sink int

// BenchmarkFind counts identifiers in ~8 MiB of dense generated log text
// (every line holds a timestamp, most hold an identifier or a decoy number).
func BenchmarkFind(b *testing.B) {
	buf, n := denseLog(1, 8<<20)
	if got := Count(buf); got != n {
		b.Fatalf("found %d identifiers, generated %d", got, n)
	}
	benchCount(b, buf)
}

// benchCount reports MB/s (wall clock) and cpu-MB/s (per CPU second of the
// benchmarking thread).
func benchCount(b *testing.B, buf []byte) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	c0 := threadCPU()
	for i := 0; i < b.N; i++ {
		sink += Count(buf)
	}
	if cpu := threadCPU() - c0; cpu > 0 {
		b.ReportMetric(float64(len(buf))*float64(b.N)/1e6/cpu.Seconds(), "cpu-MB/s")
	}
}

// BenchmarkFindProse is the same over CJK prose with few numbers.
func BenchmarkFindProse(b *testing.B) {
	line := "参保人于本年度在定点医药机构就诊，结算金额按规定比例支付，个人账户余额不足时由统筹基金补足。Some English text as well, with words.\n"
	buf := []byte(strings.Repeat(line, (8<<20)/len(line)))
	benchCount(b, buf)
}

// TestAlignment puts each form at every offset of the 8-byte scan window, in
// the middle of a buffer and at its very end, after padding of several kinds.
func TestAlignment(t *testing.T) {
	forms := []struct {
		text string
		typ  Type
	}{
		{"11010519491231002X", ResidentID}, {"110105491231002", ResidentID},
		{"13812345678", Mobile}, {"+86 138 1234 5678", Mobile}, {"138-1234-5678", Mobile}, {"86 13812345678", Mobile},
		{"6225 8840 0390 2660 564", BankCard}, {"6214831231007722", BankCard}, {"3782 822463 10005", BankCard},
		{"110105 19491231 002X", ResidentID}, {"91210106UHUXQEEG57", USCC}, {"A1@qq.com", Email},
		{toFullWidth("13812345678"), Mobile},
	}
	for _, f := range forms {
		for _, pad := range []string{"x", " ", "日", "1 ", "ab-", "X-", "9.", "Ｘ ", "，"} {
			for off := 0; off < 17; off++ {
				p := strings.Repeat(pad, off)
				for _, in := range []string{p + " " + f.text + " tail of the line", p + " " + f.text} {
					ms := Find([]byte(in))
					if len(ms) != 1 || ms[0].Type != f.typ || in[ms[0].Start:ms[0].End] != f.text {
						t.Fatalf("%q: got %v", in, types(ms))
					}
				}
			}
		}
	}
}

// TestPlanted surrounds identifiers with random noise made of the pieces
// that matter to token boundaries; behind a hard boundary (a CJK full stop)
// on each side, each must be found with its exact span, whatever the noise.
func TestPlanted(t *testing.T) {
	pieces := []string{"1", "12", "1234", "123456", "x", "X", "-", " ", ".", "@", "+", "86", "0086", "日", "Ｘ", "１",
		"ab", "\n", "qq.com", "_", "%", "\u3000", "－", "护照", "卡号"}
	g := newGen(21)
	for iter := 0; iter < 3000; iter++ {
		var b strings.Builder
		var planted []want
		for k := 0; k < 6; k++ {
			for n := g.r.IntN(12); n > 0; n-- {
				b.WriteString(pieces[g.r.IntN(len(pieces))])
			}
			b.WriteString("。")
			var w want
			switch g.r.IntN(8) {
			case 0:
				w = want{ResidentID, g.id(), ""}
			case 1:
				w = want{Mobile, g.mobile(), ""}
			case 2:
				m := g.mobile()
				w = want{Mobile, "+86 " + m[:3] + "-" + m[3:7] + "-" + m[7:], m}
			case 3:
				c := g.card()
				w = want{BankCard, c[:4] + " " + c[4:8] + " " + c[8:12] + " " + c[12:16] + " " + c[16:], c}
				w.text = strings.TrimSpace(w.text)
			case 4:
				w = want{BankCard, g.card(), ""}
			case 5:
				w = want{USCC, "91110108448862426B", ""}
			case 6:
				e := g.email()
				w = want{Email, e, ""}
			default:
				id := g.id()
				w = want{ResidentID, toFullWidth(id), id}
			}
			planted = append(planted, w)
			b.WriteString(w.text)
			b.WriteString("。")
		}
		in := b.String()
		// every planted identifier must be there, exactly; noise may add more
		got := Find([]byte(in))
		from := 0
		for _, w := range planted {
			start := from + strings.Index(in[from:], "。"+w.text+"。") + len("。")
			found := false
			for _, m := range got {
				if m.Start == start {
					found = m.Type == w.typ && m.End == start+len(w.text)
					break
				}
			}
			if !found {
				t.Fatalf("%q: %s %q not found exactly; got %v", in, w.typ, w.text, types(got))
			}
			from = start + len(w.text)
		}
	}
}

func TestChunkedNoise(t *testing.T) {
	pieces := []string{"1", "12", "1234", "123456", "13812345678", "x", "X", "-", " ", ".", "@", "+", "86", "0086", "日",
		"Ｘ", "１", "ab", "\n", "qq.com", "_", "%", "\u3000", "－", "护照", "卡号", "E1234567", "11010519491231002X", "...."}
	g := newGen(22)
	var b strings.Builder
	for b.Len() < 400<<10 {
		b.WriteString(pieces[g.r.IntN(len(pieces))])
	}
	buf := []byte(b.String())
	whole := Find(buf)
	checkMatches(t, buf, whole)
	for _, cs := range []int{1, 13, 100, 777, 5000} {
		if got := chunked(buf, cs); !sameMatches(got, whole) {
			t.Fatalf("chunk size %d: %d matches, whole buffer %d", cs, len(got), len(whole))
		}
	}
	t.Logf("%d matches in %d KiB of noise", len(whole), len(buf)>>10)
}
