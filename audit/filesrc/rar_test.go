package filesrc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rarFixture reads one of testdata/formats/rar: archives written by RAR
// itself, taken from libarchive's test suite (testdata/formats/README.md).
func rarFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "formats", "rar", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var rarFixtures = []string{
	"rar4-unicode.rar", "rar5-unicode.rar", "rar5-compressed.rar",
	"rar4-encrypted-some.rar", "rar5-encrypted-some.rar", "rar4-encrypted-data.rar",
	"rar4-encrypted-names.rar", "rar5-encrypted-names.rar",
}

// Every text member of an unencrypted RAR4 or RAR5 archive reaches the
// scanner under its own name, whole; links and directories are not members.
func TestRARMembersRead(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"rar4-unicode.rar", "rar5-unicode.rar", "rar5-compressed.rar"} {
		writeFile(t, dir, f, rarFixture(t, f))
	}
	w := walkDir(t, dir, Options{})
	for _, f := range []string{"rar4-unicode.rar", "rar5-unicode.rar"} {
		if r := w.rec(t, f, ""); r.State != "scanned" || r.Format != "rar" || r.Reason != "" || r.NotRead != "" {
			t.Errorf("%s: %+v", f, r)
		}
	}
	want := map[string]string{
		// RAR 2.9 (rar 3.x), LZ-compressed: 16 bytes packed in 15
		key("rar4-unicode.rar", "abcdefghijklmnopqrsテスト.txt"):           "aaaaaaaaaaaaaaa\n",
		key("rar4-unicode.rar", "表だよ/漢字長いファイル名long-filename-in-漢字.txt"): "kanji",
		key("rar4-unicode.rar", "表だよ/新しいフォルダ/新規テキスト ドキュメント.txt"):        "",
		key("rar5-unicode.rar", "👋🌎.txt"):                               "Hello, world!",
	}
	got := map[string]string{}
	for k, text := range w.texts {
		if strings.HasPrefix(k, "rar") {
			got[k] = text
		}
	}
	for k, text := range want {
		if g, ok := got[k]; !ok || g != text {
			t.Errorf("%s: text %q (read %v), want %q", k, g, ok, text)
		}
		if u := w.units[k]; u.Format != "rar" {
			t.Errorf("%s: unit format %q", k, u.Format)
		}
	}
	// 表だよ/ファイル is a RAR4 unix symlink whose data is its target's
	// name; Ⓗⓐⓡⓓ Ⓛⓘⓝⓚ.txt a RAR5 hard link (rardecode fails it as
	// "decoded file too short"), 𝒮𝓎𝓂𝒷𝑜𝓁𝒾𝒸 𝐿𝒾𝓃𝓀.txt a RAR5 symlink.
	if len(got) != len(want) {
		t.Errorf("units %v, want only %v", sortedKeys(got), sortedKeys(want))
	}
	for k := range w.recs {
		if strings.HasPrefix(k, "rar4-unicode.rar|") && k != key("rar4-unicode.rar", "") ||
			strings.HasPrefix(k, "rar5-unicode.rar|") && k != key("rar5-unicode.rar", "") {
			t.Errorf("member record %s: %+v", k, w.recs[k])
		}
	}
	// RAR5 LZ-compressed (1200 bytes in 361): read whole, judged binary.
	if m := w.rec(t, "rar5-compressed.rar", "test.bin"); m.State != "binary" || m.Size != 1200 {
		t.Errorf("rar5 test.bin: %+v", m)
	}
	if r := w.rec(t, "rar5-compressed.rar", ""); r.State != "binary" {
		t.Errorf("rar5-compressed.rar: %+v", r)
	}
}

