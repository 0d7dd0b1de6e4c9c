package backup_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
)

func testKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sampleManifest() *backup.Manifest {
	t0 := time.Date(2026, 11, 24, 1, 30, 0, 123456789, time.UTC)
	return &backup.Manifest{
		Format: backup.ManifestFormat, Job: "yb-nightly", ToolVersion: "test",
		Source:    backup.Server{Version: "10.11.19-MariaDB", UUID: "1@db1", Host: "db1", Port: 3306},
		Started:   t0,
		Snapshot:  t0.Add(time.Second),
		Finished:  t0.Add(time.Minute),
		Position:  backup.Position{BinlogFile: "mysql-bin.000042", BinlogPos: 1234, GTID: "0-1-99", Exact: true, Consistency: "single connection"},
		Databases: []string{"yb"},
		Tables: []backup.Table{
			{Database: "yb", Name: "cb_ryxx", Rows: 957243, Digest: strings.Repeat("ab", 32), DDLHash: strings.Repeat("cd", 32)},
			{Database: "yb", Name: "<js&mx>", Rows: 0, Digest: strings.Repeat("00", 32), DDLHash: strings.Repeat("ef", 32)},
		},
		DigestAlgorithm: "test",
		Object: backup.Object{
			Key: backup.ObjectKey("yb/", "yb-nightly", t0, "9f2c4a1b"), ETag: "abc-2", ChecksumSHA256: "c2hh-2",
			PlaintextBytes: 1000, CompressedBytes: 300, CiphertextBytes: 512,
			PlaintextSHA256: strings.Repeat("1", 64), CiphertextSHA256: strings.Repeat("2", 64),
		},
		Compression: "zstd",
		Encryption:  backup.ClientEncryption{Scheme: "age", Recipients: []string{"age1xyz"}},
	}
}

func TestObjectKey(t *testing.T) {
	got := backup.ObjectKey("yb/", "yb-nightly", time.Date(2026, 11, 24, 9, 30, 5, 7e6, time.FixedZone("CST", 8*3600)), "9f2c4a1b")
	want := "yb/yb-nightly/2026/11/24/yb-nightly-20261124T013005.007Z-9f2c4a1b.sql.zst.age"
	if got != want {
		t.Errorf("ObjectKey = %q, want %q", got, want)
	}
	if backup.ManifestKey(got) != want+".manifest.json" {
		t.Errorf("ManifestKey = %q", backup.ManifestKey(got))
	}
}

