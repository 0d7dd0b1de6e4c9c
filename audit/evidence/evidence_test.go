package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/testenv"
)

// newKey is a fresh journal key of suite s.
func newKey(t testing.TB, s suite.Suite) crypto.Signer { return testenv.SigningKey(t, s) }

// members reads a bundle's members.
func members(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return files
}

func bundle(t testing.TB) ([]byte, crypto.Signer) { return bundleOf(t, suite.Standard) }

// bundleOf is a bundle of a journal of suite s, signed with its key.
func bundleOf(t testing.TB, s suite.Suite) ([]byte, crypto.Signer) {
	t.Helper()
	key := newKey(t, s)
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

func verifyBytes(b []byte, trusted crypto.PublicKey) (Result, error) {
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

// A bundle of either suite verifies, with its own key or the one trusted,
// and every edit fails by name. An sm journal's bundle is SM3 and SM2
// throughout, and verifies with the SM2 public key in PEM.
func TestBundleVerifiesAndEveryEditFails(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		t.Run(s.Name(), func(t *testing.T) { testBundle(t, s) })
	}
}

func testBundle(t *testing.T, s suite.Suite) {
	b, key := bundleOf(t, s)
	res, err := verifyBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 4 || res.Entries[3].Seq != 12 || res.Checkpoint.Size != 12 || res.KeyID != Fingerprint(key.Public()) ||
		res.Manifest.Hash != s.HashName() || len(res.Manifest.Members) == 0 || *res.Manifest.Members[0].field(s) == "" {
		t.Fatalf("result %+v", res)
	}
	pem, _ := suite.MarshalPublicKey(key.Public())
	trusted, err := suite.ParseVerificationKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifyBytes(b, trusted); err != nil {
		t.Fatalf("with the trusted key: %v", err)
	}
	for _, os := range []suite.Suite{suite.Standard, suite.SM} {
		if _, err := verifyBytes(b, newKey(t, os).Public()); err == nil || !strings.Contains(err.Error(), "not the key you trust") {
			t.Fatalf("another trusted %s key: %v", os.Name(), err)
		}
	}
	other := newKey(t, s)
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
func resign(t *testing.T, b []byte, key crypto.Signer) []byte {
	t.Helper()
	files := members(t, b)
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

// An sm bundle checks by hand with Debian's OpenSSL: each member's SM3 is
// the one MANIFEST.json lists, and the signed text of MANIFEST.sig is the
// manifest's SM3, its SM2 signature checking with the bundle's key.
func TestSMBundleByHand(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no openssl (Debian package openssl)")
		}
		t.Skip("no openssl")
	}
	b, _ := bundleOf(t, suite.SM)
	res, err := verifyBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := members(t, b)
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, data, 0o644)
	}
	sm3 := func(name string) string {
		out, err := exec.Command("openssl", "dgst", "-sm3", "-r", filepath.Join(dir, name)).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(string(out))[0]
	}
	for _, m := range res.Manifest.Members {
		if got := sm3(m.Name); got != m.SM3 || m.SHA256 != "" {
			t.Errorf("%s: openssl dgst -sm3 %s, manifest sm3 %q sha256 %q", m.Name, got, m.SM3, m.SHA256)
		}
	}
	if want := Format + "\nsm3 " + sm3(manifestName) + "\n"; !strings.HasPrefix(string(files[signatureName]), want) {
		t.Errorf("MANIFEST.sig does not sign the manifest's SM3:\n%s", files[signatureName])
	}
	if !strings.Contains(string(files[readmeName]), "openssl dgst -sm3") {
		t.Errorf("README does not say how to check by hand with SM3")
	}
}
