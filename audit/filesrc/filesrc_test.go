package filesrc

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/atrest/atrest/audit"
)

func encode(t *testing.T, s string, enc interface {
	String(string) (string, error)
}) []byte {
	t.Helper()
	out, err := enc.String(s)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

func gz(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Name = name
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func tarball(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg})
		tw.Write([]byte(files[name]))
	}
	tw.Close()
	return buf.Bytes()
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

const gbText = "序号,姓名,证件号码,联系电话\n1,张三,SECRET,13800138000\n"

// TestFormats walks one directory holding a file of every kind and checks
// each file's record and the text its units yield.
func TestFormats(t *testing.T) {
	dir := t.TempDir()
	zstdText := func() []byte {
		var buf bytes.Buffer
		w, _ := zstd.NewWriter(&buf)
		w.Write([]byte("zstd SECRET line\n"))
		w.Close()
		return buf.Bytes()
	}()
	bz2, _ := hex.DecodeString("425a6839314159265359c680376f00000c5f800010400068400a001c001e2588102000212a9ea7a4c06883f54281a686464c4d3b6b29e45862952c62222728bfa0be2624cc9eabf177245385090c680376f0")
	pgpSym, _ := hex.DecodeString("8c0d04090302a1b2c3d4e5f60718ff") // SKESK v4, AES-256, iterated+salted S2K
	ciphertext := randomBytes(8192, 1)

	type want struct {
		state, reason, format, encoding string
		findings                        int
		texts                           map[string]string // member → exact text
	}
	cases := []struct {
		name string
		data []byte
		want want
	}{
		{"plain.txt", []byte("a SECRET\nb\n"), want{state: "scanned", format: "text", encoding: "utf-8", findings: 1, texts: map[string]string{"": "a SECRET\nb\n"}}},
		{"empty.txt", nil, want{state: "scanned", format: "text", encoding: "utf-8", texts: map[string]string{"": ""}}},
		{"bom.csv", []byte("\xef\xbb\xbfid,SECRET\n"), want{state: "scanned", format: "text", encoding: "utf-8", findings: 1, texts: map[string]string{"": "id,SECRET\n"}}},
		{"u16le.txt", append([]byte{0xff, 0xfe}, encode(t, "姓名 SECRET\r\n", unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder())...),
			want{state: "scanned", format: "text", encoding: "utf-16le", findings: 1, texts: map[string]string{"": "姓名 SECRET\r\n"}}},
		{"u16be.txt", append([]byte{0xfe, 0xff}, encode(t, "姓名 SECRET\n", unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder())...),
			want{state: "scanned", format: "text", encoding: "utf-16be", findings: 1, texts: map[string]string{"": "姓名 SECRET\n"}}},
		{"u16le-nobom.txt", encode(t, "phone 13800138000 SECRET\nsecond line of plain ascii\n", unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder()),
			want{state: "scanned", format: "text", encoding: "utf-16le", findings: 1, texts: map[string]string{"": "phone 13800138000 SECRET\nsecond line of plain ascii\n"}}},
		{"gbk.csv", encode(t, gbText, simplifiedchinese.GB18030.NewEncoder()), want{state: "scanned", format: "text", encoding: "gb18030", findings: 1, texts: map[string]string{"": gbText}}},
		{"latin1.txt", encode(t, "café SECRET ü\n", charmap.ISO8859_1.NewEncoder()), want{state: "scanned", format: "text", encoding: "unknown-8bit", findings: 1, texts: map[string]string{"": "caf\uFFFD SECRET \uFFFD\n"}}},
		{"stray.log", []byte(strings.Repeat("参保人 SECRET 结算成功\n", 20) + "caf\xe9\n"), want{state: "scanned", format: "text", encoding: "utf-8", findings: 20,
			texts: map[string]string{"": strings.Repeat("参保人 SECRET 结算成功\n", 20) + "caf\uFFFD\n"}}},
		{"log.gz", gz(t, "app.log", []byte("x SECRET\n")), want{state: "scanned", format: "gzip", encoding: "utf-8", findings: 1, texts: map[string]string{"app.log": "x SECRET\n"}}},
		{"noname.csv.gz", gz(t, "", encode(t, gbText, simplifiedchinese.GB18030.NewEncoder())), want{state: "scanned", format: "gzip", encoding: "gb18030", findings: 1, texts: map[string]string{"noname.csv": gbText}}},
		{"dump.sql.zst", zstdText, want{state: "scanned", format: "zstd", encoding: "utf-8", findings: 1, texts: map[string]string{"dump.sql": "zstd SECRET line\n"}}},
		{"old.log.bz2", bz2, want{state: "scanned", format: "bzip2", encoding: "utf-8", findings: 1, texts: map[string]string{"old.log": "bz line one 13800138000\nsecond SECRET line\n"}}},
		{"exports.tgz", gz(t, "", tarball(t, map[string]string{"a.csv": "SECRET\n", "b/c.txt": "SECRET SECRET\n"})),
			want{state: "scanned", format: "gzip", findings: 3, texts: map[string]string{"exports.tar/a.csv": "SECRET\n", "exports.tar/b/c.txt": "SECRET SECRET\n"}}},
		{"x.age", []byte("age-encryption.org/v1\n-> X25519 abc\n--- def\n\x00\x01binary"), want{state: "encrypted", reason: "age v1 header", format: "age"}},
		{"x.age.asc", []byte("\n-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"), want{state: "encrypted", format: "age"}},
		{"x.enc", append([]byte("Salted__"), ciphertext[:64]...), want{state: "encrypted", reason: "openssl Salted__ header", format: "openssl"}},
		{"x.gpg", append(pgpSym, ciphertext[:256]...), want{state: "encrypted", format: "openpgp"}},
		{"x.asc", []byte("-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n"), want{state: "encrypted", format: "openpgp"}},
		{"locked.xlsx", buildCFB("EncryptionInfo", "EncryptedPackage"), want{state: "encrypted", reason: "office document encrypted with a password (EncryptedPackage)", format: "ole2"}},
		{"legacy.xls", buildCFB("Workbook"), want{state: "error", reason: "xls: malformed BIFF record stream: no BOF record", format: "xls"}},
		{"thumbs.db", buildCFB("Catalog"), want{state: "binary", format: "ole2"}},
		{"random.bin", ciphertext, want{state: "binary", format: ""}},
		{"zeros.dat", make([]byte, 4096), want{state: "binary"}},
		{"prog", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...), want{state: "binary", format: "elf"}},
		{"pic.jpg.txt", append([]byte("\x89PNG\r\n\x1a\n"), ciphertext[:100]...), want{state: "binary", format: "png"}},
		{"doc.pdf", []byte("%PDF-1.7\n1 0 obj SECRET"), want{state: "error", format: "pdf"}},
		{"roster.xlsx", buildXLSX(t, "名单", `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>SECRET</t></is></c><c r="B2"><v>1.3800138E10</v></c></row>`, []string{"<t>姓名</t>", "<t>电话</t>"}),
			want{state: "scanned", format: "xlsx", findings: 1, texts: map[string]string{"名单": "姓名\t电话\nSECRET\t13800138000\n"}}},
		{"notes.docx", buildDOCX(t, `<w:p><w:r><w:t>身份证号:</w:t></w:r><w:r><w:t>SECRET</w:t></w:r></w:p><w:p/><w:p><w:r><w:t>two</w:t></w:r></w:p>`),
			want{state: "scanned", format: "docx", findings: 1, texts: map[string]string{"word/document.xml": "身份证号:SECRET\n\ntwo\n"}}},
	}
	for _, c := range cases {
		writeFile(t, dir, c.name, c.data)
	}
	w := walkDir(t, dir, Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := w.rec(t, c.name, "")
			if r.State != c.want.state || r.Format != c.want.format || r.Findings != c.want.findings ||
				(c.want.reason != "" && r.Reason != c.want.reason) || (c.want.encoding != "" && r.Encoding != c.want.encoding) {
				t.Errorf("record = %+v, want %+v", r, c.want)
			}
			if r.Size != int64(len(c.data)) {
				t.Errorf("size = %d, want %d", r.Size, len(c.data))
			}
			for member, text := range c.want.texts {
				got, ok := w.texts[key(c.name, member)]
				if !ok {
					t.Errorf("no unit %q; units: %v", member, keysOf(w.texts))
				} else if got != text {
					t.Errorf("unit %q text = %q, want %q", member, got, text)
				}
			}
			if c.want.state != "scanned" {
				for k := range w.texts {
					if strings.HasPrefix(k, c.name+"|") {
						t.Errorf("%s is %s but unit %s was scanned", c.name, c.want.state, k)
					}
				}
			}
		})
	}
	if r := w.rec(t, "random.bin", ""); !strings.Contains(r.Reason, "high-entropy data without a known header") {
		t.Errorf("random.bin reason = %q", r.Reason)
	}
	if u := w.units[key("roster.xlsx", "名单")]; u.Format != "xlsx" || u.Encoding != "utf-8" {
		t.Errorf("xlsx unit = %+v", u)
	}
}

