package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/internal/testenv"
)

// Every command given --config forwards what it journaled to the log-audit
// appliance (a real rsyslog over TLS here), in journal order, with the
// structured data SPEC §7 fixes and no identifier value.
func TestCommandsForwardTheirEntriesToSyslog(t *testing.T) {
	r := testenv.StartRsyslog(t, "tls")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("state_dir: %s/state\njournal:\n  syslog: {address: %q, transport: tls, ca_file: %q}\n",
		dir, r.Addr, r.CAFile)), 0o644)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	os.WriteFile(filepath.Join(tree, "a.txt"), []byte("身份证 11010519491231002X 手机 13812345678\n"), 0o644)

	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	for i := 0; i < 2; i++ {
		if _, stderr, code := atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", tree); code != exitFound {
			t.Fatalf("scan: exit %d: %s", code, stderr)
		}
	}
	out, _, code := atrest(t, "audit", "log", "--config", cfg, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("audit log: exit %d", code)
	}
	entries := strings.Count(strings.TrimSpace(out), "\n") + 1

	var got []string
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < entries && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		got = r.Received()
	}
	if len(got) != entries {
		t.Fatalf("rsyslog received %d messages for %d journal entries:\n%s", len(got), entries, strings.Join(got, "\n"))
	}
	sd := regexp.MustCompile(`\[atrest@32473 seq="(\d+)" kind="([a-z.]+)" outcome="([a-z_]+)" hash="[0-9a-f]{64}"`)
	for i, m := range got {
		f := sd.FindStringSubmatch(m)
		if f == nil || f[1] != fmt.Sprint(i+1) {
			t.Fatalf("message %d out of order or without structured data: %q", i+1, m)
		}
		if strings.Contains(m, "11010519491231002X") || strings.Contains(m, "13812345678") {
			t.Fatalf("message %d carries a raw identifier: %q", i+1, m)
		}
	}
	if !strings.Contains(strings.Join(got, "\n"), `kind="scan.files" outcome="findings"`) {
		t.Errorf("no scan.files entry among %q", got)
	}
}

// serve forwards in the background: with the receiver down, the backlog
// shows in /metrics and nothing is lost; once it is back, the backlog drains
// in order.
func TestServeForwardsAndCountsBacklog(t *testing.T) {
	r := testenv.StartRsyslog(t, "tcp")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("state_dir: %s/state\nhttp: {listen: \"127.0.0.1:0\"}\njournal:\n  syslog: {address: %q, transport: tcp}\n",
		dir, r.Addr)), 0o644)
	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	r.Stop()
	s := startServe(t, cfg, &syncBuffer{})
	waitMetric := func(name string, want func(float64) bool) map[string]float64 {
		t.Helper()
		var m map[string]float64
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if m = s.metrics(t); want(m[name]) {
				return m
			}
		}
		t.Fatalf("%s never as wanted: %v", name, m)
		return nil
	}
	// init forwarded its own entries; serve.start waits for the receiver.
	m := waitMetric("atrest_syslog_errors_total", func(v float64) bool { return v > 0 })
	if m["atrest_syslog_backlog_entries"] < 1 {
		t.Errorf("backlog %v with the receiver down", m["atrest_syslog_backlog_entries"])
	}
	r.Restart(t)
	waitMetric("atrest_syslog_backlog_entries", func(v float64) bool { return v == 0 })
	total := int(s.metrics(t)["atrest_journal_entries_total"])
	got := r.Received()
	if len(got) != total {
		t.Fatalf("received %d messages for %d entries", len(got), total)
	}
	for i, msg := range got {
		if !strings.Contains(msg, fmt.Sprintf(`[atrest@32473 seq="%d"`, i+1)) {
			t.Fatalf("message %d: %q", i+1, msg)
		}
	}
}
