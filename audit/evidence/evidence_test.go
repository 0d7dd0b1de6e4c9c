package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

func bundle(t testing.TB) ([]byte, ed25519.PrivateKey) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	j, err := journal.Open(dir, key, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		if _, err := j.Append(journal.Entry{Kind: "scan.files", Subject: "exports", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	j.Checkpoint(context.Background())
	j.Close()
	p, err := journal.Prove(dir, []int{3, 4, 5, 12})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = Write(&buf, key, Contents{Period: "2026-12-01..2026-12-31", Created: time.Now(), Proven: p,
		Files: []File{{"report.html", []byte("<html>报告</html>")}, {"report.json", []byte(`{"period":"2026-12"}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), key
}

func verifyBytes(b []byte, trusted ed25519.PublicKey) (Result, error) {
	return Verify(bytes.NewReader(b), int64(len(b)), trusted)
}

// rezip copies a bundle, letting edit change (or drop, returning nil) members.
func rezip(t *testing.T, b []byte, edit func(name string, data []byte) []byte, extra ...File) []byte {
	t.Helper()
	zr, _ := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if data = edit(f.Name, data); data == nil {
			continue
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	for _, f := range extra {
		w, _ := zw.Create(f.Name)
		w.Write(f.Data)
	}
	zw.Close()
	return out.Bytes()
}

func TestBundleVerifiesAndEveryEditFails(t *testing.T) {
	b, key := bundle(t)
	res, err := verifyBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 4 || res.Entries[3].Seq != 12 || res.Checkpoint.Size != 12 || res.KeyID != Fingerprint(key.Public().(ed25519.PublicKey)) {
		t.Fatalf("result %+v", res)
	}
	if _, err := verifyBytes(b, key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("with the trusted key: %v", err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := verifyBytes(b, other.Public().(ed25519.PublicKey)); err == nil || !strings.Contains(err.Error(), "not the key you trust") {
		t.Fatalf("another trusted key: %v", err)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"report edited", rezip(t, b, func(n string, d []byte) []byte {
			if n == "report.html" {
				return bytes.Replace(d, []byte("报告"), []byte("报吿"), 1)
			}
			return d
		}), "member report.html was edited"},
		{"entry edited", rezip(t, b, func(n string, d []byte) []byte {
			if n == entriesName {
				return bytes.Replace(d, []byte(`"outcome":"ok"`), []byte(`"outcome":"no"`), 1)
			}
			return d
		}), "member journal/entries.jsonl was edited"},
		{"manifest edited", rezip(t, b, func(n string, d []byte) []byte {
			if n == manifestName {
				return bytes.Replace(d, []byte("2026-12-01"), []byte("2026-11-01"), 1)
			}
			return d
		}), "MANIFEST.json was edited"},
		{"member removed", rezip(t, b, func(n string, d []byte) []byte {
			if n == "report.json" {
				return nil
			}
			return d
		}), "member report.json is listed in the manifest but missing"},
		{"member added", rezip(t, b, func(_ string, d []byte) []byte { return d }, File{"extra.txt", []byte("x")}),
			"member extra.txt is not in the signed manifest"},
		{"re-signed by another key", resign(t, b, other), "journal: checkpoint"},
		{"not a zip", []byte("PK\x03\x04 nope"), "not a zip file"},
	} {
		if _, err := verifyBytes(c.b, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// resign is a forger who swaps the key and re-signs the manifest, but
// cannot re-sign the journal's checkpoint.
func resign(t *testing.T, b []byte, key ed25519.PrivateKey) []byte {
	t.Helper()
	zr, _ := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	res, _ := verifyBytes(b, nil)
	p := &journal.ProvenEntries{Checkpoint: files[checkpointName], Size: res.Checkpoint.Size}
	for _, l := range strings.SplitAfter(string(files[entriesName]), "\n") {
		if l != "" {
			p.Lines = append(p.Lines, []byte(l))
		}
	}
	pr, _ := provenFrom(files, res.Manifest)
	p.Seqs, p.Proofs = pr.Seqs, pr.Proofs
	var out bytes.Buffer
	if err := Write(&out, key, Contents{Period: "x", Created: time.Now(), Proven: p}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func FuzzVerify(f *testing.F) {
	b, _ := bundle(f)
	f.Add(b)
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		verifyBytes(data, nil) // must not panic or hang
	})
}
