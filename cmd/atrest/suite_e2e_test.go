package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/testenv"
)

const smConfig = `suite: sm
state_dir: state
sources:
  - name: yb-prod
    dsn_env: ATREST_T_DSN
    databases: [%s]
storage:
  - name: s3
    endpoint: %s
    access_key_env: ATREST_T_S3_ACCESS
    secret_key_env: ATREST_T_S3_SECRET
backups:
  - name: yb-sm
    source: yb-prod
    storage: s3
    bucket: %s
    prefix: sm/
    recipients: [%s]
    rpo: 26h
    retention: 30d
drills:
  - name: yb-sm-drill
    backup: yb-sm
    identity_file: %s
    target_dsn_env: ATREST_T_DRILL_DSN
`

// Issue 12's "done when", through the CLI on MariaDB and versitygw: an sm
// installation (SM3/SM2 journal, HMAC-SM3 fingerprints) with an sm job
// backs up (.sql.zst.sm4, SM2-signed manifest), checks with --read (the
// drill's SM2 key authenticates it), drills, and is restored by hand with
// openssl, zstd and mariadb as the README says; the report calls
// MLPS-8.1.10.9 met and cites the sm backup and drill; its evidence bundle
// verifies with the journal's SM2 public key in PEM.
func TestSMJobEndToEnd(t *testing.T) {
	for _, tool := range []string{"openssl", "zstd", "mariadb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("no %s on PATH (Debian packages openssl, zstd, mariadb-client)", tool)
		}
	}
	e := newBackupEnv(t, testenv.S3(t))
	k := testenv.NewBackupKeys(t, suite.SM)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, smConfig, e.database, e.vals.Endpoint, e.vals.Bucket, k.RecipientConfig, k.IdentityFile), 0o644)
	target := testenv.EncryptedMariaDB(t)
	t.Setenv("ATREST_T_DRILL_DSN", target.DSN)
	if out, stderr, code := atrest(t, "init", "--config", cfg); code != exitOK {
		t.Fatalf("init: exit %d: %s%s", code, out, stderr)
	}
	if s := keySuite(t, filepath.Join(dir, "state", "journal.key")); s != "sm" {
		t.Fatalf("journal key of suite %s", s)
	}

	out, stderr, code := atrest(t, "backup", "run", "--config", cfg, "--job", "yb-sm", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("backup run: exit %d: %s%s", code, out, stderr)
	}
	run := records(t, out)[0]
	key, _ := run["key"].(string)
	if run["suite"] != "sm" || !strings.HasSuffix(key, ".sql.zst.sm4") {
		t.Fatalf("backup record %v", run)
	}

	out, stderr, code = atrest(t, "backup", "check", "--config", cfg, "--job", "yb-sm", "--read", "--format", "jsonl")
	t.Logf("check:\n%s%s", out, stderr)
	var read bool
	for _, r := range records(t, out) {
		if r["record"] == "check" && r["suite"] != "sm" {
			t.Errorf("check record of suite %v: %v", r["suite"], r)
		}
		if r["check"] == "integrity" {
			read = r["status"] == "pass" && strings.Contains(r["detail"].(string), "atrest-sm/v1 authenticated the whole object by its tag with the identity (suite sm)")
		}
		if r["check"] == "manifest" && r["status"] != "pass" {
			t.Errorf("manifest: %v", r)
		}
	}
	if !read {
		t.Error("check --read did not authenticate the sm backup to the end")
	}
	out, _, _ = atrest(t, "backup", "check", "--config", cfg, "--job", "yb-sm", "--format", "table")
	if !strings.Contains(out, "SUITE") || !strings.Contains(out, "yb-sm  sm ") {
		t.Errorf("check table does not show the suite:\n%s", out)
	}

	out, stderr, code = atrest(t, "drill", "run", "--config", cfg, "--job", "yb-sm-drill", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("drill run: exit %d: %s%s", code, out, stderr)
	}
	if d := records(t, out)[0]; d["status"] != "pass" || d["suite"] != "sm" || d["backup"] != key || d["tables_matched"] != float64(1) {
		t.Fatalf("drill record %v", d)
	}

	// By hand: the object as stored, the README's commands, a server of
	// its own kind (the drill target), no atrest.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := s3store.New(ctx, e.srv.Config(e.vals.Bucket))
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "x.sql.zst.sm4")
	f, _ := os.Create(obj)
	io.Copy(f, rc)
	rc.Close()
	f.Close()
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, ".my.cnf"), fmt.Appendf(nil, "[client]\nhost=%s\nport=%d\nuser=%s\npassword=%s\ndefault-character-set=utf8mb4\n",
		target.Host, target.Port, target.User, target.Password), 0o600)
	t.Cleanup(func() { target.Exec(t, "DROP DATABASE IF EXISTS `"+e.database+"`") })
	sh := exec.Command("bash", "-e", "-o", "pipefail", "-c", testenv.SMRestoreByHand(t, obj, k.IdentityFile))
	sh.Dir, sh.Env = t.TempDir(), append(os.Environ(), "HOME="+home)
	if b, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("by-hand restore: %v\n%s", err, b)
	}
	var rows int
	if err := target.Open(t, e.database).QueryRow("SELECT COUNT(*) FROM cb_ryxx WHERE psn_name LIKE '王五%'").Scan(&rows); err != nil || rows != 1234 {
		t.Fatalf("restored by hand: %d rows, %v", rows, err)
	}

	// The report: 8.1.10.9 met, citing the backup and the drill.
	period := time.Now().AddDate(0, 0, -1).Format("2006-01-02") + ".." + time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	out, stderr, code = atrest(t, "report", "--config", cfg, "--period", period, "--format", "json", "-o", "-")
	if code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	var rep struct {
		Controls []struct {
			ID       string `json:"id"`
			Verdict  string `json:"verdict"`
			Evidence []struct {
				Entry *struct{ Kind string } `json:"entry"`
			} `json:"evidence"`
		} `json:"controls"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Controls {
		if c.ID != "MLPS-8.1.10.9" {
			continue
		}
		cited := map[string]bool{}
		for _, ev := range c.Evidence {
			if ev.Entry != nil {
				cited[ev.Entry.Kind] = true
			}
		}
		if c.Verdict != "met" || !cited["backup.run"] || !cited["drill.run"] {
			t.Errorf("MLPS-8.1.10.9: %s, citing %v", c.Verdict, cited)
		}
	}

	// The bundle, and its check with the SM2 public key the installation
	// hands out.
	bundle := filepath.Join(dir, "evidence.zip")
	if _, stderr, code := atrest(t, "report", "--config", cfg, "--period", period, "--bundle", bundle); code != exitOK {
		t.Fatalf("report --bundle: exit %d: %s", code, stderr)
	}
	pub, stderr, code := atrest(t, "audit", "checkpoint", "--config", cfg, "--public-key")
	if code != exitOK || !strings.HasPrefix(pub, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("audit checkpoint --public-key: exit %d: %s%s", code, pub, stderr)
	}
	pubFile := filepath.Join(dir, "journal.pub.pem")
	os.WriteFile(pubFile, []byte(pub), 0o644)
	out, stderr, code = atrest(t, "audit", "verify", "--bundle", bundle, "--key", pubFile)
	if code != exitOK || !strings.Contains(out, ": OK") || !strings.Contains(out, "the key you gave") {
		t.Fatalf("audit verify --bundle --key: exit %d: %s%s", code, out, stderr)
	}
	out, stderr, code = atrest(t, "audit", "checkpoint", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "\n— ") {
		t.Errorf("audit checkpoint of an sm journal: exit %d: %s%s", code, out, stderr)
	}
}