func keysOf[V any](m map[string]V) []string { return sortedKeys(m) }

func TestZipArchive(t *testing.T) {
	dir := t.TempDir()
	inner := buildZip(t, zipEntry{name: "b.csv", data: []byte("SECRET\n")})
	writeFile(t, dir, "mixed.zip", buildZip(t,
		zipEntry{name: "导出/名单.csv", data: []byte("1,SECRET\n2,SECRET\n")},
		zipEntry{name: "dir/", data: nil},
		zipEntry{name: "a.zip", data: inner, store: true},
		zipEntry{name: "logo.png", data: append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 50)...)},
		zipEntry{name: "secret.txt", data: []byte("not really encrypted by the test"), encrypted: true},
		zipEntry{name: "logs/app.log.gz", data: gz(t, "app.log", []byte("SECRET\n"))},
	))
	writeFile(t, dir, "locked.zip", buildZip(t,
		zipEntry{name: "a.csv", data: []byte("x"), encrypted: true},
		zipEntry{name: "b.csv", data: []byte("y"), encrypted: true},
	))
	writeFile(t, dir, "images.zip", buildZip(t, zipEntry{name: "a.png", data: []byte("\x89PNG\r\n\x1a\nxxxx")}))
	writeFile(t, dir, "empty.zip", buildZip(t))
	// A zip inside a gzip: archive/zip needs random access, so it is spilled.
	writeFile(t, dir, "bundle.zip.gz", gz(t, "bundle.zip", inner))

	w := walkDir(t, dir, Options{})
	r := w.rec(t, "mixed.zip", "")
	if r.State != "scanned" || r.Format != "zip" || r.Findings != 4 || !strings.Contains(r.Reason, "2 of 5 members not scanned") {
		t.Errorf("mixed.zip = %+v", r)
	}
	for member, text := range map[string]string{"导出/名单.csv": "1,SECRET\n2,SECRET\n", "a.zip/b.csv": "SECRET\n", "logs/app.log.gz/app.log": "SECRET\n"} {
		if got := w.texts[key("mixed.zip", member)]; got != text {
			t.Errorf("member %s = %q, want %q (units %v)", member, got, text, keysOf(w.texts))
		}
	}
	if m := w.rec(t, "mixed.zip", "secret.txt"); m.State != "encrypted" || m.Reason != "zip entry encrypted" {
		t.Errorf("encrypted member = %+v", m)
	}
	if m := w.rec(t, "mixed.zip", "logo.png"); m.State != "binary" {
		t.Errorf("png member = %+v", m)
	}
	for _, k := range []string{key("mixed.zip", "导出/名单.csv"), key("mixed.zip", "a.zip")} {
		if _, ok := w.recs[k]; ok {
			t.Errorf("scanned member %s got its own record", k)
		}
	}
	if r := w.rec(t, "locked.zip", ""); r.State != "encrypted" {
		t.Errorf("locked.zip = %+v", r)
	}
	if r := w.rec(t, "images.zip", ""); r.State != "binary" {
		t.Errorf("images.zip = %+v", r)
	}
	if r := w.rec(t, "empty.zip", ""); r.State != "scanned" {
		t.Errorf("empty.zip = %+v", r)
	}
	if r := w.rec(t, "bundle.zip.gz", ""); r.State != "scanned" || r.Findings != 1 || w.texts[key("bundle.zip.gz", "bundle.zip/b.csv")] != "SECRET\n" {
		t.Errorf("bundle.zip.gz = %+v, units %v", r, keysOf(w.texts))
	}
}