func TestManifestSignVerify(t *testing.T) {
	key := testKey(t)
	pub := key.Public().(ed25519.PublicKey)
	m := sampleManifest()
	if err := m.Verify(pub); !errors.Is(err, backup.ErrUnsigned) {
		t.Fatalf("unsigned manifest: %v", err)
	}
	if err := m.Sign(key); err != nil {
		t.Fatal(err)
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"name": "<js&mx>"`)) {
		t.Errorf("names are HTML-escaped in the stored form:\n%s", data)
	}
	got, err := backup.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(pub); err != nil {
		t.Fatalf("stored manifest does not verify: %v", err)
	}
	if got.Signature.KeyID != backup.KeyID(pub) {
		t.Errorf("key id %q, want %q", got.Signature.KeyID, backup.KeyID(pub))
	}

	// Whitespace and field order are not what is signed: a compacted,
	// reordered copy verifies too.
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	compact, _ := json.Marshal(generic) // map keys sorted: another order
	if got, err := backup.ParseManifest(compact); err != nil {
		t.Fatal(err)
	} else if err := got.Verify(pub); err != nil {
		t.Errorf("reformatted manifest: %v", err)
	}

	// Any change to what it says breaks the signature.
	for _, edit := range []struct{ from, to string }{
		{`"rows": 957243`, `"rows": 957242`},
		{`"ciphertext_bytes": 512`, `"ciphertext_bytes": 513`},
		{`"job": "yb-nightly"`, `"job": "yb-weekly"`},
		{`"snapshot": "2026-11-24T01:30:01.123456789Z"`, `"snapshot": "2026-11-25T01:30:01.123456789Z"`},
		{`"recipients": [` + "\n" + `      "age1xyz"`, `"recipients": [` + "\n" + `      "age1evil"`},
	} {
		forged := bytes.Replace(data, []byte(edit.from), []byte(edit.to), 1)
		if bytes.Equal(forged, data) {
			t.Fatalf("edit %q not applied to:\n%s", edit.from, data)
		}
		fm, err := backup.ParseManifest(forged)
		if err != nil {
			t.Fatalf("forged manifest does not parse: %v", err)
		}
		if err := fm.Verify(pub); !errors.Is(err, backup.ErrBadSignature) {
			t.Errorf("edit %q → %q: Verify = %v, want ErrBadSignature", edit.from, edit.to, err)
		}
	}

	// Another installation's key.
	other := testKey(t).Public().(ed25519.PublicKey)
	if err := got.Verify(other); !errors.Is(err, backup.ErrOtherKey) {
		t.Errorf("other key: %v, want ErrOtherKey", err)
	}
	// A signature re-made with another key and the original key id is
	// still caught.
	evil := testKey(t)
	m2 := sampleManifest()
	m2.Sign(evil)
	m2.Signature.KeyID = backup.KeyID(pub)
	if err := m2.Verify(pub); !errors.Is(err, backup.ErrBadSignature) {
		t.Errorf("signature by another key under our key id: %v", err)
	}
}

func TestParseManifestRefuses(t *testing.T) {
	key := testKey(t)
	m := sampleManifest()
	m.Sign(key)
	good, _ := m.Marshal()
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"empty":         {nil, "not JSON"},
		"not json":      {[]byte("age-encryption.org/v1\n"), "not JSON"},
		"array":         {[]byte(`[1,2]`), "manifest"},
		"other format":  {bytes.Replace(good, []byte(`"atrest/v1"`), []byte(`"atrest/v2"`), 1), `format "atrest/v2"`},
		"no format":     {[]byte(`{"job":"x"}`), "format"},
		"unknown field": {bytes.Replace(good, []byte(`"job":`), []byte(`"jobb": 1, "job":`), 1), "unknown field"},
		"trailing":      {append(append([]byte{}, good...), []byte(`{}`)...), "after top-level value"},
		"bad sha":       {bytes.Replace(good, []byte(strings.Repeat("2", 64)), []byte(strings.Repeat("Z", 64)), 1), "ciphertext_sha256"},
		"negative size": {bytes.Replace(good, []byte(`"plaintext_bytes": 1000`), []byte(`"plaintext_bytes": -1`), 1), "negative"},
		"no key":        {bytes.Replace(good, []byte(`"key": "yb/`), []byte(`"key": "", "x_": "`), 1), "unknown field"},
		"too big":       {append(bytes.Repeat([]byte(" "), backup.MaxManifestBytes), good...), "allowed"},
	} {
		_, err := backup.ParseManifest(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one containing %q", name, err, c.want)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", name, err)
		}
	}
}

// FuzzParseManifest: the parser never panics on what a bucket holds, and
// what it accepts survives a round trip with its canonical form (so the
// signature of a parsed manifest is checked against what was signed), and a
// signature made over a parsed manifest verifies after storing and parsing.
func FuzzParseManifest(f *testing.F) {
	key := testKey(f)
	pub := key.Public().(ed25519.PublicKey)
	m := sampleManifest()
	m.Sign(key)
	good, _ := m.Marshal()
	f.Add(good)
	compact, _ := json.Marshal(m)
	f.Add(compact)
	f.Add([]byte(`{"format":"atrest/v1"}`))
	f.Add([]byte(`{"format":"atrest/v1","job":"j","snapshot":"2026-01-01T00:00:00+08:00","object":{"key":"k","plaintext_sha256":"` +
		strings.Repeat("a", 64) + `","ciphertext_sha256":"` + strings.Repeat("b", 64) + `"},"tables":[{"name":"\u003c\ud800"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m1, err := backup.ParseManifest(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		out, err := m1.Marshal()
		if err != nil {
			t.Fatalf("parsed manifest does not marshal: %v", err)
		}
		m2, err := backup.ParseManifest(out)
		if err != nil {
			t.Fatalf("marshalled manifest does not parse: %v\n%s", err, out)
		}
		out2, _ := m2.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the manifest:\n%s\n%s", out, out2)
		}
		verified := m1.Verify(pub) == nil
		if verified != (m2.Verify(pub) == nil) {
			t.Fatalf("round trip changed the verdict of the signature")
		}
		if err := m2.Sign(key); err != nil {
			t.Fatal(err)
		}
		out3, _ := m2.Marshal()
		m3, err := backup.ParseManifest(out3)
		if err != nil {
			t.Fatal(err)
		}
		if err := m3.Verify(pub); err != nil {
			t.Fatalf("re-signed manifest does not verify: %v\n%s", err, out3)
		}
	})
}
