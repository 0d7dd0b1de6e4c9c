package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/testenv"
)

// The CLI end to end: a backup made with `backup run`, drilled onto another
// server by drill name and by job name; the record on stdout, the journal
// entry with its figures; exit 1 for a failed drill, 2 for one that cannot
// run; the source server refused unless allowed.
func TestDrillRun(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	if _, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly"); code != exitOK {
		t.Fatalf("backup run: exit %d: %s", code, stderr)
	}
	target := testenv.EncryptedMariaDB(t)
	t.Setenv("ATREST_T_DRILL_DSN", target.DSN)

	for _, job := range []string{"yb-drill", "yb-nightly"} {
		out, stderr, code := atrest(t, "drill", "run", "--config", e.cfg, "--job", job, "--format", "jsonl")
		if code != exitOK {
			t.Fatalf("drill run %s: exit %d: %s%s", job, code, stderr, out)
		}
		recs := records(t, out)
		if len(recs) != 1 {
			t.Fatalf("%d records: %s", len(recs), out)
		}
		r := recs[0]
		tables, _ := r["tables"].([]any)
		if r["record"] != "drill" || r["job"] != "yb-nightly" || r["drill"] != "yb-drill" || r["status"] != "pass" ||
			r["rto_seconds"].(float64) <= 0 || r["rpo_seconds"].(float64) <= 0 || len(tables) != 1 ||
			!strings.HasPrefix(r["backup"].(string), "yb/yb-nightly/") {
			t.Errorf("record %v", r)
		}
		if tb := tables[0].(map[string]any); tb["name"] != "cb_ryxx" || tb["rows"] != float64(1234) || tb["digest_match"] != true {
			t.Errorf("table %v", tb)
		}
		if strings.Contains(out, "王五") {
			t.Error("the record carries row values")
		}
	}
	// The journal names the backup made and restored (the report's and
	// the dashboard's per-backup coverage reads these items).
	made := e.entries(t, "backup.run")[0].Backups(journal.BackupMade)
	restored := e.entries(t, "drill.run")[0].Backups(journal.BackupRestored)
	if len(made) != 1 || !strings.HasPrefix(made[0], "yb/yb-nightly/") || len(restored) != 1 || restored[0] != made[0] {
		t.Errorf("backup items: made %v, restored %v", made, restored)
	}
	out, _, _ := atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-drill", "--format", "table")
	t.Logf("table:\n%s", out)
	if !strings.Contains(out, "RTO_SECONDS") || !strings.Contains(out, "pass") {
		t.Errorf("table output:\n%s", out)
	}

	// A key the backup was not encrypted to: the drill fails, exit 1.
	other, _ := age.GenerateX25519Identity()
	wrong := filepath.Join(e.dir, "keys/other.agekey")
	os.WriteFile(wrong, []byte(other.String()+"\n"), 0o600)
	out, stderr, code := atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-drill", "--identity", wrong, "--format", "jsonl")
	t.Logf("%s", stderr)
	if code != exitFound || !strings.Contains(stderr, "drill yb-drill failed (key)") || strings.Contains(stderr+out, other.String()) {
		t.Errorf("wrong identity: exit %d, stderr %q", code, stderr)
	}
	if recs := records(t, out); len(recs) != 1 || recs[0]["status"] != "fail" || recs[0]["failure"] != "key" {
		t.Errorf("wrong identity record: %s", out)
	}
	// No such backup: exit 1, no_backup.
	_, stderr, code = atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-drill", "--backup", "yb/nosuch.sql.zst.age")
	if code != exitFound || !strings.Contains(stderr, "(no_backup)") {
		t.Errorf("missing backup: exit %d, %q", code, stderr)
	}

	// The drill server is the source: refused, exit 2, nothing created;
	// allowed, it passes.
	t.Setenv("ATREST_T_DRILL_DSN", e.db.DSN)
	_, stderr, code = atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-drill")
	t.Logf("%s", stderr)
	if code != exitCantRun || !strings.Contains(stderr, "drill run yb-drill: refusing to restore onto") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("source as target: exit %d, %q", code, stderr)
	}
	if _, stderr, code = atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-drill", "--allow-source-server"); code != exitOK {
		t.Errorf("allowed source server: exit %d, %q", code, stderr)
	}

	for _, c := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"unknown job", []string{"--job", "yb-weekly"}, e.db.DSN, `--job "yb-weekly" is neither a drills[] entry nor a backups[] job`},
		{"no target", []string{"--job", "yb-plain"}, e.db.DSN, "backup job yb-plain has no drills[] entry; give --target-dsn-env"},
		{"target env unset", []string{"--job", "yb-drill"}, "", "environment variable ATREST_T_DRILL_DSN is not set"},
		{"target down", []string{"--job", "yb-drill"}, "root:Pw0rdSecret@tcp(127.0.0.1:1)/", "target: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("ATREST_T_DRILL_DSN", c.env)
			out, stderr, code := atrest(t, append([]string{"drill", "run", "--config", e.cfg}, c.args...)...)
			t.Logf("%s", stderr)
			if code != exitCantRun || !strings.Contains(stderr, c.want) || out != "" || strings.Contains(stderr, "Pw0rdSecret") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, stderr, c.want)
			}
		})
	}

	// The journal: every run, with figures and the failure class.
	out, stderr, code = atrest(t, "audit", "log", "--config", e.cfg, "--kind", "drill.run", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("audit log: %d %s", code, stderr)
	}
	outcomes := map[string]int{}
	for _, r := range records(t, out) {
		outcomes[r["outcome"].(string)]++
		figs, _ := r["figures"].(map[string]any)
		switch r["outcome"] {
		case "ok":
			if figs["rto_seconds"] == nil || figs["rows"] != float64(1234) || figs["tables_matched"] != float64(1) ||
				figs["bytes"].(float64) <= 0 || !strings.HasPrefix(r["detail"].(string), "backup yb/yb-nightly/") {
				t.Errorf("ok entry %v", r)
			}
		case "fail":
			if f, _ := figs["failure"].(map[string]any); len(f) != 1 || figs["rto_seconds"] != nil {
				t.Errorf("fail entry %v", r)
			}
		}
	}
	if outcomes["ok"] != 4 || outcomes["fail"] != 2 || outcomes["error"] != 5 {
		t.Errorf("journal outcomes %v, want 4 ok, 2 fail, 5 error", outcomes)
	}
}
