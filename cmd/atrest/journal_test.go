package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/testenv"
)

// TestJournalTailCutCaughtAgainstS3Anchor: someone with root on the host
// rolls the whole journal directory back to an earlier, self-consistent state
// (entries and local checkpoints cut together). Only the checkpoint copies in
// the anchor bucket (real versitygw, object lock) can show it.
func TestJournalTailCutCaughtAgainstS3Anchor(t *testing.T) {
	s3 := testenv.S3(t)
	bucket := s3.Bucket(t, "anchor", true)
	dir := t.TempDir()
	t.Setenv("ANCHOR_AK", s3.AccessKey)
	t.Setenv("ANCHOR_SK", s3.SecretKey)
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: %s/state
journal:
  anchor: {storage: s3, bucket: %s, prefix: journal/}
storage:
  - {name: s3, endpoint: "%s", access_key_env: ANCHOR_AK, secret_key_env: ANCHOR_SK}
`, dir, bucket, s3.Endpoint)), 0o644)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	os.WriteFile(filepath.Join(tree, "a.txt"), []byte("手机 13812345678\n"), 0o644)

	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", tree)
	journalDir := filepath.Join(dir, "state", "journal")
	saved := filepath.Join(dir, "saved")
	if out, err := exec.Command("cp", "-a", journalDir, saved).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", tree)

	out, stderr, code := atrest(t, "audit", "verify", "--config", cfg)
	if code != 0 || !strings.Contains(out, "anchored:") {
		t.Fatalf("verify before the cut: exit %d\n%s%s", code, out, stderr)
	}

	os.RemoveAll(journalDir)
	if out, err := exec.Command("cp", "-a", saved, journalDir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	out, stderr, code = atrest(t, "audit", "verify", "--config", cfg)
	t.Logf("verify after the cut: exit %d: %s%s", code, out, stderr)
	if code != exitFound || !strings.Contains(out+stderr, "tail cut") {
		t.Fatalf("verify after the cut: exit %d, want 1 with \"tail cut\"\n%s%s", code, out, stderr)
	}
}

// A crash tears the last line: verify reports it (exit 1), recover keeps the
// fragment and journals why, and verify passes again.
func TestTornJournalReportedThenRecovered(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte("state_dir: "+dir+"/state\n"), 0o644)
	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "state", "journal", "segment-*.jsonl"))
	f, _ := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":4,"time":"2026-11-`)
	f.Close()

	out, stderr, code := atrest(t, "audit", "verify", "--config", cfg)
	if code != exitFound || !strings.Contains(out+stderr, "torn last line") {
		t.Fatalf("verify of a torn journal: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := atrest(t, "audit", "recover", "--config", cfg); code != exitCantRun || !strings.Contains(stderr, "--reason") {
		t.Fatalf("recover without a reason: exit %d %s", code, stderr)
	}
	out, stderr, code = atrest(t, "audit", "recover", "--config", cfg, "--reason", "test crash")
	if code != 0 || !strings.Contains(out, "test crash") {
		t.Fatalf("recover: exit %d\n%s%s", code, out, stderr)
	}
	if out, stderr, code := atrest(t, "audit", "verify", "--config", cfg); code != 0 {
		t.Fatalf("verify after recover: exit %d\n%s%s", code, out, stderr)
	}
	if torn, _ := filepath.Glob(filepath.Join(dir, "state", "journal", "torn", "*.partial")); len(torn) != 1 {
		t.Fatalf("fragment not kept: %v", torn)
	}
}

