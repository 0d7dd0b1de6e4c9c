package filesrc

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// WordPad on Chinese Windows writes Chinese as GBK escapes (\ansicpg936);
// a value split over two groups is one value.
func TestRTFCodePageAndGroups(t *testing.T) {
	dir := t.TempDir()
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("身份证号")
	var esc strings.Builder
	for _, c := range []byte(gbk) {
		esc.WriteString(`\'` + strings.ToLower(strings.TrimLeft(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15]), "")))
	}
	doc := `{\rtf1\ansi\ansicpg936{\fonttbl{\f0\fnil\fcharset134 Song;}}{\*\generator Riched20 13800138000;}\f0 ` + esc.String() +
		` 1101051949{\b 1231002X}\par {\field{\*\fldinst HYPERLINK "mailto:a@b.cn"}{\fldrslt \u23435?\u20307?}}\par}`
	writeFile(t, dir, "a.rtf", []byte(doc))
	w := walkDir(t, dir, Options{})
	if got, want := w.texts[key("a.rtf", "")], "身份证号 11010519491231002X\n宋体\n"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
}

// A dBase table whose header names GBK (LDID 0x7A) is decoded as GBK, one
// line per record, fields apart.
func TestDBFCodePage(t *testing.T) {
	name, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("张三"))
	fields := []struct {
		name string
		n    int
	}{{"XM", 6}, {"ZJHM", 18}, {"SJHM", 11}}
	var b bytes.Buffer
	hdr := make([]byte, 32)
	hdr[0], hdr[1], hdr[2], hdr[3] = 0x03, 126, 12, 6
	binary.LittleEndian.PutUint32(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[8:], uint16(32+32*len(fields)+1))
	binary.LittleEndian.PutUint16(hdr[10:], 1+6+18+11)
	hdr[29] = 0x7A
	b.Write(hdr)
	for _, f := range fields {
		d := make([]byte, 32)
		copy(d, f.name)
		d[11], d[16] = 'C', byte(f.n)
		b.Write(d)
	}
	b.WriteByte(0x0D)
	b.WriteString(" " + string(name) + "  " + "11010519491231002X" + "13800138000")
	b.WriteString("*" + "      " + "110105194912310037" + "           ")
	b.WriteByte(0x1A)
	dir := t.TempDir()
	writeFile(t, dir, "t.dbf", b.Bytes())
	w := walkDir(t, dir, Options{})
	r := w.rec(t, "t.dbf", "")
	if r.State != "scanned" || r.Format != "dbf" || r.Encoding != "cp936" {
		t.Fatalf("record %+v", r)
	}
	if got, want := w.texts[key("t.dbf", "")], "张三\t11010519491231002X\t13800138000\n\t110105194912310037\t\n"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
}

// xz is held to the same caps as gzip, and a header asking for a huge
// dictionary is refused before the decoder allocates it.
func TestXZBombs(t *testing.T) {
	var zeros bytes.Buffer
	xw, err := xz.NewWriter(&zeros)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(bytes.Repeat([]byte("same line of text\n"), 4<<20/18))
	xw.Close()
	huge := append([]byte(nil), zeros.Bytes()...)
	// the first block header's LZMA2 filter properties: the dictionary size
	if p := bytes.Index(huge[12:40], []byte{0x21, 0x01}); p < 0 {
		t.Fatal("no LZMA2 filter in the block header")
	} else {
		huge[12+p+2] = 40 // 4 GiB
	}
	dir := t.TempDir()
	writeFile(t, dir, "zeros.xz", zeros.Bytes())
	writeFile(t, dir, "huge.xz", huge)
	w := walkDir(t, dir, Options{MaxRatio: 10})
	if r := w.rec(t, "zeros.xz", ""); r.State != "skipped" || r.NotRead != notReadBomb || !strings.Contains(r.Reason, "ratio") {
		t.Errorf("zeros.xz: %+v", r)
	}
	if r := w.rec(t, "huge.xz", ""); r.State != "skipped" || !strings.Contains(r.Reason, "xz dictionary") {
		t.Errorf("huge.xz: %+v", r)
	}
}
