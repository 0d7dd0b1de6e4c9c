package filesrc

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/klauspost/compress/flate"

	"github.com/atrest/atrest/audit"
)

// marker is what the test scanner counts as a finding.
const marker = "SECRET"

// walked is everything one Walk produced, keyed by "rel|member".
type walked struct {
	recs  map[string]audit.FileRecord
	units map[string]Unit // Text replaced by nil; the text is in texts
	texts map[string]string
	order []string // record keys in report order
}

func key(rel, member string) string { return rel + "|" + member }

// walkDir walks root and keys the output by the path relative to root.
func walkDir(t *testing.T, root string, opts Options) walked {
	t.Helper()
	w, err := walkRoots(t, root, []string{root}, opts)
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return w
}

func walkRoots(t *testing.T, base string, roots []string, opts Options) (walked, error) {
	t.Helper()
	var mu sync.Mutex
	w := walked{recs: map[string]audit.FileRecord{}, units: map[string]Unit{}, texts: map[string]string{}}
	rel := func(p string) string {
		r, err := filepath.Rel(base, p)
		if err != nil {
			t.Fatalf("rel %s: %v", p, err)
		}
		return filepath.ToSlash(r)
	}
	err := Walk(context.Background(), roots, opts, func(u Unit) (int, error) {
		if u.Table != nil {
			u.Text = tableText(u.Table)
		}
		b, err := io.ReadAll(u.Text)
		mu.Lock()
		defer mu.Unlock()
		k := key(rel(u.Path), u.Member)
		if _, dup := w.texts[k]; dup {
			t.Errorf("unit %s scanned twice", k)
		}
		w.texts[k] = string(b)
		u.Text = nil
		w.units[k] = u
		return strings.Count(string(b), marker), err
	}, func(r audit.FileRecord) {
		mu.Lock()
		defer mu.Unlock()
		k := key(rel(r.Path), r.Member)
		if _, dup := w.recs[k]; dup {
			t.Errorf("record %s reported twice", k)
		}
		if r.Record != "file" {
			t.Errorf("record %s: Record = %q", k, r.Record)
		}
		w.recs[k] = r
		w.order = append(w.order, k)
	})
	return w, err
}

// rec fetches a record or fails.
func (w walked) rec(t *testing.T, rel, member string) audit.FileRecord {
	t.Helper()
	r, ok := w.recs[key(rel, member)]
	if !ok {
		t.Fatalf("no record for %s (have %v)", key(rel, member), w.order)
	}
	return r
}

func writeFile(t *testing.T, dir, rel string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type zipEntry struct {
	name      string
	data      []byte
	encrypted bool
	store     bool
}

func buildZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.store {
			h.Method = zip.Store
		}
		if e.encrypted {
			h.Flags |= 1
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildXLSX makes a workbook with one sheet from raw sheetData XML and shared strings.
func buildXLSX(t *testing.T, sheetName, sheetData string, shared []string) []byte {
	t.Helper()
	var sst strings.Builder
	sst.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	for _, s := range shared {
		sst.WriteString("<si>" + s + "</si>")
	}
	sst.WriteString("</sst>")
	return buildZip(t,
		zipEntry{name: "[Content_Types].xml", data: []byte(`<Types/>`)},
		zipEntry{name: "xl/workbook.xml", data: []byte(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="` + sheetName + `" sheetId="1" r:id="rId7"/></sheets></workbook>`)},
		zipEntry{name: "xl/_rels/workbook.xml.rels", data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/data.xml"/><Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/strings.xml"/></Relationships>`)},
		zipEntry{name: "xl/strings.xml", data: []byte(sst.String())},
		zipEntry{name: "xl/worksheets/data.xml", data: []byte(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + sheetData + `</sheetData></worksheet>`)},
	)
}

const wordNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

func buildDOCX(t *testing.T, body string, extra ...zipEntry) []byte {
	t.Helper()
	entries := []zipEntry{
		{name: "[Content_Types].xml", data: []byte(`<Types/>`)},
		{name: "word/document.xml", data: []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + wordNS + `><w:body>` + body + `</w:body></w:document>`)},
	}
	return buildZip(t, append(entries, extra...)...)
}

const cfbEndOfChain = 0xFFFFFFFE

// buildCFB makes a minimal OLE2 compound file (512-byte sectors: FAT in
// sector 0, directory in sector 1) whose directory holds the given empty
// streams, each the right sibling of the one before.
func buildCFB(streams ...string) []byte {
	le := binary.LittleEndian
	b := make([]byte, 512*3)
	copy(b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
	le.PutUint16(b[0x18:], 0x3e)
	le.PutUint16(b[0x1a:], 3)
	le.PutUint16(b[0x1c:], 0xfffe)
	le.PutUint16(b[0x1e:], 9)
	le.PutUint16(b[0x20:], 6)
	le.PutUint32(b[0x2c:], 1)
	le.PutUint32(b[0x30:], 1)
	le.PutUint32(b[0x38:], 4096)
	le.PutUint32(b[0x3c:], cfbEndOfChain)
	le.PutUint32(b[0x44:], cfbEndOfChain)
	for i := 0; i < 109; i++ {
		le.PutUint32(b[0x4c+4*i:], 0xffffffff)
	}
	le.PutUint32(b[0x4c:], 0)
	fat := b[512:1024]
	for i := 0; i < 128; i++ {
		le.PutUint32(fat[4*i:], 0xffffffff)
	}
	le.PutUint32(fat[0:], 0xfffffffd)
	le.PutUint32(fat[4:], cfbEndOfChain)
	dir := b[1024:1536]
	for i, name := range append([]string{"Root Entry"}, streams...) {
		if i >= 4 {
			panic("buildCFB: at most 3 streams")
		}
		ent := dir[128*i : 128*(i+1)]
		u := utf16.Encode([]rune(name))
		for j, c := range u {
			le.PutUint16(ent[2*j:], c)
		}
		le.PutUint16(ent[0x40:], uint16(2*(len(u)+1)))
		ent[0x42] = 2
		le.PutUint32(ent[0x44:], 0xffffffff) // left sibling
		le.PutUint32(ent[0x48:], 0xffffffff) // right sibling
		le.PutUint32(ent[0x4c:], 0xffffffff) // child
		le.PutUint32(ent[0x74:], cfbEndOfChain)
		switch {
		case i == 0:
			ent[0x42] = 5
			if len(streams) > 0 {
				le.PutUint32(ent[0x4c:], 1)
			}
		case i < len(streams):
			le.PutUint32(ent[0x48:], uint32(i+1))
		}
	}
	return b
}

// tableText renders a sampled table as text, one row a line, for tests.
func tableText(t *Table) io.Reader {
	var b strings.Builder
	t.Sample(func(row [][]byte) {
		for i, v := range row {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.Write(v)
		}
		b.WriteByte('\n')
	})
	return strings.NewReader(b.String())
}
