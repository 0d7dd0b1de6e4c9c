package output

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/audit/detect"
)

// stdJSONL is what the jsonl writer wrote before it encoded records by hand.
func stdJSONL(t testing.TB, rec any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func fastJSONL(t testing.TB, rec any) string {
	t.Helper()
	var b bytes.Buffer
	if err := newJSONL(&b).Write(rec); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkSame encodes findings and file records made of strs both ways.
func checkSame(t testing.TB, strs ...string) {
	t.Helper()
	at := func(i int) string { return strs[i%len(strs)] }
	recs := []any{
		audit.Finding{Record: at(0), Path: at(1), Member: at(2), Line: len(at(3)) - 7, Type: detect.Type(at(4)), Masked: at(5), Fingerprint: at(6)},
		&audit.Finding{Record: "finding", Path: at(0), Line: 1 << 40, Type: detect.Mobile},
		audit.FileRecord{Record: at(0), Path: at(1), Member: at(2), State: at(3), Reason: at(4), Format: at(5), Encoding: at(6), Size: -int64(len(at(1))), Findings: len(at(2)), NotRead: at(7)},
		&audit.FileRecord{Record: "file", Path: at(1), State: "scanned", Size: 1<<62 + 3},
		audit.FileRecord{Record: "file", Path: at(0), State: "scanned", Findings: 3, ByType: map[string]int{at(4): 2, at(6): 1, "cn_mobile": 1 << 40}},
		audit.FileRecord{ByType: map[string]int{}},
		audit.FileRecord{},
		audit.Finding{},
	}
	for _, r := range recs {
		if got, want := fastJSONL(t, r), stdJSONL(t, r); got != want {
			t.Fatalf("record %#v:\n got %q\nwant %q", r, got, want)
		}
	}
}

func TestJSONLSameAsEncodingJSON(t *testing.T) {
	checkSame(t, "finding", "/srv/导出/a.csv", "", "x", "cn_resident_id", "110***********002X", "abcd1234-…")
	var all strings.Builder
	for c := 0; c < 0x80; c++ {
		all.WriteByte(byte(c))
	}
	special := []string{
		all.String(), "a\"b\\c", "<&>", "\u2028\u2029", "\xff\xfe", "\xe2\x80", "\xe2\x80\xa8x", "\ufffd",
		"日志\x00\x1f\x7f", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "😀\xf0\x9f\x98", "tab\there\r\n",
	}
	checkSame(t, special...)
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\"", "\\", "\n", "\x01", "\b", "\f", "日", "\u2028", "\u2029", "\xe2", "\x80", "\xa8", "\xff", "<", "😀", "\x7f"}
	for n := 0; n < 2000; n++ {
		var strs [7]string
		for i := range strs {
			var b strings.Builder
			for k := r.IntN(12); k > 0; k-- {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			strs[i] = b.String()
		}
		checkSame(t, strs[:]...)
	}
}

// Other records still go through encoding/json.
func TestJSONLOtherRecords(t *testing.T) {
	for _, r := range []any{map[string]any{"record": "summary", "n": 3, "s": "<x>"}, struct{ A string }{"é"}, nil, (*audit.Finding)(nil)} {
		if got, want := fastJSONL(t, r), stdJSONL(t, r); got != want {
			t.Fatalf("%#v: got %q want %q", r, got, want)
		}
	}
}

func FuzzJSONLString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c\n", "\xff", "\u2028", "日志\x00", "\xe2\x80\xa9\xe2\x80"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkSame(t, a, b, a+b, b, a, "", b+a)
		if got := appendString(nil, a); !json.Valid(got) {
			t.Fatalf("%q: invalid JSON %q", a, got)
		} else if utf8.ValidString(a) {
			var back string
			if err := json.Unmarshal(got, &back); err != nil || back != a {
				t.Fatalf("%q: round trip %q, %v", a, back, err)
			}
		}
	})
}

func BenchmarkJSONLFinding(b *testing.B) {
	f := audit.Finding{Record: "finding", Path: "/tmp/atrest-bench/dense-256.log", Line: 1234567, Type: detect.ResidentID,
		Masked: "110***********002X", Fingerprint: "0f3c2a9b-12345678-abcdef01-23456789-abcdef01-23456789-abcdef01-23456789"}
	var buf bytes.Buffer
	j := newJSONL(&buf)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := j.Write(f); err != nil {
			b.Fatal(err)
		}
	}
}

// One writer across findings whose paths change, repeat and go back.
func TestJSONLPathRuns(t *testing.T) {
	var got, want bytes.Buffer
	j := newJSONL(&got)
	for i, p := range []string{"a", "a", "b\"", "", "", "a", strings.Repeat("日", 9), "a"} {
		f := audit.Finding{Record: "finding", Path: p, Line: i, Type: detect.Email}
		if err := j.Write(f); err != nil {
			t.Fatal(err)
		}
		want.WriteString(stdJSONL(t, f))
	}
	if got.String() != want.String() {
		t.Fatalf("got\n%s\nwant\n%s", got.String(), want.String())
	}
}