// A member encrypted with a password is encrypted, named when the names
// are in the clear; the members beside it that are not are still read. An
// archive whose headers are encrypted is encrypted as a whole.
func TestRAREncrypted(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"rar4-encrypted-some.rar", "rar5-encrypted-some.rar", "rar4-encrypted-data.rar",
		"rar4-encrypted-names.rar", "rar5-encrypted-names.rar"} {
		writeFile(t, dir, f, rarFixture(t, f))
	}
	w := walkDir(t, dir, Options{})
	// a.txt and c.txt in the clear; b.txt and d.txt AES-encrypted (RAR 3.x AES-128, RAR5 AES-256).
	for _, f := range []string{"rar4-encrypted-some.rar", "rar5-encrypted-some.rar"} {
		if r := w.rec(t, f, ""); r.State != "scanned" || r.Reason != "2 of 4 members not scanned (2 encrypted)" {
			t.Errorf("%s: %+v", f, r)
		}
		for _, m := range []string{"a.txt", "c.txt"} {
			if got, want := w.texts[key(f, m)], "This is from "+m; got != want {
				t.Errorf("%s!%s: text %q, want %q", f, m, got, want)
			}
		}
		for _, m := range []string{"b.txt", "d.txt"} {
			if r := w.rec(t, f, m); r.State != "encrypted" || r.Size != 18 {
				t.Errorf("%s!%s: %+v", f, m, r)
			}
			if _, ok := w.texts[key(f, m)]; ok {
				t.Errorf("%s!%s: encrypted member scanned", f, m)
			}
		}
	}
	if r := w.rec(t, "rar4-encrypted-data.rar", ""); r.State != "encrypted" || r.Reason != "all 2 rar entries encrypted" {
		t.Errorf("rar4-encrypted-data.rar: %+v", r)
	}
	for _, m := range []string{"foo.txt", "bar.txt"} {
		if r := w.rec(t, "rar4-encrypted-data.rar", m); r.State != "encrypted" {
			t.Errorf("rar4-encrypted-data.rar!%s: %+v", m, r)
		}
	}
	for _, f := range []string{"rar4-encrypted-names.rar", "rar5-encrypted-names.rar"} {
		if r := w.rec(t, f, ""); r.State != "encrypted" || !strings.Contains(r.Reason, "file names too") {
			t.Errorf("%s: %+v", f, r)
		}
	}
	for k := range w.texts {
		if strings.Contains(k, "-data.rar|") || strings.Contains(k, "-names.rar|") {
			t.Errorf("unit %s from an encrypted archive", k)
		}
	}
}

// A rar cut short anywhere is not read whole: error and counted as not
// read, never scanned, even where the cut falls in the data of a member
// the scanner skips (rardecode takes the end of its input there for the
// end of the archive). A header-encrypted one cut short stays encrypted.
// A member whose bytes were changed fails its checksum.
func TestRARCutShort(t *testing.T) {
	dir := t.TempDir()
	for _, f := range rarFixtures {
		b := rarFixture(t, f)
		for _, at := range []int{len(b) / 4, len(b) / 2, len(b) * 3 / 4, len(b) - 1} {
			writeFile(t, dir, fmt.Sprintf("%s-%d.rar", strings.TrimSuffix(f, ".rar"), at), b[:at])
		}
	}
	flipped := rarFixture(t, "rar5-unicode.rar")
	if i := bytes.Index(flipped, []byte("Hello, world!")); i < 0 {
		t.Fatal("no stored text in rar5-unicode.rar")
	} else {
		flipped[i] = 'J'
	}
	writeFile(t, dir, "flipped.rar", flipped)
	w := walkDir(t, dir, Options{})
	for k, r := range w.recs {
		if r.Member != "" || k == key("flipped.rar", "") {
			continue
		}
		switch {
		case strings.Contains(k, "-names-") && r.State == "encrypted":
		case r.State != "error" || r.NotRead != "read error" || !strings.HasPrefix(r.Reason, "rar") && !strings.Contains(r.Reason, ": rar: "):
			t.Errorf("%s: %+v, want error", k, r)
		}
	}
	if n := len(w.recs); n < 4*len(rarFixtures) {
		t.Errorf("%d records for %d cut archives", n, 4*len(rarFixtures))
	}
	if r := w.rec(t, "flipped.rar", ""); r.State != "error" {
		t.Errorf("flipped.rar: %+v", r)
	}
	if m := w.rec(t, "flipped.rar", "👋🌎.txt"); m.State != "error" || m.NotRead != "read error" || !strings.Contains(m.Reason, "checksum") {
		t.Errorf("flipped.rar member: %+v", m)
	}
}

// FuzzRAR covers rardecode as this package drives it, from the RAR4 and
// RAR5 fixtures.
func FuzzRAR(f *testing.F) {
	for _, p := range rarFixtures {
		f.Add(rarFixture(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkState(t, fuzzCtx(data).rar(node{}, bytes.NewReader(data)))
	})
}
