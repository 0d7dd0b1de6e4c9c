package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/testenv"
)

// backup check, over every job, checks the journal anchor's bucket against
// journal.retention too: on versitygw the object lock holds the copies for
// longer than the retention, and the lifecycle check says unsupported
// (501), in the output, the journal (anchor.check) and the period report.
func TestBackupCheckChecksTheAnchorBucket(t *testing.T) {
	srv := testenv.S3(t)
	bucket := srv.Bucket(t, "anchor", true)
	store, err := s3store.New(context.Background(), srv.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetDefaultRetention(context.Background(), backup.Governance, 200); err != nil {
		t.Fatal(err)
	}
	jobs := srv.Bucket(t, "jobs", true)
	id, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	t.Setenv("ANCHOR_AK", srv.AccessKey)
	t.Setenv("ANCHOR_SK", srv.SecretKey)
	cfgPath := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`state_dir: %s/state
journal:
  retention: 180d
  anchor: {storage: s3, bucket: %s, prefix: journal/}
storage:
  - {name: s3, endpoint: "%s", access_key_env: ANCHOR_AK, secret_key_env: ANCHOR_SK}
sources:
  - {name: yb-prod, dsn_env: ATREST_TEST_NO_DSN}
backups:
  - {name: yb-nightly, source: yb-prod, storage: s3, bucket: %s, prefix: yb/, recipients: [%s], rpo: 26h, retention: 30d}
`, dir, bucket, srv.Endpoint, jobs, id.Recipient())), 0o644)
	if _, stderr, code := atrest(t, "init", "--config", cfgPath); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	out, stderr, code := atrest(t, "backup", "check", "--config", cfgPath, "--format", "jsonl")
	if code == exitCantRun {
		t.Fatalf("backup check: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`{"record":"check","job":"journal-anchor","check":"versioning","status":"pass"`,
		`"job":"journal-anchor","check":"object_lock","status":"pass","detail":"object lock with default retention GOVERNANCE 200d ≥ journal.retention 180d"`,
		`"job":"journal-anchor","check":"lifecycle","status":"unsupported"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("backup check output lacks %s\n%s", want, out)
		}
	}
	cfg, _ := config.Load(cfgPath)
	checks := journalEntries(t, cfg, "anchor.check")
	if len(checks) != 1 || !strings.HasPrefix(checks[0].Subject, bucket+"/journal/") {
		t.Fatalf("anchor.check entries: %+v", checks)
	}
	if u, _ := checks[0].Figures["checks_unsupported"].(map[string]any); u["lifecycle"] == nil {
		t.Errorf("anchor.check figures: %v", checks[0].Figures)
	}
	out, stderr, code = atrest(t, "report", "--config", cfgPath, "--period", "2020-01-01..2099-12-31", "--format", "json", "-o", "-")
	if code != exitOK || !strings.Contains(out, "does not implement lifecycle configuration") {
		t.Errorf("report: exit %d %s\n%.2000s", code, stderr, out)
	}
}
