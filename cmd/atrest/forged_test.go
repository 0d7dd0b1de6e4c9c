package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/internal/jobs"
	"github.com/atrest/atrest/internal/testenv"
)

// secondInstallation is another atrest with its own keys (atrest init) and
// the same bucket, job names and recipients as e: what a forger with write
// access to the bucket, or a second host set up by mistake, looks like.
func secondInstallation(t *testing.T, e *backupEnv) string {
	t.Helper()
	dir := t.TempDir()
	other := &backupEnv{dir: dir, cfg: filepath.Join(dir, "atrest.yaml")}
	other.write(t, e.vals)
	if _, stderr, code := atrest(t, "init", "--config", other.cfg); code != 0 {
		t.Fatalf("init of the second installation: %s", stderr)
	}
	return other.cfg
}

// TestForgedBackupIsNotTrusted is issue 16.1 against versitygw, at the level
// a user sees: a second installation (its own keys, the same bucket, job and
// recipients) backs up into the job's prefix. The first installation's
// check --read fails and every record about that backup fails and says "not
// trusted"; the drill refuses it before reading a byte (failure integrity)
// and, choosing the latest, drills the installation's own backup instead;
// /metrics does not show the integrity check as passed.
func TestForgedBackupIsNotTrusted(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	out, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("backup run: exit %d: %s", code, stderr)
	}
	own := records(t, out)[0]["key"].(string)
	other := secondInstallation(t, e)
	out, stderr, code = atrest(t, "backup", "run", "--config", other, "--job", "yb-nightly", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("backup run of the second installation: exit %d: %s", code, stderr)
	}
	forged := records(t, out)[0]["key"].(string)
	if forged == own {
		t.Fatalf("both installations wrote %s", own)
	}

	out, stderr, code = atrest(t, "backup", "check", "--config", e.cfg, "--job", "yb-nightly", "--read", "--format", "jsonl")
	if code != exitFound {
		t.Errorf("check: exit %d, want 1: %s", code, stderr)
	}
	seen := map[string]bool{}
	for _, r := range records(t, out) {
		detail, _ := r["detail"].(string)
		t.Logf("%v %v %v %s", r["check"], r["status"], r["key"], detail)
		if strings.Contains(detail, "manifest manifest") {
			t.Errorf("stutter: %s", detail)
		}
		key, _ := r["key"].(string)
		if key != forged && key != backup.ManifestKey(forged) {
			continue
		}
		if r["status"] != "fail" {
			t.Errorf("%v about the forged backup: %v (%s)", r["check"], r["status"], detail)
		}
		if strings.Contains(detail, "not trusted") || strings.Contains(detail, "signed by another key") {
			seen[r["check"].(string)] = true
		}
	}
	for _, c := range []string{"manifest", "object", "integrity"} {
		if !seen[c] {
			t.Errorf("no %s record says the forged backup is not trusted", c)
		}
	}

	// The check journaled the forged backup, once, as found and untrusted.
	var untrusted int
	for en, err := range journal.Query(filepath.Join(e.dir, "state", "journal"), journal.Filter{Kind: jobs.KindBackupFound}) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(en.Detail, forged+jobs.FoundSep) || en.Outcome != "untrusted" || !strings.Contains(en.Detail, "not trusted") {
			t.Errorf("found entry %+v", en)
		}
		untrusted++
	}
	if untrusted != 1 {
		t.Errorf("%d backup.found entries for the forged backup, want 1", untrusted)
	}

	// The drill: named, it is refused before a byte is read; chosen as
	// the latest, the installation's own backup is drilled instead.
	t.Setenv("ATREST_T_DRILL_DSN", testenv.EncryptedMariaDB(t).DSN)
	out, stderr, code = atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-drill", "--backup", forged, "--format", "jsonl")
	if recs := records(t, out); code != exitFound || len(recs) != 1 || recs[0]["status"] != "fail" ||
		recs[0]["failure"] != "integrity" || !strings.Contains(recs[0]["detail"].(string), "not trusted") || recs[0]["bytes"] != float64(0) {
		t.Errorf("drill of the forged backup: exit %d, %s %s", code, out, stderr)
	}
	out, stderr, code = atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-drill", "--format", "jsonl")
	if recs := records(t, out); code != exitOK || len(recs) != 1 || recs[0]["backup"] != own ||
		!strings.Contains(out, "skipped "+forged+": not trusted") {
		t.Errorf("drill of the latest: exit %d, %s %s", code, out, stderr)
	}

	// /metrics, rebuilt from the journal by serve, does not call the
	// integrity check passed.
	e.vals.Listen = "127.0.0.1:0"
	e.write(t, e.vals)
	r := startServe(t, e.cfg, os.Stderr)
	m := r.metrics(t)
	if v, ok := m[`atrest_check_status{check="integrity",job="yb-nightly"}`]; !ok || v == 1 {
		t.Errorf(`atrest_check_status{check="integrity"}: %v (present %v), want 0`, v, ok)
	}
	if v := m[`atrest_check_status{check="object",job="yb-nightly"}`]; v == 1 {
		t.Errorf(`atrest_check_status{check="object"} is 1`)
	}
}
