package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/internal/jobs"
	"github.com/atrest/atrest/internal/testenv"
)

// TestFullStateDisk is issue 16.6 on a real full filesystem (a tmpfs as the
// state dir). Full before the run: backup run refuses before it uploads a
// byte, exit 2, one line. Full by the time the run ends (the disk fills
// while the manifest uploads): the backup is stored, its start journaled,
// its end cannot be: exit 2 and a fail record naming the key and saying so;
// the error never says "journal: journal:". With space back, backup check
// journals the backup as found (not as an ok run), counts it, and the
// journal verifies.
func TestFullStateDisk(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	state := filepath.Join(e.dir, "state")
	smallDisk(t, state, "8m")

	filler := fill(t, state)
	out, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl")
	line := strings.TrimSpace(stderr)
	t.Logf("full before: exit %d: %s", code, line)
	if code != exitCantRun || strings.Contains(line, "\n") || !strings.Contains(line, "KiB free") ||
		!strings.Contains(line, "nothing was backed up") || strings.Contains(line, "journal: journal:") {
		t.Errorf("full before: exit %d, stderr %q", code, stderr)
	}
	if recs := records(t, out); len(recs) != 1 || recs[0]["status"] != "fail" {
		t.Errorf("full before: record %s", out)
	}
	if objs := e.objects(t); len(objs) != 0 {
		t.Errorf("full before: the run uploaded %v", objs)
	}
	os.Remove(filler)

	// The disk fills while the manifest goes up: after the start entry,
	// before the end. Whether the end entry still fits in the page the
	// segment already has is up to tmpfs: either it is journaled and the
	// record says ok, or it is not and the record says fail; never a
	// mixture.
	p := storetest.NewProxy(t, e.srv.Endpoint)
	v := e.vals
	v.Endpoint = p.Endpoint
	e.write(t, v)
	p.Add(&storetest.Rule{Match: isManifestPut, OnRequest: func(*http.Request) bool { filler = fill(t, state); return true }, Times: 1})
	key := e.runUnrecordable(t, "full after")
	os.Remove(filler)

	// The state filesystem goes read-only while the manifest goes up: the
	// end cannot be journaled at all.
	p.Add(&storetest.Rule{Match: isManifestPut, Times: 1, OnRequest: func(*http.Request) bool {
		if out, err := exec.Command("mount", "-o", "remount,ro", state).CombinedOutput(); err != nil {
			t.Errorf("remount ro: %v %s", err, out)
		}
		return true
	}})
	roKey := e.runUnrecordable(t, "read-only after")
	if out, err := exec.Command("mount", "-o", "remount,rw", state).CombinedOutput(); err != nil {
		t.Fatalf("remount rw: %v %s", err, out)
	}
	if roKey == "" {
		t.Fatal("the run on a read-only state dir was recorded as made")
	}

	// Space is back: the next check journals what the journal lacks as
	// found (not as an ok run), counts it, and only once.
	e.write(t, e.vals)
	out, stderr, code = atrest(t, "backup", "check", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl")
	if st := checkStatuses(records(t, out), "yb-nightly"); st["freshness"] != "pass" || st["manifest"] != "pass" {
		t.Errorf("check after: exit %d %v %s", code, st, stderr)
	}
	want := []string{roKey}
	if key != "" {
		want = append(want, key)
	}
	found := e.entries(t, jobs.KindBackupFound)
	for _, k := range want {
		n := 0
		for _, f := range found {
			if strings.HasPrefix(f.Detail, k+jobs.FoundSep) && f.Outcome == "found" &&
				strings.Contains(f.Detail, "never journaled its end") && strings.Contains(f.Detail, "verifies") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d found entries, want 1: %+v", k, n, found)
		}
	}
	atrest(t, "backup", "check", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl")
	if n := len(e.entries(t, jobs.KindBackupFound)); n != len(want) {
		t.Errorf("%d found entries after a second check, want %d", n, len(want))
	}
	okRuns := map[string]bool{}
	for _, en := range e.entries(t, "backup.run") {
		if en.Outcome == "ok" {
			okRuns[en.Detail] = true
		}
	}
	for _, k := range want {
		if okRuns[k] {
			t.Errorf("%s is journaled as an ok run", k)
		}
	}
	e.verifyJournal(t)
}

func isManifestPut(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".manifest.json")
}

// runUnrecordable runs a backup whose end may not be journaled, and checks
// that what it prints and what the journal says agree. It returns the key
// if the end was not journaled, "" if it was.
func (e *backupEnv) runUnrecordable(t *testing.T, what string) string {
	t.Helper()
	// A process of its own: a start entry whose process is alive is a run
	// still finishing, which reconcile leaves alone.
	out, stderr, code := atrestRun(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl")
	line := strings.TrimSpace(stderr)
	t.Logf("%s: exit %d: %s", what, code, line)
	recs := records(t, out)
	if len(recs) != 1 || strings.Contains(line, "\n") || strings.Contains(line, "journal: journal:") {
		t.Fatalf("%s: exit %d, stderr %q, out %s", what, code, stderr, out)
	}
	key, _ := recs[0]["key"].(string)
	if !slices.Contains(e.complete(t), key) {
		t.Fatalf("%s: the bucket lacks the run's %s", what, key)
	}
	journaled := e.journaledOK(t)[key]
	switch {
	case recs[0]["status"] == "ok" && journaled:
		return ""
	case recs[0]["status"] == "fail" && !journaled && code == exitCantRun && strings.Contains(line, "backup stored at "+key):
		return key
	}
	t.Fatalf("%s: record %s (exit %d) and journal (ok entry %v) disagree: %s", what, recs[0]["status"], code, journaled, line)
	return ""
}

// TestJournalCheckpointOnFullDevice: the journal's checkpoint file is
// /dev/full, so its write fails with ENOSPC from the kernel as on a full
// disk, without root. The run stops before the upload, in one line whose
// journal error is prefixed once (the issue's "journal: journal:
// checkpoint").
func TestJournalCheckpointOnFullDevice(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	jdir := filepath.Join(e.dir, "state", "journal")
	os.MkdirAll(jdir, 0o750)
	os.Remove(filepath.Join(jdir, "checkpoints.jsonl"))
	if err := os.Symlink("/dev/full", filepath.Join(jdir, "checkpoints.jsonl")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl")
	line := strings.TrimSpace(stderr)
	t.Logf("exit %d: %s", code, line)
	if code != exitCantRun || strings.Contains(line, "\n") || strings.Count(line, "journal:") != 1 ||
		!strings.Contains(line, "journal: checkpoint: write") || !strings.Contains(line, "no space left on device") ||
		!strings.Contains(line, "nothing was backed up") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if objs := e.objects(t); len(objs) != 0 {
		t.Errorf("the run uploaded %v", objs)
	}
}
