package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