func TestZipNestingDepth(t *testing.T) {
	dir := t.TempDir()
	z := buildZip(t, zipEntry{name: "deep.csv", data: []byte("SECRET\n")})
	for i := 0; i < 3; i++ {
		z = buildZip(t, zipEntry{name: "n.zip", data: z})
	}
	writeFile(t, dir, "nest.zip", z) // nest.zip/n.zip/n.zip/n.zip/deep.csv: four zips
	w := walkDir(t, dir, Options{MaxDepth: 3})
	m := w.rec(t, "nest.zip", "n.zip/n.zip/n.zip")
	if m.State != "skipped" || !strings.Contains(m.Reason, "nested deeper than 3") {
		t.Errorf("innermost zip = %+v", m)
	}
	if len(w.texts) != 0 {
		t.Errorf("scanned past the depth cap: %v", keysOf(w.texts))
	}
	w = walkDir(t, dir, Options{MaxDepth: 4})
	if w.texts[key("nest.zip", "n.zip/n.zip/n.zip/deep.csv")] != "SECRET\n" {
		t.Errorf("depth 4: units %v", keysOf(w.texts))
	}
}

func TestXLSX(t *testing.T) {
	dir := t.TempDir()
	rows := `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>` + // B1 missing
		`<row r="4"><c r="B4" t="inlineStr"><is><r><t>ru</t></r><r><t>ns</t></r></is></c>` + // rows 2-3 missing, rich inline
		`<c r="C4" t="s"><v>2</v></c>` + // shared string with a line break and a phonetic run
		`<c r="D4"><v>13800138000</v></c><c r="E4"><v>1.10105194912310E+17</v></c><c r="F4"><v>2.5E-3</v></c><c r="G4"><v>-12.50</v></c>` +
		`<c r="H4" t="b"><v>1</v></c><c r="I4" t="str"><v>SECRET</v></c></row>`
	shared := []string{"<t>姓名</t>", "<t>证件</t>", `<r><t>第一行&#10;第二</t></r><r><t>行</t></r><rPh><t>ダイ</t></rPh>`}
	writeFile(t, dir, "book.xlsx", buildXLSX(t, "参保人员", rows, shared))
	w := walkDir(t, dir, Options{})
	want := "姓名\t\t证件\n\n\n\truns\t第一行 第二行\t13800138000\t110105194912310000\t0.0025\t-12.50\t1\tSECRET\n"
	if got := w.texts[key("book.xlsx", "参保人员")]; got != want {
		t.Errorf("sheet text\n got %q\nwant %q", got, want)
	}
	if r := w.rec(t, "book.xlsx", ""); r.State != "scanned" || r.Findings != 1 || r.Format != "xlsx" {
		t.Errorf("record = %+v", r)
	}
}

