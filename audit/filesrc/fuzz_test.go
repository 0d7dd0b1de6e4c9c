package filesrc

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/richardlehane/mscfb"

	"github.com/atrest/atrest/audit"
)

// The parsers of untrusted bytes this package owns, each a fuzz target with
// the format fixtures as seeds (make test runs them over the seeds): a crash,
// a hang or an unbounded allocation is a bug.

// fixture reads a file of testdata/formats.
func fixture(f *testing.F, rel string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "formats", filepath.FromSlash(rel)))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func discardUnit(u Unit) (int, error) {
	if u.Table != nil {
		_, err := u.Table.Sample(func([][]byte) {})
		return 0, err
	}
	_, err := io.Copy(io.Discard, u.Text)
	return 0, err
}

func fuzzCtx(data []byte) *fileCtx {
	w := &walker{ctx: context.Background(), opts: Options{MaxMemberBytes: 64 << 20}.withDefaults(),
		scan: discardUnit, report: func(audit.FileRecord) {}}
	return &fileCtx{w: w, path: "fuzz", budget: budget{in: int64(len(data))}}
}

func checkState(t *testing.T, r result) {
	switch r.state {
	case audit.StateScanned, audit.StateEncrypted, audit.StateBinary, audit.StateSkipped, audit.StateError:
	default:
		t.Fatalf("state %q", r.state)
	}
}

// FuzzOLE2 covers mscfb and the BIFF8 and Word 97 readers behind it.
func FuzzOLE2(f *testing.F) {
	for _, p := range []string{"xls/people.xls", "doc/people.doc", "locked/people.xls", "locked/people.doc"} {
		f.Add(fixture(f, p))
	}
	f.Add(buildCFB("Workbook"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkState(t, fuzzCtx(data).ole2(node{}, bytes.NewReader(data), int64(len(data))))
	})
}

// FuzzBIFF feeds workbook streams straight to the record reader.
func FuzzBIFF(f *testing.F) {
	for _, p := range []string{"xls/people.xls", "locked/people.xls"} {
		cf, err := mscfb.New(bytes.NewReader(fixture(f, p)))
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range cf.File {
			if s.Name == "Workbook" {
				b, _ := io.ReadAll(s)
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkState(t, fuzzCtx(data).biff(node{}, bytes.NewReader(data)))
	})
}

func FuzzRTF(f *testing.F) {
	f.Add(fixture(f, "rtf/people.rtf"))
	f.Add(fixture(f, "rtf/wordpad.rtf"))
	f.Add([]byte(`{\rtf1{\*\x{\u-3913?\'b9}}\bin5 {}}}\uc2\u20013\'d6\'d0 x}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		io.Copy(io.Discard, newRTFText(bytes.NewReader(data)))
	})
}

func FuzzDBF(f *testing.F) {
	f.Add(fixture(f, "dbf/people.dbf"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkState(t, fuzzCtx(data).stream(node{format: "text"}, bytes.NewReader(data), nil, -1))
	})
}

func FuzzMail(f *testing.F) {
	for _, p := range []string{"eml/outlook.eml", "eml/foxmail.eml", "mht/people.mht"} {
		f.Add(fixture(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkState(t, fuzzCtx(data).mail(node{}, bytes.NewReader(data), "eml"))
	})
}

// FuzzPDF covers pdfcpu's parser as this package drives it, and the
// content-stream interpreter and CMap parser on real pages.
func FuzzPDF(f *testing.F) {
	for _, p := range []string{"pdf/people-writer.pdf", "pdf/people-calc.pdf", "pdf/people-gs.pdf", "locked/people.pdf"} {
		f.Add(fixture(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkState(t, fuzzCtx(data).pdf(node{}, bytes.NewReader(data), int64(len(data))))
	})
}

func FuzzPDFContent(f *testing.F) {
	f.Add([]byte("BT /F1 10 Tf 1 0 0 1 72 700 Tm (Hello) Tj [(Wor) -20 (ld)] TJ T* (x) ' 1 2 (y) \" ET"))
	f.Add([]byte("q 1 0 0 1 0 0 cm BI /W 1 /H 1 ID \x00\x01 EI Q << /A [1 2 (x)] >> BDC /X Do"))
	f.Fuzz(func(t *testing.T, data []byte) {
		it := &pdfInterp{p: &pdfText{}}
		it.gs.reset()
		it.run(nil, data, nil, 0)
	})
}

func FuzzCMap(f *testing.F) {
	f.Add([]byte("1 begincodespacerange <0000> <FFFF> endcodespacerange 2 beginbfchar <0003> <0020> <0011> <4E2D> endbfchar " +
		"1 beginbfrange <0013> <001C> <0030> <0020> <0021> [<0041> <D835DC00>] endbfrange"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := parseCMap(data)
		var out []rune
		for code := uint32(0); code < 64; code++ {
			c.lookup(code, 2, &out)
		}
		(&pdfFont{toUni: c, composite: true}).decode(data, func(glyph) {})
	})
}

func FuzzXZDictSize(f *testing.F) {
	f.Add(fixture(f, "xz/people.csv.xz")[:64])
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 14 {
			xzDictSize(data)
		}
	})
}

func FuzzHTMLText(f *testing.F) {
	f.Add([]byte("<p>a<span>b</span><script>x</script><td>c<br>d</p>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		io.Copy(io.Discard, newHTMLText(bytes.NewReader(data)))
	})
}
