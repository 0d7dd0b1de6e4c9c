package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/internal/testenv"
)

// Issue 22: a corruption found by `backup check --read` stays in /metrics
// while serve's scheduled checks, which do not read, go on every second;
// its time series says when it was measured.
func TestServeKeepsAFailedReadVerdict(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	out, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-plain", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("backup run: exit %d: %s", code, stderr)
	}
	key := records(t, out)[0]["key"].(string)
	// Rot on the server: the object's bytes change under its manifest.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := s3store.New(ctx, e.srv.Config(e.vals.PlainBucket))
	if err != nil {
		t.Fatal(err)
	}
	junk := strings.Repeat("rot", 1000)
	if _, err := store.Put(ctx, key, strings.NewReader(junk), int64(len(junk)), backup.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := atrest(t, "backup", "check", "--config", e.cfg, "--job", "yb-plain", "--read", "--format", "jsonl"); code != exitFound {
		t.Fatalf("check --read of a rotten backup: exit %d: %s", code, stderr)
	}
	yaml, _ := os.ReadFile(e.cfg)
	serveYAML := strings.Replace(string(yaml), "  - name: yb-plain\n", "  - name: yb-plain\n    check_schedule: \"*/1 * * * * *\"\n", 1) +
		"http:\n  listen: 127.0.0.1:0\n"
	if err := os.WriteFile(e.cfg, []byte(serveYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startServe(t, e.cfg, &syncBuffer{})
	const integrity = `atrest_check_status{check="integrity",job="yb-plain"}`
	readAt := r.metrics(t)[`atrest_check_timestamp_seconds{check="integrity",job="yb-plain"}`]
	deadline := time.Now().Add(2 * time.Minute)
	scrapes := 0
	for {
		m := r.metrics(t)
		scrapes++
		if v, ok := m[integrity]; !ok || v != 0 {
			t.Fatalf("scrape %d: %s = %v (present %v): the read's verdict was lost", scrapes, integrity, v, ok)
		}
		if m[`atrest_check_timestamp_seconds{check="integrity",job="yb-plain"}`] != readAt || readAt == 0 {
			t.Fatalf("integrity's time moved: %v, was %v", m[`atrest_check_timestamp_seconds{check="integrity",job="yb-plain"}`], readAt)
		}
		if m[`atrest_runs_total{kind="backup.check",outcome="fail"}`] >= 4 { // the read and three plain checks
			if m[`atrest_check_timestamp_seconds{check="object",job="yb-plain"}`] <= readAt {
				t.Errorf("plain checks did not update their own series: %v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve's checks did not run: %v", m)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("integrity stayed 0 over %d scrapes", scrapes)
}