func TestDOCX(t *testing.T) {
	dir := t.TempDir()
	body := `<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>姓名</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">张三 </w:t></w:r><w:r><w:t>SECRET</w:t><w:br/><w:t>续</w:t></w:r></w:p>` +
		`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell</w:t></w:r></w:p></w:tc></w:tr></w:tbl>` +
		`<w:p><w:r><w:delText>deleted SECRET</w:delText></w:r><w:r><w:instrText>HYPERLINK</w:instrText></w:r></w:p>`
	header := zipEntry{name: "word/header1.xml", data: []byte(`<w:hdr ` + wordNS + `><w:p><w:r><w:t>机密 SECRET</w:t></w:r></w:p></w:hdr>`)}
	styles := zipEntry{name: "word/styles.xml", data: []byte(`<w:styles ` + wordNS + `><w:p><w:r><w:t>not text</w:t></w:r></w:p></w:styles>`)}
	writeFile(t, dir, "case.docx", buildDOCX(t, body, header, styles))
	w := walkDir(t, dir, Options{})
	if got, want := w.texts[key("case.docx", "word/document.xml")], "姓名\t张三 SECRET 续\ncell\ndeleted SECRET\n"; got != want {
		t.Errorf("document text\n got %q\nwant %q", got, want)
	}
	if got := w.texts[key("case.docx", "word/header1.xml")]; got != "机密 SECRET\n" {
		t.Errorf("header text = %q", got)
	}
	if _, ok := w.texts[key("case.docx", "word/styles.xml")]; ok {
		t.Error("styles part scanned")
	}
	if r := w.rec(t, "case.docx", ""); r.State != "scanned" || r.Findings != 3 {
		t.Errorf("record = %+v", r)
	}
}