// An officer keeps a checkpoint off the server. Someone with root and the
// signing key then replaces the whole history (a new journal, re-signed with
// the real key, verifying on its own): only the kept checkpoint shows it.
func TestVerifyFromKeptCheckpointCatchesRewrite(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("state_dir: %s/state\n", dir)), 0o644)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	os.WriteFile(filepath.Join(tree, "a.txt"), []byte("手机 13812345678\n"), 0o644)
	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", tree)
	note, stderr, code := atrest(t, "audit", "checkpoint", "--config", cfg)
	if code != 0 || !strings.Contains(note, "\n\n— atrest.journal/") {
		t.Fatalf("checkpoint: exit %d: %q %s", code, note, stderr)
	}
	kept := filepath.Join(t.TempDir(), "cp-2026-12.txt")
	os.WriteFile(kept, []byte(note), 0o600)
	atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", tree)

	out, stderr, code := atrest(t, "audit", "verify", "--config", cfg, "--from", kept)
	if code != 0 || !strings.Contains(out, "cp-2026-12.txt") || !strings.Contains(out, "extended: nothing before it was rewritten") {
		t.Fatalf("verify --from on the real history: exit %d\n%s%s", code, out, stderr)
	}

	// The rewrite: a new history from scratch, signed with the real key.
	os.RemoveAll(filepath.Join(dir, "state", "journal"))
	os.WriteFile(filepath.Join(tree, "a.txt"), []byte("nothing here\n"), 0o644)
	for i := 0; i < 8; i++ {
		atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", tree)
	}
	if out, stderr, code := atrest(t, "audit", "verify", "--config", cfg); code != 0 {
		t.Fatalf("the rewritten journal should verify on its own: exit %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = atrest(t, "audit", "verify", "--config", cfg, "--from", kept)
	if code != exitFound || !strings.Contains(out, "does not extend the checkpoint kept in cp-2026-12.txt") ||
		!strings.Contains(out, "were rewritten") || !strings.Contains(out, "NOT extended") {
		t.Fatalf("verify --from after the rewrite: exit %d, want 1\n%s%s", code, out, stderr)
	}
	if _, stderr, code := atrest(t, "audit", "verify", "--config", cfg, "--from", filepath.Join(dir, "missing.txt")); code != exitCantRun || !strings.Contains(stderr, "missing.txt") {
		t.Fatalf("missing kept file: exit %d %s", code, stderr)
	}
}

// An officer in a new shell without the storage keys still verifies what
// the journal holds, and is told the anchor was not checked.
func TestVerifyWithoutAnchorCredentials(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: %s/state
journal:
  anchor: {storage: s3, bucket: b}
storage:
  - {name: s3, endpoint: "127.0.0.1:1", access_key_env: ATREST_TEST_UNSET_AK, secret_key_env: ATREST_TEST_UNSET_SK}
`, dir)), 0o644)
	os.MkdirAll(filepath.Join(dir, "state", "journal"), 0o700)
	os.Unsetenv("ATREST_TEST_UNSET_AK")
	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Logf("init without the anchor's keys: exit %d %s", code, stderr)
	}
	out, stderr, code := atrest(t, "audit", "verify", "--config", cfg)
	if code != 0 || !strings.Contains(out, "anchor:       NOT CHECKED") || !strings.Contains(out, "ATREST_TEST_UNSET_AK") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	// Commands and reports still journal and run; they say the anchor was
	// not reached.
	tree := t.TempDir()
	os.WriteFile(filepath.Join(tree, "a.txt"), []byte("手机 13812345678\n"), 0o644)
	if _, stderr, code := atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", tree); code != exitFound {
		t.Fatalf("scan without the anchor's keys: exit %d: %s", code, stderr)
	}
	day := time.Now().Format("2006-01-02")
	if out, stderr, code := atrest(t, "report", "--config", cfg, "--period", day+".."+day, "--format", "json", "-o", "-"); code != 0 || !strings.Contains(out, "MLPS-8.1.4.3") {
		t.Fatalf("report without the anchor's keys: exit %d: %s", code, stderr)
	}
}

// The journal names which files hold plaintext (masked paths), not only
// how many identifiers of each type.
func TestScanEntryNamesFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("state_dir: %s/state\n", dir)), 0o644)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	os.WriteFile(filepath.Join(tree, "名单_11010519491231002X.csv"), []byte("手机 13812345678\n"), 0o644)
	os.WriteFile(filepath.Join(tree, "clean.txt"), []byte("nothing\n"), 0o644)
	atrest(t, "init", "--config", cfg)
	atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", tree)
	out, _, _ := atrest(t, "audit", "log", "--config", cfg, "--kind", "scan.files", "--format", "jsonl")
	var e journal.Entry
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &e); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(e.Items) != 1 || e.Items[0].Kind != "file" || e.Items[0].Counts["cn_mobile"] != 1 ||
		!strings.Contains(e.Items[0].Name, "名单_110***********002X.csv") || e.Figures["items_total"] != float64(1) ||
		e.Figures["by_hand"] != true {
		t.Fatalf("items %+v figures %v", e.Items, e.Figures)
	}
	if strings.Contains(out, "11010519491231002X") {
		t.Fatal("a raw identifier in the journal")
	}
}
