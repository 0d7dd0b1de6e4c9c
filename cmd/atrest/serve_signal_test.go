package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// TestServeSignals runs atrest serve as a real process: SIGHUP with a broken
// config keeps the running one and journals config.reload error; SIGHUP
// with a good one gives the dashboard its new names; SIGTERM stops it
// cleanly (exit 0) and journals serve.stop.
func TestServeSignals(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	good := "state_dir: " + dir + "/state\nfile_roots:\n  - name: r\n    paths: [" + dir + "]\n    scan_schedule: \"@every 1h\"\nhttp:\n  listen: 127.0.0.1:0\n"
	os.WriteFile(cfg, []byte(good), 0o644)
	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	const secPW, auditorPW = "the first security admin", "the auditor reads it all"
	atrestIn(t, secPW+"\n", "user", "add", "--config", cfg, "--role", "secadmin", "sec")
	if _, stderr, code := atrestIn(t, secPW+"\n"+auditorPW+"\n", "user", "add", "--config", cfg, "--as", "sec", "--role", "auditor", "li.wei"); code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	cmd := exec.Command(os.Args[0], "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "ATREST_TEST_AS_MAIN=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	jdir := filepath.Join(dir, "state", "journal")
	waitFor := func(kind, outcome string) journal.Entry {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			for e, err := range journal.Query(jdir, journal.Filter{Kind: kind, Outcome: outcome}) {
				if err == nil {
					return e
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no %s/%s entry in the journal; serve said:\n%s", kind, outcome, stderr.String())
		return journal.Entry{}
	}
	waitFor("serve.start", "ok")

	os.WriteFile(cfg, []byte(good+"bogus_key: 1\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	e := waitFor("config.reload", "error")
	if want := cfg + ":8: unknown key bogus_key"; !strings.Contains(e.Detail, want) {
		t.Errorf("config.reload detail %q, want it to name %q", e.Detail, want)
	}

	// The dashboard follows a reload that takes effect: a new root is
	// listed at once.
	addr := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`).FindStringSubmatch(stderr.String())
	if addr == nil {
		t.Fatalf("no listen address in serve's log:\n%s", stderr.String())
	}
	roots := func() string {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr[1]+"/api/findings", nil)
		req.SetBasicAuth("li.wei", auditorPW)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if r := roots(); strings.Contains(r, `"exports-2"`) || !strings.Contains(r, `"name": "r"`) {
		t.Fatalf("before the reload: %s", r)
	}
	os.WriteFile(cfg, []byte(strings.Replace(good, "http:", "  - name: exports-2\n    paths: ["+dir+"]\nhttp:", 1)), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("config.reload", "ok")
	if r := roots(); !strings.Contains(r, `"name": "exports-2"`) {
		t.Errorf("after the reload, the dashboard does not list the new root: %s", r)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("serve did not stop on SIGTERM:\n%s", stderr.String())
	}
	waitFor("serve.stop", "")
	os.WriteFile(cfg, []byte(good), 0o644)
	if out, errOut, code := atrest(t, "audit", "verify", "--config", cfg); code != 0 {
		t.Fatalf("journal does not verify after the run: exit %d\n%s%s", code, out, errOut)
	}
}