func TestSymlinks(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	writeFile(t, outside, "secret.txt", []byte("SECRET\n"))
	writeFile(t, outside, "sub/more.txt", []byte("SECRET\n"))
	writeFile(t, root, "real/data.txt", []byte("SECRET\n"))
	links := map[string]string{
		"out.txt":      filepath.Join(outside, "secret.txt"),
		"outdir":       filepath.Join(outside, "sub"),
		"in.txt":       filepath.Join("real", "data.txt"),
		"indir":        "real",
		"dangling.txt": filepath.Join(base, "nothing"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Skipf("symlinks unsupported: %v", err)
		}
	}
	w := walkDir(t, root, Options{})
	for name, reason := range map[string]string{
		"out.txt": "symlink", "outdir": "symlink", "in.txt": "symlink to real/data.txt",
		"indir": "symlink to real", "dangling.txt": "symlink (broken)",
	} {
		if r := w.rec(t, name, ""); r.State != "skipped" || r.Reason != reason {
			t.Errorf("%s = %+v, want skipped %q", name, r, reason)
		}
	}
	if len(w.texts) != 1 || w.texts[key("real/data.txt", "")] != "SECRET\n" {
		t.Errorf("scanned %v, want only real/data.txt", keysOf(w.texts))
	}
	// A root that is itself a symlink is followed: the user named it.
	if err := os.Symlink(root, filepath.Join(base, "rootlink")); err != nil {
		t.Fatal(err)
	}
	w = walkDir(t, filepath.Join(base, "rootlink"), Options{})
	if _, ok := w.texts[key("real/data.txt", "")]; !ok {
		t.Errorf("root symlink not followed: %v", w.order)
	}
	if r := w.rec(t, "out.txt", ""); r.Reason != "symlink" {
		t.Errorf("via root symlink, out.txt = %+v", r)
	}
}

// TestUnreadable injects open and readdir failures: tests run as root,
// where chmod 000 does not stop a read.
func TestUnreadable(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.txt", []byte("SECRET\n"))
	writeFile(t, dir, "locked.txt", []byte("SECRET\n"))
	writeFile(t, dir, "sealed/x.txt", []byte("SECRET\n"))
	writeFile(t, dir, "z.txt", []byte("SECRET\n"))
	origOpen, origReadDir := openFile, readDir
	t.Cleanup(func() { openFile, readDir = origOpen, origReadDir })
	openFile = func(name string) (*os.File, error) {
		if filepath.Base(name) == "locked.txt" {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
		return origOpen(name)
	}
	readDir = func(name string) ([]os.DirEntry, error) {
		if filepath.Base(name) == "sealed" {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
		return origReadDir(name)
	}
	w := walkDir(t, dir, Options{})
	for _, rel := range []string{"locked.txt", "sealed"} {
		if r := w.rec(t, rel, ""); r.State != "error" || r.Reason != "open: permission denied" {
			t.Errorf("%s = %+v", rel, r)
		}
	}
	for _, rel := range []string{"a.txt", "z.txt"} {
		if r := w.rec(t, rel, ""); r.State != "scanned" {
			t.Errorf("walk did not go on: %s = %+v", rel, r)
		}
	}
}

// TestUnreadableChmod is the real thing, where the OS enforces it.
func TestUnreadableChmod(t *testing.T) {
	if os.Geteuid() == 0 || runtime.GOOS == "windows" {
		t.Skip("root reads mode 000 files; TestUnreadable covers this by injection")
	}
	dir := t.TempDir()
	p := writeFile(t, dir, "locked.txt", []byte("SECRET\n"))
	os.Chmod(p, 0)
	writeFile(t, dir, "sealed/x.txt", []byte("SECRET\n"))
	os.Chmod(filepath.Join(dir, "sealed"), 0)
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "sealed"), 0o755) })
	w := walkDir(t, dir, Options{})
	for _, rel := range []string{"locked.txt", "sealed"} {
		if r := w.rec(t, rel, ""); r.State != "error" || !strings.Contains(r.Reason, "permission denied") {
			t.Errorf("%s = %+v", rel, r)
		}
	}
}

