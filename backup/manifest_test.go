package backup_test

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/testenv"
)

// testKey is a fresh Ed25519 manifest key (standard).
func testKey(t testing.TB) crypto.Signer { return signingKey(t, suite.Standard) }

// signingKey is a fresh manifest key of suite s.
func signingKey(t testing.TB, s suite.Suite) crypto.Signer { return testenv.SigningKey(t, s) }

// smManifest is sampleManifest made by a job of the sm suite.
func smManifest() *backup.Manifest {
	m := sampleManifest()
	m.Suite = "sm"
	m.Object.Key = backup.ObjectKey("yb/", "yb-nightly", suite.SM, m.Started, "9f2c4a1b")
	m.Encryption = backup.ClientEncryption{Scheme: suite.SM.Scheme(), Recipients: []string{"sm2:0123456789abcdef"}}
	return m
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
			Key: backup.ObjectKey("yb/", "yb-nightly", suite.Standard, t0, "9f2c4a1b"), ETag: "abc-2", ChecksumSHA256: "c2hh-2",
			PlaintextBytes: 1000, CompressedBytes: 300, CiphertextBytes: 512,
			PlaintextSHA256: strings.Repeat("1", 64), CiphertextSHA256: strings.Repeat("2", 64),
		},
		Compression: "zstd",
		Encryption:  backup.ClientEncryption{Scheme: "age", Recipients: []string{"age1xyz"}},
	}
}

func TestObjectKey(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 30, 5, 7e6, time.FixedZone("CST", 8*3600))
	for s, ext := range map[suite.Suite]string{suite.Standard: "age", suite.SM: "sm4"} {
		got := backup.ObjectKey("yb/", "yb-nightly", s, at, "9f2c4a1b")
		want := "yb/yb-nightly/2026/11/24/yb-nightly-20261124T013005.007Z-9f2c4a1b.sql.zst." + ext
		if got != want {
			t.Errorf("ObjectKey = %q, want %q", got, want)
		}
		if backup.ManifestKey(got) != want+".manifest.json" {
			t.Errorf("ManifestKey = %q", backup.ManifestKey(got))
		}
		if ks, ok := backup.ObjectSuite(got); !ok || ks != s {
			t.Errorf("ObjectSuite(%s) = %v, %v", got, ks, ok)
		}
		if obj, manifest, ok := backup.ListedKey(backup.ManifestKey(got)); obj != got || !manifest || !ok {
			t.Errorf("ListedKey(manifest of %s) = %s %v %v", got, obj, manifest, ok)
		}
		if obj, manifest, ok := backup.ListedKey(got); obj != got || manifest || !ok {
			t.Errorf("ListedKey(%s) = %s %v %v", got, obj, manifest, ok)
		}
	}
	for _, other := range []string{"yb/canary", "yb/x.sql.zst", "yb/x.sql.gz.age", "yb/x.sql.zst.aes.manifest.json", "yb/x.manifest.json"} {
		if _, _, ok := backup.ListedKey(other); ok {
			t.Errorf("ListedKey(%s) took it for a backup's", other)
		}
	}
}

func TestManifestSignVerify(t *testing.T) {
	t.Run("standard", func(t *testing.T) { testManifestSignVerify(t, suite.Standard, sampleManifest) })
	t.Run("sm", func(t *testing.T) { testManifestSignVerify(t, suite.SM, smManifest) })
}

func testManifestSignVerify(t *testing.T, s suite.Suite, sample func() *backup.Manifest) {
	key := signingKey(t, s)
	pub := key.Public()
	m := sample()
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
	if id, _ := suite.KeyID(pub); got.Signature.KeyID != id || got.Signature.Algorithm != s.SignatureName() {
		t.Errorf("key id %q, algorithm %q, want %q, %q", got.Signature.KeyID, got.Signature.Algorithm, id, s.SignatureName())
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
		{`"scheme": "` + s.Scheme(), `"scheme": "x` + s.Scheme()},
		{`"` + m.Encryption.Recipients[0] + `"`, `"` + m.Encryption.Recipients[0] + `evil"`},
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

	// Another installation's key, of either suite.
	for _, os := range []suite.Suite{suite.Standard, suite.SM} {
		other := signingKey(t, os).Public()
		if err := got.Verify(other); !errors.Is(err, backup.ErrOtherKey) {
			t.Errorf("other %s key: %v, want ErrOtherKey", os.Name(), err)
		}
		if err := (backup.Keys{other}).Verify(got); !errors.Is(err, backup.ErrOtherKey) {
			t.Errorf("keys without ours: %v, want ErrOtherKey", err)
		}
		if err := (backup.Keys{other, pub}).Verify(got); err != nil {
			t.Errorf("keys with ours: %v", err)
		}
	}
	// A signature re-made with another key and the original key id is
	// still caught.
	evil := signingKey(t, s)
	m2 := sample()
	m2.Sign(evil)
	m2.Signature.KeyID, _ = suite.KeyID(pub)
	if err := m2.Verify(pub); !errors.Is(err, backup.ErrBadSignature) {
		t.Errorf("signature by another key under our key id: %v", err)
	}
	// A manifest that says another suite than its signature's: a key of
	// the other suite cannot sign it, and a suite edited afterwards breaks
	// the signature.
	other := suite.SM
	if s == suite.SM {
		other = suite.Standard
	}
	if err := sample().Sign(signingKey(t, other)); err == nil {
		t.Errorf("a %s key signed a manifest of suite %s", other.Name(), s.Name())
	}
	m3 := sample()
	m3.Sign(key)
	m3.Suite = other.Name()
	if err := m3.Verify(pub); !errors.Is(err, backup.ErrBadSignature) {
		t.Errorf("suite edited after signing: %v", err)
	}
}

// Trust is the one question check, drill and prune ask: this job, this
// object, one of this installation's keys.
func TestManifestTrust(t *testing.T) {
	std, sm := testKey(t), signingKey(t, suite.SM)
	keys := backup.Keys{std.Public(), sm.Public()}
	a, b := sampleManifest(), smManifest()
	a.Sign(std)
	b.Sign(sm)
	for _, m := range []*backup.Manifest{a, b} {
		if err := m.Trust(keys, "yb-nightly", m.Object.Key); err != nil {
			t.Errorf("%s manifest: %v", m.Suite, err)
		}
		if err := m.Trust(keys, "other", m.Object.Key); err == nil || !strings.HasPrefix(err.Error(), "manifest is for job") {
			t.Errorf("other job: %v", err)
		}
		if err := m.Trust(keys, "yb-nightly", "yb/x.sql.zst.age"); err == nil || !strings.HasPrefix(err.Error(), "manifest describes object") {
			t.Errorf("other object: %v", err)
		}
		if err := m.Trust(keys[:1:1], "yb-nightly", m.Object.Key); m == b && !errors.Is(err, backup.ErrOtherKey) {
			t.Errorf("sm manifest without the SM2 key: %v", err)
		}
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
	keyOf := map[string]crypto.Signer{"": testKey(f), "standard": testKey(f), "sm": signingKey(f, suite.SM)}
	m := sampleManifest()
	m.Sign(keyOf[""])
	good, _ := m.Marshal()
	f.Add(good)
	sm := smManifest()
	sm.Sign(keyOf["sm"])
	smGood, _ := sm.Marshal()
	f.Add(smGood)
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
		key := keyOf[m1.Suite]
		pub := key.Public()
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
