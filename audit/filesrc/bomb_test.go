package filesrc

import (
	"archive/zip"
	"bytes"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

const gib = 1 << 30

// writeZeros streams n zero bytes into w.
func writeZeros(t *testing.T, w io.Writer, n int64) {
	t.Helper()
	zero := make([]byte, 1<<20)
	for ; n > 0; n -= int64(len(zero)) {
		if _, err := w.Write(zero[:min(n, int64(len(zero)))]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestZipBomb: 2 GiB of zeros deflates to about 2 MB. The bomb is reported,
// not inflated; members before it are scanned, members after it are not read.
func TestZipBomb(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "bomb.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	w, _ := zw.Create("a-first.txt")
	w.Write([]byte("SECRET\n"))
	w, _ = zw.Create("b-zeros.csv")
	writeZeros(t, w, 2*gib)
	w, _ = zw.Create("c-after.txt")
	w.Write([]byte("SECRET\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	res := walkDir(t, dir, Options{})
	r := res.rec(t, "bomb.zip", "")
	if r.State != "skipped" || !strings.HasPrefix(r.Reason, "decompression bomb: ratio ") || !strings.HasSuffix(r.Reason, "exceeds cap 200:1") {
		t.Errorf("bomb.zip = %+v", r)
	}
	if m := res.rec(t, "bomb.zip", "b-zeros.csv"); m.State != "skipped" || m.Size != 2*gib {
		t.Errorf("bomb member = %+v", m)
	}
	if _, ok := res.texts[key("bomb.zip", "a-first.txt")]; !ok || r.Findings != 1 {
		t.Errorf("member before the bomb not scanned: %v, findings %d", keysOf(res.texts), r.Findings)
	}
	if _, ok := res.texts[key("bomb.zip", "c-after.txt")]; ok {
		t.Error("read on past a bomb")
	}
}

func gzipOf(t *testing.T, w io.Writer, fill func(io.Writer)) {
	t.Helper()
	gw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	fill(gw)
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestGzipBomb covers the trailer check (an honest 2 GiB bomb) and the
// streaming caps (a bomb whose trailer describes a small last member, and
// one inside a zip, where there is no trailer to read first).
func TestGzipBomb(t *testing.T) {
	dir := t.TempDir()
	f, _ := os.Create(filepath.Join(dir, "zeros.gz"))
	gzipOf(t, f, func(w io.Writer) { writeZeros(t, w, 2*gib) })
	f.Close()

	text := func(w io.Writer) { // compresses like zeros, but is text, so it is read on
		line := bytes.Repeat([]byte("A"), 1<<20)
		for i := 0; i < 64; i++ {
			w.Write(line)
		}
	}
	var lying bytes.Buffer
	gzipOf(t, &lying, text)
	gzipOf(t, &lying, func(w io.Writer) { w.Write([]byte("tiny\n")) }) // a second member: the trailer says 5 bytes
	writeFile(t, dir, "lying.log.gz", lying.Bytes())
	var inner bytes.Buffer
	gzipOf(t, &inner, text)
	writeFile(t, dir, "wrapped.zip", buildZip(t, zipEntry{name: "x.log.gz", data: inner.Bytes(), store: true}))

	res := walkDir(t, dir, Options{})
	for _, name := range []string{"zeros.gz", "lying.log.gz", "wrapped.zip"} {
		if r := res.rec(t, name, ""); r.State != "skipped" || !strings.HasPrefix(r.Reason, "decompression bomb: ratio ") {
			t.Errorf("%s = %+v", name, r)
		}
	}
	if m := res.rec(t, "wrapped.zip", "x.log.gz"); m.State != "skipped" {
		t.Errorf("wrapped member = %+v", m)
	}
	for k, txt := range res.texts {
		if len(txt) > 4<<20 {
			t.Errorf("%s: %d bytes read past the ratio cap", k, len(txt))
		}
	}
}

// TestSizeCap trips the absolute cap with data that compresses only 2:1.
func TestSizeCap(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	gzipOf(t, &buf, func(w io.Writer) {
		hw := hex.NewEncoder(w)
		hw.Write(randomBytes(3<<20, 7))
	})
	writeFile(t, dir, "hex.txt.gz", buf.Bytes())
	res := walkDir(t, dir, Options{MaxMemberBytes: 1 << 20})
	if r := res.rec(t, "hex.txt.gz", ""); r.State != "skipped" || r.Reason != "decompression bomb: more than 1048576 bytes decompressed exceeds cap" {
		t.Errorf("record = %+v", r)
	}
}

// TestFileBudget: many members each under the per-member grace add up.
func TestFileBudget(t *testing.T) {
	dir := t.TempDir()
	var entries []zipEntry
	member := bytes.Repeat([]byte("B"), 512<<10)
	for i := 0; i < 400; i++ {
		entries = append(entries, zipEntry{name: strings.Repeat("m", 1+i/26) + string(rune('a'+i%26)) + ".txt", data: member})
	}
	writeFile(t, dir, "many.zip", buildZip(t, entries...))
	res := walkDir(t, dir, Options{})
	if r := res.rec(t, "many.zip", ""); r.State != "skipped" || !strings.HasPrefix(r.Reason, "decompression bomb: ratio ") {
		t.Errorf("record = %+v", r)
	}
	if n := len(res.texts); n >= 400 {
		t.Errorf("all %d members inflated", n)
	}
}
