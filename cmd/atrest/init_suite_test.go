package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/emmansun/gmsm/sm2"
)

// smPublicKeyFile writes a fresh SM2 public key in PEM to dir and returns
// its path (the private half is not needed to make backups).
func smPublicKeyFile(t *testing.T, dir string) string {
	t.Helper()
	priv, err := suite.SM.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := suite.ParseSigningKey(priv)
	pub, _ := suite.MarshalPublicKey(&k.(*sm2.PrivateKey).PublicKey)
	p := filepath.Join(dir, "backup-sm2.pub")
	os.WriteFile(p, pub, 0o644)
	return p
}

func keySuite(t *testing.T, path string) string {
	t.Helper()
	k, err := suite.LoadSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := suite.Of(k)
	if err != nil {
		t.Fatal(err)
	}
	return s.Name()
}

const suiteJobs = `sources: [{name: yb, dsn_env: YB_DSN}]
storage:
  - {name: s3, endpoint: 127.0.0.1:9, access_key_env: AK, secret_key_env: SK}
backups:
  - {name: sm-job, suite: sm, source: yb, storage: s3, bucket: b, recipients: [%s]}
  - {name: std-job, suite: standard, source: yb, storage: s3, bucket: b, recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p]}
`

// A standard installation with an sm job: init makes an SM2 key for that
// job's manifests beside the Ed25519 journal key (SPEC §7).
func TestInitStandardInstallationWithSMJob(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte("state_dir: "+dir+"/state\n"+fmt.Sprintf(suiteJobs, smPublicKeyFile(t, dir))), 0o644)
	out, stderr, code := atrest(t, "init", "--config", cfg)
	if code != 0 {
		t.Fatalf("init: exit %d: %s%s", code, out, stderr)
	}
	if s := keySuite(t, filepath.Join(dir, "state", "journal.key")); s != "standard" {
		t.Errorf("journal key of suite %s", s)
	}
	smKey := filepath.Join(dir, "state", "manifest-sm2.key")
	if s := keySuite(t, smKey); s != "sm" || !strings.Contains(out, "manifest key (sm)") {
		t.Errorf("manifest key of suite %s:\n%s", s, out)
	}
	if st, err := os.Stat(smKey); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("manifest key mode: %v", err)
	}
	if b, _ := os.ReadFile(smKey); !strings.HasPrefix(string(b), "-----BEGIN PRIVATE KEY-----\n") {
		t.Errorf("manifest key is not PKCS#8 PEM:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "manifest-ed25519.key")); err == nil {
		t.Error("a standard job beside a standard journal got a key of its own")
	}
}

// An sm installation: an SM2 journal key, entry 1 says sm, audit verify
// reads the suite from the journal, and fingerprints are HMAC-SM3.
func TestInitSMInstallation(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte("suite: sm\nstate_dir: "+dir+"/state\n"+fmt.Sprintf(suiteJobs, smPublicKeyFile(t, dir))), 0o644)
	if out, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: exit %d: %s%s", code, out, stderr)
	}
	if s := keySuite(t, filepath.Join(dir, "state", "journal.key")); s != "sm" {
		t.Errorf("journal key of suite %s", s)
	}
	if s := keySuite(t, filepath.Join(dir, "state", "manifest-ed25519.key")); s != "standard" {
		t.Errorf("the standard job's manifest key is of suite %s", s)
	}
	out, stderr, code := atrest(t, "audit", "verify", "--config", cfg)
	if code != 0 || !strings.Contains(out, "suite:        sm (from entry 1; SM3 chain and Merkle tree, SM2 checkpoint signatures)") {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, stderr)
	}

	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	os.WriteFile(filepath.Join(tree, "a.txt"), []byte("手机 13812345678\n"), 0o644)
	out, _, _ = atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", tree)
	key, err := crypto.LoadFingerprintKey(filepath.Join(dir, "state", "fingerprint.key"))
	if err != nil {
		t.Fatal(err)
	}
	want := crypto.NewFingerprinterWith(key, suite.SM).Sum("13812345678")
	var rec struct{ Record, Fingerprint string }
	for _, l := range strings.Split(out, "\n") {
		if json.Unmarshal([]byte(l), &rec) == nil && rec.Record == "finding" {
			break
		}
	}
	if rec.Fingerprint != want || want == crypto.NewFingerprinter(key).Sum("13812345678") {
		t.Errorf("fingerprint %s, want HMAC-SM3 %s\n%s", rec.Fingerprint, want, out)
	}
}

// A journal keeps its suite: switching the config to sm after init made an
// Ed25519 key keeps the key, says so, and the journal stays standard.
func TestInitKeepsTheJournalSuite(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte("state_dir: "+dir+"/state\n"), 0o644)
	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	os.WriteFile(cfg, []byte("suite: sm\nstate_dir: "+dir+"/state\n"), 0o644)
	out, stderr, code := atrest(t, "init", "--config", cfg)
	if code != 0 || !strings.Contains(out, "kept (exists, a key of suite standard: the journal stays standard") {
		t.Fatalf("init after the switch: exit %d\n%s%s", code, out, stderr)
	}
	if out, _, code := atrest(t, "audit", "verify", "--config", cfg); code != 0 || !strings.Contains(out, "suite:        standard") {
		t.Errorf("audit verify: exit %d\n%s", code, out)
	}
}
