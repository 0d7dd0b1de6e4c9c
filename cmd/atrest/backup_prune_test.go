package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
	"github.com/atrest/atrest/internal/testenv"
)

// Issue 22: `backup prune` on versitygw removes exactly the expired
// backups, journals each deletion, and keeps the newest complete ones, the
// one the last passing drill restored, and what the bucket's object lock
// still holds (saying until when).
func TestBackupPruneOnVersityGW(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	// Seconds, not days: the test cannot wait a month. yb-plain's
	// keep_last 2 keeps the two made after the pause whatever the
	// machine's speed; yb-nightly (object lock, 30 days) keeps only its
	// newest by keep_last, the other by the lock.
	yaml, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	short := strings.Replace(string(yaml), "    retention: 30d\n", "    retention: 6s\n    keep_last: 1\n", 1) // yb-nightly
	short = strings.Replace(short, "    retention: 30d\n", "    retention: 6s\n    keep_last: 2\n", 1)         // yb-plain
	if strings.Count(short, "retention: 6s") != 2 {
		t.Fatalf("config template changed:\n%s", yaml)
	}
	if err := os.WriteFile(e.cfg, []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	backupOf := func(job string) string {
		t.Helper()
		time.Sleep(1100 * time.Millisecond) // keys carry the second: one backup per second
		out, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", job, "--format", "jsonl")
		if code != exitOK {
			t.Fatalf("backup run %s: exit %d: %s", job, code, stderr)
		}
		return records(t, out)[0]["key"].(string)
	}
	a, b, c := backupOf("yb-plain"), backupOf("yb-plain"), backupOf("yb-plain")
	x, y := backupOf("yb-nightly"), backupOf("yb-nightly")
	// A passing drill restored b: the journal says so, in drill run's words.
	cfg, err := config.Load(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := record(cfg, jobs.DrillEntry("yb-plain", &drill.Record{Job: "yb-plain", Backup: b, Status: drill.StatusPass, RTOSeconds: 3}, nil)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(7 * time.Second) // a, b, c, x, y expire
	d, f := backupOf("yb-plain"), backupOf("yb-plain")

	// A dry run lists and deletes nothing.
	out, stderr, code := atrest(t, "backup", "prune", "--config", e.cfg, "--dry-run", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("prune --dry-run: exit %d: %s", code, stderr)
	}
	actions := func(out string) map[string]string {
		m := map[string]string{}
		for _, r := range records(t, out) {
			if r["record"] == "prune" {
				m[r["key"].(string)] = r["action"].(string) + ": " + r["reason"].(string)
			}
		}
		return m
	}
	dry := actions(out)
	if !strings.HasPrefix(dry[a], "would delete") || !strings.HasPrefix(dry[c], "would delete") {
		t.Errorf("dry run: %v", dry)
	}
	plainKeys := listKeys(t, e, e.vals.PlainBucket)
	if len(plainKeys) != 10 {
		t.Fatalf("after a dry run: %d objects: %v", len(plainKeys), plainKeys)
	}

	out, stderr, code = atrest(t, "backup", "prune", "--config", e.cfg, "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("prune: exit %d: %s", code, stderr)
	}
	t.Logf("%s", out)
	got := actions(out)
	for key, want := range map[string]string{
		a: "deleted", c: "deleted",
		b: "kept: restored by the newest passing drill",
		x: "kept: under object lock until", y: "kept: the newest complete backup",
	} {
		if !strings.HasPrefix(got[key], want) {
			t.Errorf("%s: %q, want %q", key, got[key], want)
		}
	}
	if _, listed := got[d]; listed || len(got) != 5 {
		t.Errorf("prune records: %v", got)
	}
	for _, r := range records(t, out) {
		if r["key"] == x && r["deletable_at"] == nil {
			t.Errorf("a locked backup without deletable_at: %v", r)
		}
	}
	wantLeft := []string{b, backup.ManifestKey(b), d, backup.ManifestKey(d), f, backup.ManifestKey(f)}
	slices.Sort(wantLeft)
	if left := listKeys(t, e, e.vals.PlainBucket); !slices.Equal(left, wantLeft) {
		t.Errorf("left in the bucket:\n%v\nwant\n%v", left, wantLeft)
	}
	if left := listKeys(t, e, e.vals.Bucket); len(left) != 4 {
		t.Errorf("locked bucket: %v", left)
	}

	// Each deletion is journaled, with the key; then each job's prune.
	out, _, _ = atrest(t, "audit", "log", "--config", e.cfg, "--kind", "backup.prune", "--format", "jsonl")
	var deleted []string
	summaries := 0
	for _, r := range records(t, out) {
		switch r["outcome"] {
		case "deleted":
			deleted = append(deleted, strings.Fields(r["detail"].(string))[1])
		case "ok":
			summaries++
		}
	}
	if want := []string{a + ":", c + ":"}; !slices.Equal(deleted, want) {
		t.Errorf("journaled deletions %v, want %v", deleted, want)
	}
	if summaries != 4 { // two jobs, a dry run and a run
		t.Errorf("%d backup.prune summaries, want 4", summaries)
	}
	// The backups left still check out, and still restore.
	if _, stderr, code := atrest(t, "backup", "check", "--config", e.cfg, "--job", "yb-plain", "--format", "jsonl"); code == exitCantRun {
		t.Errorf("check after prune: %s", stderr)
	}
}

func listKeys(t *testing.T, e *backupEnv, bucket string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := s3store.New(ctx, e.srv.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for oi, err := range store.List(ctx, "yb/") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, oi.Key)
	}
	slices.Sort(keys)
	return keys
}

func TestBackupPruneErrors(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	if _, stderr, code := atrest(t, "backup", "prune", "--config", e.cfg, "--job", "nope"); code != exitCantRun || !strings.Contains(stderr, `--job "nope" is not a backups[] entry`) {
		t.Errorf("unknown job: exit %d, %q", code, stderr)
	}
	t.Setenv("ATREST_T_S3_SECRET", "Wr0ngS3cretValue")
	_, stderr, code := atrest(t, "backup", "prune", "--config", e.cfg, "--job", "yb-plain")
	if code != exitCantRun || !strings.Contains(stderr, "access denied") || strings.Contains(stderr, "Wr0ngS3cretValue") ||
		strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("wrong credentials: exit %d, %q", code, stderr)
	}
}