func TestExclude(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"keep.csv", "app.log", "sub/app.log", "sub/keep.txt", "vendor/x.csv", "sub/vendor/y.csv", "sub/tmp/z.csv"} {
		writeFile(t, dir, f, []byte("x\n"))
	}
	w := walkDir(t, dir, Options{Exclude: []string{"*.log", "vendor", "sub/tmp"}})
	var got []string
	for k := range w.recs {
		got = append(got, k)
	}
	want := []string{key("keep.csv", ""), key("sub/keep.txt", "")}
	if strings.Join(sortedKeys(w.recs), ",") != strings.Join(want, ",") {
		t.Errorf("records %v, want %v", got, want)
	}
	if _, err := walkRoots(t, dir, []string{dir}, Options{Exclude: []string{"[z-"}}); !errors.Is(err, path.ErrBadPattern) {
		t.Errorf("bad pattern: err = %v", err)
	}
}

func TestRootsAndCancel(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "one.txt", []byte("SECRET\n"))
	// A file root: Path is the argument itself.
	w, err := walkRoots(t, dir, []string{f}, Options{})
	if err != nil || w.texts[key("one.txt", "")] != "SECRET\n" {
		t.Errorf("file root: err %v, units %v", err, keysOf(w.texts))
	}
	var n int
	err = Walk(context.Background(), []string{dir, filepath.Join(dir, "missing")}, Options{}, func(Unit) (int, error) { n++; return 0, nil }, func(audit.FileRecord) {})
	if !errors.Is(err, fs.ErrNotExist) || n != 0 {
		t.Errorf("missing root: err %v after %d units, want ErrNotExist before scanning", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Walk(ctx, []string{dir}, Options{}, func(Unit) (int, error) { return 0, nil }, func(audit.FileRecord) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

// TestManyFilesParallel checks every file is reported once with several workers.
func TestManyFilesParallel(t *testing.T) {
	dir := t.TempDir()
	const n = 200
	for i := 0; i < n; i++ {
		writeFile(t, dir, filepath.Join(string(rune('a'+i%7)), strings.Repeat("f", 1+i%5)+string(rune('a'+i%26))+".txt"), []byte("SECRET SECRET\n"))
	}
	w := walkDir(t, dir, Options{Workers: 8})
	total := 0
	for _, r := range w.recs {
		total += r.Findings
	}
	entries := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			entries++
		}
		return nil
	})
	if len(w.recs) != entries || total != 2*entries {
		t.Errorf("%d records, %d findings for %d files", len(w.recs), total, entries)
	}
}

func TestScanErrorIsReported(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.txt", []byte("SECRET\n"))
	var rec audit.FileRecord
	Walk(context.Background(), []string{dir}, Options{}, func(u Unit) (int, error) {
		return 2, errors.New("detector exploded")
	}, func(r audit.FileRecord) { rec = r })
	if rec.State != "error" || rec.Reason != "scan: detector exploded" || rec.Findings != 2 {
		t.Errorf("record = %+v", rec)
	}
}

// TestOrderDeterministic: one worker reports in a fixed order, depth first,
// names sorted, error records in their place.
func TestOrderDeterministic(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.txt", "a/z.txt", "a/b/c.txt", "c.txt", "a/a.txt"} {
		writeFile(t, dir, f, []byte("x\n"))
	}
	want := []string{"a/a.txt|", "a/b/c.txt|", "a/z.txt|", "b.txt|", "c.txt|"}
	for i := 0; i < 3; i++ {
		if got := walkDir(t, dir, Options{Workers: 1}).order; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}
