package detect

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"unsafe"
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

type vcase struct {
	s    string
	want bool
}

// checkValidator runs an exported validator over its cases.
func checkValidator(t *testing.T, name string, f func(string) bool, cases []vcase) {
	t.Helper()
	for _, c := range cases {
		if got := f(c.s); got != c.want {
			t.Errorf("%s(%q) = %v, want %v", name, c.s, got, c.want)
		}
	}
}

func none(name, in string) tcase { return tcase{name: name, in: in} }

func one(name, in string, typ Type, text, value string) tcase {
	return tcase{name: name, in: in, want: []want{{typ, text, value}}}
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
	if got := borrowed(buf); !sameMatches(got, whole) {
		t.Fatalf("FindInBorrowed: %d matches, Find %d", len(got), len(whole))
	}
	for _, cs := range []int{1, 7, 64, 100, 1000, 4096, 65536} {
		if got := chunked(buf, cs); !sameMatches(got, whole) {
			t.Fatalf("chunk size %d: %d matches, whole buffer %d", cs, len(got), len(whole))
		}
	}
}

// borrowed is Find through FindInBorrowed, each Value copied within fn as
// its contract asks.
func borrowed(buf []byte) []Match {
	var out []Match
	FindInBorrowed(buf, 0, len(buf), func(m Match) {
		m.Value = strings.Clone(m.Value)
		out = append(out, m)
	})
	return out
}

// TestFindInBorrowed: a value written as a plain run of digits is lent from
// the buffer (no copy), a normalised one is a copy, and both read right.
func TestFindInBorrowed(t *testing.T) {
	g := newGen(3)
	id := g.id()
	for strings.HasSuffix(id, "X") {
		id = g.id()
	}
	buf := []byte("tel 13812345678, 身份证 " + id + "; +86 138-1234-5678 " + toFullWidth("13812345678") + " a.b@qq.com")
	var n, lent int
	FindInBorrowed(buf, 0, len(buf), func(m Match) {
		n++
		if within(buf, unsafe.Slice(unsafe.StringData(m.Value), len(m.Value))) {
			lent++
			if string(buf[m.Start:m.End]) != m.Value {
				t.Errorf("lent value at %d differs from the text there", m.Start)
			}
		}
	})
	if n != 5 || lent != 2 {
		t.Fatalf("%d matches with %d lent values, want 5 with 2 (the plain mobile and ID)", n, lent)
	}
	if got, want := borrowed(buf), Find(buf); !sameMatches(got, want) {
		t.Fatalf("FindInBorrowed: %v, Find %v", got, want)
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
		if got := borrowed(data); !sameMatches(got, ms) {
			t.Fatalf("FindInBorrowed: %d matches, Find %d", len(got), len(ms))
		}
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

// TestMayGroupAgreesWithViable: the scan loop's quick test of the first two
// groups says yes exactly where the grouping rule (viable) can go on.
func TestMayGroupAgreesWithViable(t *testing.T) {
	for n0 := 1; n0 <= 8; n0++ {
		for n := 1; n <= 9; n++ {
			first := strings.Repeat("1", n0)
			if n0 == 2 {
				first = "86" // a 2-digit first group is only a country code
			}
			buf := []byte(first + " " + strings.Repeat("3", n) + " ")
			want := viable(n0, 0, 0) && viable(n0, 1, n)
			if got := mayGroup(buf, 0, n0); got != want {
				t.Errorf("groups of %d and %d digits: mayGroup %v, viable %v", n0, n, got, want)
			}
		}
	}
}
