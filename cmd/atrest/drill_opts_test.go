package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/atrest/atrest/internal/output"
	"github.com/atrest/atrest/internal/testenv"
)

// junitCounts is what a CI reads of --format junit: the document's
// cases by status, and each case's status (and message) by suite/name.
type junitCounts map[string]int

func parseJUnit(t *testing.T, out string) (junitCounts, map[string]string) {
	t.Helper()
	cs, err := output.ParseJUnit([]byte(out))
	if err != nil {
		t.Fatalf("not JUnit XML: %v\n%s", err, out)
	}
	n := junitCounts{"tests": len(cs)}
	cases := map[string]string{}
	for _, c := range cs {
		n[c.Status]++
		st := c.Status
		if st == output.CaseFail || st == output.CaseError {
			st += ": " + c.Message
		}
		cases[c.Suite+"/"+c.Name] = st
	}
	return n, cases
}

// Issue 21 through the CLI on MariaDB and versitygw: targets met and
// missed (exit 1, outcome ok, figures), a canary that passes and then,
// after the row changed in the source before a backup, fails without a
// word of the value; a subset drill; JUnit; and the drills that cannot run
// (identity file missing, a table that is not in the backup, the target
// DSN's variable unset) exit 2 and are journaled as error, never as fail.
func TestDrillTargetsCanarySubsetJUnit(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	e.db.Exec(t, "CREATE TABLE `"+e.database+"`.js_jsmx (id INT PRIMARY KEY, amt INT)",
		"INSERT INTO `"+e.database+"`.js_jsmx SELECT seq, seq FROM `"+e.database+"`.seq_1_to_50")
	sum := sha256.Sum256([]byte("王五1|1"))
	f, err := os.OpenFile(e.cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`  - name: yb-canary
    backup: yb-nightly
    identity_file: keys/backup.agekey
    target_dsn_env: ATREST_T_DRILL_DSN
    rto: 30m
    rpo: 26h
    tables: [cb_ryxx]
    probes:
      - {name: row1, sql: "SELECT CONCAT_WS('|', psn_name, id) FROM cb_ryxx WHERE id = 1", expect_sha256: "` + hex.EncodeToString(sum[:]) + `"}
  - name: yb-slow
    backup: yb-nightly
    identity_file: keys/backup.agekey
    target_dsn_env: ATREST_T_DRILL_DSN
    rto: 1ms
  - name: yb-noid
    backup: yb-nightly
    identity_file: keys/nosuch.agekey
    target_dsn_env: ATREST_T_DRILL_DSN
  - name: yb-ghost
    backup: yb-nightly
    identity_file: keys/backup.agekey
    target_dsn_env: ATREST_T_DRILL_DSN
    exclude_tables: [` + e.database + `.cb_ryxy]
`)
	f.Close()
	if _, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly"); code != exitOK {
		t.Fatalf("backup run: exit %d: %s", code, stderr)
	}
	t.Setenv("ATREST_T_DRILL_DSN", testenv.EncryptedMariaDB(t).DSN)

	// Targets met, canary unchanged, one table of two.
	out, stderr, code := atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-canary", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("yb-canary: exit %d: %s%s", code, stderr, out)
	}
	r := records(t, out)[0]
	probes, _ := r["probes"].([]any)
	if r["status"] != "pass" || r["rto"] != "met" || r["rpo"] != "met" || r["rto_target_seconds"] != float64(1800) ||
		r["subset"] != true || r["tables_not_run"] != float64(1) || len(probes) != 1 || probes[0].(map[string]any)["canary"] != true {
		t.Errorf("yb-canary record: %s", out)
	}
	// The same as JUnit: restore, the table drilled, the one not run
	// (skipped), the canary, both targets.
	out, _, code = atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-canary", "--format", "junit")
	doc, cases := parseJUnit(t, out)
	if code != exitOK || doc["fail"] != 0 || doc["error"] != 0 || doc["skipped"] != 1 || cases["yb-canary/table cb_ryxx"] != "pass" ||
		cases["yb-canary/table js_jsmx"] != "skipped" || cases["yb-canary/canary row1"] != "pass" || cases["yb-canary/rto"] != "pass" || cases["yb-canary/rpo"] != "pass" {
		t.Errorf("junit: exit %d, %v\n%s", code, cases, out)
	}

	// RTO missed: the backup restored and verified (status pass), exit 1.
	out, stderr, code = atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-slow", "--format", "jsonl")
	t.Logf("%s", stderr)
	if r := records(t, out); code != exitFound || len(r) != 1 || r[0]["status"] != "pass" || r[0]["rto"] != "missed" ||
		!strings.Contains(stderr, "drill yb-slow restored and verified") || !strings.Contains(stderr, "missed its targets: RTO ") || !strings.Contains(stderr, "missed the target 0.001s") {
		t.Errorf("yb-slow: exit %d, %s %s", code, stderr, out)
	}
	out, _, code = atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-slow", "--format", "junit")
	if _, cases := parseJUnit(t, out); code != exitFound || !strings.HasPrefix(cases["yb-slow/rto"], "fail: ") || cases["yb-slow/table cb_ryxx"] != "pass" {
		t.Errorf("yb-slow junit: exit %d, %v", code, cases)
	}

	// Could not run: exit 2, an <error> in JUnit, nothing else.
	for _, c := range []struct{ job, env, want string }{
		{"yb-noid", "", "identity file"},
		{"yb-ghost", "", `exclude_tables: "` + e.database + `.cb_ryxy" names no table`},
		{"yb-drill", "unset", "environment variable ATREST_T_DRILL_DSN is not set"},
	} {
		if c.env == "unset" {
			t.Setenv("ATREST_T_DRILL_DSN", "")
		}
		out, stderr, code := atrest(t, "drill", "run", "--config", e.cfg, "--job", c.job, "--format", "junit")
		t.Logf("%s: %s", c.job, stderr)
		doc, cases := parseJUnit(t, out)
		if code != exitCantRun || !strings.Contains(stderr, c.want) || doc["tests"] != 1 || doc["error"] != 1 || !strings.Contains(cases[c.job+"/drill"], c.want) {
			t.Errorf("%s: exit %d, stderr %q, cases %v", c.job, code, stderr, cases)
		}
	}
	t.Setenv("ATREST_T_DRILL_DSN", testenv.EncryptedMariaDB(t).DSN)

	// The canary row changes in the source before the next backup.
	e.db.Exec(t, "UPDATE `"+e.database+"`.cb_ryxx SET psn_name = '赵六' WHERE id = 1")
	if _, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly"); code != exitOK {
		t.Fatalf("backup run: exit %d: %s", code, stderr)
	}
	out, stderr, code = atrest(t, "drill", "run", "--config", e.cfg, "--job", "yb-canary", "--format", "jsonl")
	t.Logf("%s", stderr)
	changed := sha256.Sum256([]byte("赵六|1"))
	if code != exitFound || !strings.Contains(stderr, "canary row1 changed") {
		t.Errorf("changed canary: exit %d, %s", code, stderr)
	}
	for _, leak := range []string{"赵六", hex.EncodeToString(changed[:]), hex.EncodeToString(changed[:])[:8]} {
		if strings.Contains(out+stderr, leak) {
			t.Errorf("the output says %q of the canary's value", leak)
		}
	}

	// The journal: targets and subset in the figures; could-not-run is
	// error, never fail.
	out, stderr, code = atrest(t, "audit", "log", "--config", e.cfg, "--kind", "drill.run", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("audit log: %d %s", code, stderr)
	}
	outcomes := map[string]string{}
	for _, r := range records(t, out) {
		subj := r["subject"].(string)
		outcomes[subj] += r["outcome"].(string) + " "
		figs, _ := r["figures"].(map[string]any)
		if subj == "yb-slow" && (figs["rto_met"] != false || figs["rto_target_seconds"] != 0.001 || !strings.Contains(r["detail"].(string), "targets missed: RTO")) {
			t.Errorf("yb-slow entry %v", r)
		}
		if subj == "yb-canary" && r["outcome"] == "ok" && (figs["rto_met"] != true || figs["rpo_met"] != true || figs["subset"] != true || figs["tables_not_run"] != float64(1)) {
			t.Errorf("yb-canary entry %v", r)
		}
	}
	want := map[string]string{"yb-canary": "ok ok fail ", "yb-slow": "ok ok ", "yb-noid": "error ", "yb-ghost": "error ", "yb-drill": "error "}
	for k, v := range want {
		if outcomes[k] != v {
			t.Errorf("journal %s: %q, want %q", k, outcomes[k], v)
		}
	}

	// backup check as JUnit: a case per check record, parsed.
	out, stderr, code = atrest(t, "backup", "check", "--config", e.cfg, "--job", "yb-nightly", "--format", "junit")
	doc, cases = parseJUnit(t, out)
	t.Logf("check junit: exit %d %s %v", code, stderr, cases)
	fresh := ""
	for k, v := range cases {
		if strings.HasPrefix(k, "yb-nightly/freshness ") {
			fresh = v
		}
	}
	if code != exitOK || doc["tests"] == 0 || doc["error"] != 0 || doc["fail"] != 0 || fresh != "pass" || cases["yb-nightly/lifecycle"] != "skipped" {
		t.Errorf("backup check junit: exit %d, %+v", code, cases)
	}
}
