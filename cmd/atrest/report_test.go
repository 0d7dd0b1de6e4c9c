package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
)

const reportCfg = `state_dir: %[1]s/state
sources:
  - name: yb-prod
    dsn_env: ATREST_T_RPT_DSN
    databases: [yb]
file_roots:
  - name: exports
    paths: [%[1]s/exports]
storage:
  - {name: s3, endpoint: "127.0.0.1:1", access_key_env: ATREST_T_RPT_AK, secret_key_env: ATREST_T_RPT_SK}
backups:
  - name: yb-nightly
    source: yb-prod
    storage: s3
    bucket: yb-backups
    prefix: yb/
    recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p]
    rpo: 26h
    retention: 30d
drills:
  - name: yb-drill
    backup: yb-nightly
    identity_file: keys/backup.agekey
    target_dsn_env: ATREST_T_RPT_DRILL
`

type reportEnv struct {
	dir, cfg string
	conf     *config.Config
	period   string
}

// newReportEnv is an installation whose journal holds what the commands
// write: a real file scan (a mobile number in exports), and backup, check
// and drill entries made by the commands' own entry builders.
func newReportEnv(t *testing.T) *reportEnv {
	t.Helper()
	dir := t.TempDir()
	e := &reportEnv{dir: dir, cfg: filepath.Join(dir, "atrest.yaml")}
	os.MkdirAll(filepath.Join(dir, "exports"), 0o755)
	os.WriteFile(filepath.Join(dir, "exports", "a.csv"), []byte("姓名,手机\n张三,13812345678\n"), 0o644)
	os.WriteFile(e.cfg, []byte(fmt.Sprintf(reportCfg, dir)), 0o644)
	t.Setenv("ATREST_T_RPT_DSN", "atrest:secret@tcp(127.0.0.1:1)/yb?tls=true")
	if _, stderr, code := atrest(t, "init", "--config", e.cfg); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	if _, stderr, code := atrest(t, "scan", "files", "--config", e.cfg, "--format", "jsonl"); code != exitFound {
		t.Fatalf("scan files: exit %d: %s", code, stderr)
	}
	var err error
	if e.conf, err = config.Load(e.cfg); err != nil {
		t.Fatal(err)
	}
	day := time.Now().Format("2006-01-02")
	e.period = day + ".." + day
	return e
}

func (e *reportEnv) record(t *testing.T, entries ...journal.Entry) []journal.Entry {
	t.Helper()
	j, err := openJournal(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	out, err := j.AppendBatch(entries)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func passingChecks(job string) []check.Result {
	var res []check.Result
	for _, c := range []string{check.Freshness, check.Completeness, check.ManifestSig, check.ObjectCheck, check.Integrity, check.Encryption} {
		res = append(res, check.Result{Record: "check", Job: job, Check: c, Status: check.Pass})
	}
	return append(res, check.Result{Record: "check", Job: job, Check: check.Lifecycle, Status: check.Unsupported})
}

func drillRecord(status string) *drill.Record {
	r := &drill.Record{Record: "drill", Job: "yb-nightly", Drill: "yb-drill", Backup: "yb/yb-nightly/x.sql.zst.age",
		Status: status, RPOSeconds: 12800, Seconds: 45, Digests: "verified", Rows: 1234, TablesMatched: 1,
		Tables: []drill.Table{{Name: "cb_ryxx", Rows: 1234}}}
	if status == drill.StatusPass {
		r.RTOSeconds = 41.2
	} else {
		r.Failure, r.TablesMatched, r.Digests = drill.FailIntegrity, 0, ""
	}
	return r
}

func (e *reportEnv) history(t *testing.T, lastDrill string) journal.Entry {
	t.Helper()
	out := e.record(t,
		jobs.BackupEntry(jobs.BackupRecord{Record: "backup", Job: "yb-nightly", Status: "ok", Key: "yb/yb-nightly/x.sql.zst.age",
			Bytes: 1 << 20, Rows: 1234, Tables: 1, Seconds: 3}),
		jobs.CheckEntry("yb-nightly", passingChecks("yb-nightly"), nil, jobs.CheckOptions{Read: true}),
		jobs.DrillEntry("yb-drill", drillRecord(drill.StatusPass), nil))
	var last journal.Entry
	if lastDrill == drill.StatusFail {
		last = e.record(t, jobs.DrillEntry("yb-drill", drillRecord(drill.StatusFail),
			&drill.Failure{Job: "yb-nightly", Class: drill.FailIntegrity, Detail: "table yb.cb_ryxx: digest differs from the manifest"}))[0]
	} else {
		last = out[2]
	}
	return last
}

type reportDoc struct {
	Entry    struct{ Seq int } `json:"entry"`
	Controls []struct {
		ID       string `json:"id"`
		Verdict  string `json:"verdict"`
		Reason   struct{ EN string }
		Evidence []struct {
			Entry *struct {
				Seq    int    `json:"seq"`
				Hash   string `json:"hash"`
				Anchor string `json:"anchor"`
			} `json:"entry"`
		} `json:"evidence"`
	} `json:"controls"`
	Journal struct {
		Verified bool               `json:"verified"`
		FirstBad *struct{ Seq int } `json:"first_bad"`
	} `json:"journal"`
	Config struct {
		Sources []struct{ TLS string } `json:"sources"`
	} `json:"config"`
}

func (d reportDoc) control(t *testing.T, id string) (string, []int) {
	t.Helper()
	for _, c := range d.Controls {
		if c.ID == id {
			var seqs []int
			for _, e := range c.Evidence {
				if e.Entry != nil {
					seqs = append(seqs, e.Entry.Seq)
				}
			}
			return c.Verdict, seqs
		}
	}
	t.Fatalf("no control %s", id)
	return "", nil
}

// The "Done when", end to end: a period with a failed drill gives a
// report whose backup-recovery control is not met and points at the
// failing drill's entry; the report is written, journaled as kind report,
// and the run exits 0.
func TestReportFailedDrillEndToEnd(t *testing.T) {
	e := newReportEnv(t)
	failing := e.history(t, drill.StatusFail)

	out := filepath.Join(e.dir, "q.json")
	stdout, stderr, code := atrest(t, "report", "--config", e.cfg, "--period", e.period, "--format", "json", "-o", out)
	if code != exitOK {
		t.Fatalf("report: exit %d: %s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "not met") || !strings.Contains(stdout, out) {
		t.Errorf("summary line: %q", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc reportDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	v, seqs := doc.control(t, "MLPS-8.1.4.9a")
	if v != "not_met" || len(seqs) == 0 || seqs[0] != failing.Seq {
		t.Errorf("MLPS-8.1.4.9a: %s citing %v, want not_met citing the failing drill %d first", v, seqs, failing.Seq)
	}
	if !doc.Journal.Verified || doc.Config.Sources[0].TLS != "verified" {
		t.Errorf("journal %+v, config %+v", doc.Journal, doc.Config)
	}
	if v, _ := doc.control(t, "MLPS-8.1.4.8"); v != "not_met" { // the mobile number the real scan found
		t.Errorf("MLPS-8.1.4.8: %s", v)
	}
	if bytes.Contains(data, []byte("13812345678")) || bytes.Contains(data, []byte("secret")) {
		t.Error("the report holds an identifier or the DSN's password")
	}

	// The run is journaled, and the report names its own entry.
	var reports []journal.Entry
	for en, err := range journal.Query(e.conf.JournalDir(), journal.Filter{Kind: "report"}) {
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, en)
	}
	if len(reports) != 1 || reports[0].Subject != e.period || reports[0].Seq != doc.Entry.Seq ||
		reports[0].Figures["not_met"].(float64) < 1 || reports[0].Figures["journal_verified"] != true {
		t.Fatalf("report entries %+v (doc entry %d)", reports, doc.Entry.Seq)
	}
	if v, seqs := doc.control(t, "PIPL-54"); v != "met" || len(seqs) == 0 || seqs[0] != doc.Entry.Seq {
		t.Errorf("PIPL-54: %s %v", v, seqs)
	}

	// HTML: the chart, the anchors, both languages, no script.
	html := filepath.Join(e.dir, "q.html")
	if _, stderr, code := atrest(t, "report", "--config", e.cfg, "--period", e.period, "--format", "html", "-o", html); code != exitOK {
		t.Fatalf("html: exit %d: %s", code, stderr)
	}
	page, _ := os.ReadFile(html)
	for _, want := range []string{"<svg", fmt.Sprintf(`id="entry-%d"`, failing.Seq), fmt.Sprintf(`href="#entry-%d"`, failing.Seq),
		"不符合", "not met", "数据备份恢复"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if bytes.Contains(page, []byte("<script")) {
		t.Error("HTML has a script")
	}
	if left, _ := filepath.Glob(filepath.Join(e.dir, ".q.*")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestReportPassingDrillToStdout(t *testing.T) {
	e := newReportEnv(t)
	passing := e.history(t, drill.StatusPass)
	stdout, stderr, code := atrest(t, "report", "--config", e.cfg, "--period", e.period, "--format", "json", "-o", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc reportDoc
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
	}
	if v, seqs := doc.control(t, "MLPS-8.1.4.9a"); v != "met" || !containsInt(seqs, passing.Seq) {
		t.Errorf("MLPS-8.1.4.9a: %s %v, want met citing %d", v, seqs, passing.Seq)
	}
	for id, want := range map[string]string{"MLPS-8.1.4.9b": "partly_met", "MLPS-8.1.4.9c": "no_evidence", "MLPS-8.1.10.9": "risk",
		"MLPS-8.1.5.2": "not_met", "MLPS-8.1.10.11": "met", "GBT35273-6.3": "partly_met"} {
		if v, _ := doc.control(t, id); v != want {
			t.Errorf("%s: %s, want %s", id, v, want)
		}
	}
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// A journal that fails verification: the report is still written and says
// where, and the run exits 1.
func TestReportOnBrokenJournal(t *testing.T) {
	e := newReportEnv(t)
	e.history(t, drill.StatusPass)
	segs, _ := filepath.Glob(filepath.Join(e.conf.JournalDir(), "segment-*.jsonl"))
	data, _ := os.ReadFile(segs[0])
	edited := bytes.Replace(data, []byte(`"outcome":"findings"`), []byte(`"outcome":"ok"`), 1)
	if bytes.Equal(data, edited) {
		t.Fatal("nothing to edit")
	}
	os.WriteFile(segs[0], edited, 0o640)
	out := filepath.Join(e.dir, "broken.json")
	_, stderr, code := atrest(t, "report", "--config", e.cfg, "--period", e.period, "--format", "json", "-o", out)
	if code != exitFound || !strings.Contains(stderr, "report written") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q; want 1 and one line", code, stderr)
	}
	var doc reportDoc
	data, _ = os.ReadFile(out)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Journal.Verified || doc.Journal.FirstBad == nil {
		t.Errorf("journal status %+v", doc.Journal)
	}
	if v, _ := doc.control(t, "MLPS-8.1.4.3"); v != "not_met" {
		t.Errorf("MLPS-8.1.4.3 on a broken journal: %s", v)
	}
}

func TestReportFlags(t *testing.T) {
	e := newReportEnv(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--period", e.period, "-o", "-"}, ""},
		{[]string{"-o", "-"}, "--period"},
		{[]string{"--period", "last quarter", "-o", "-"}, "FROM..TO"},
		{[]string{"--period", "2026-12-31..2026-10-01", "-o", "-"}, "ends before it starts"},
		{[]string{"--period", e.period}, "-o FILE"},
		{[]string{"--period", e.period, "--format", "pdf", "-o", "-"}, "html or json"},
		{[]string{"--period", e.period, "-o", filepath.Join(e.dir, "nodir", "x.html")}, "nodir"},
	} {
		args := append([]string{"report", "--config", e.cfg}, c.args...)
		_, stderr, code := atrest(t, args...)
		if c.want == "" {
			if code != exitOK {
				t.Errorf("%v: exit %d %s", c.args, code, stderr)
			}
			continue
		}
		if code != exitCantRun || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, stderr, c.want)
		}
	}
	// Nothing was journaled for the runs that could not run.
	n := 0
	for range journal.Query(e.conf.JournalDir(), journal.Filter{Kind: "report"}) {
		n++
	}
	if n != 1 {
		t.Errorf("%d report entries, want 1", n)
	}
	out, _, _ := atrest(t, "report", "--help")
	if !strings.Contains(out, "not met") || !strings.Contains(out, "do not make it fail") || !strings.Contains(out, "fails verification") {
		t.Errorf("--help does not explain the exit status:\n%s", out)
	}
}

// The officer's evidence bundle: written by report --bundle, checked offline
// by audit verify --bundle with the journal's public key; any edited member
// fails and is named.
func TestReportBundleVerifiedOfflineAndTamperRejected(t *testing.T) {
	e := newReportEnv(t)
	e.history(t, drill.StatusPass)
	zipPath := filepath.Join(t.TempDir(), "evidence.zip")
	out, stderr, code := atrest(t, "report", "--config", e.cfg, "--period", e.period, "--bundle", zipPath)
	if code != exitOK {
		t.Fatalf("report --bundle: exit %d: %s%s", code, out, stderr)
	}
	pem, _, code := atrest(t, "audit", "checkpoint", "--config", e.cfg, "--public-key")
	keyFile := filepath.Join(t.TempDir(), "journal.pub.pem")
	if code != 0 || !strings.HasPrefix(pem, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("public key: exit %d %q", code, pem)
	}
	os.WriteFile(keyFile, []byte(pem), 0o600)

	// Offline: no config, nothing but the zip and the key.
	t.Setenv("ATREST_CONFIG", filepath.Join(t.TempDir(), "none.yaml"))
	out, stderr, code = atrest(t, "audit", "verify", "--bundle", zipPath, "--key", keyFile)
	if code != 0 || !strings.Contains(out, "OK") || !strings.Contains(out, "the key you gave") {
		t.Fatalf("verify --bundle: exit %d\n%s%s", code, out, stderr)
	}

	// Edit one byte of the report inside the zip (rewritten by a zip tool).
	edited := filepath.Join(t.TempDir(), "edited.zip")
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(edited)
	zw := zip.NewWriter(f)
	for _, m := range zr.File {
		rc, _ := m.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if m.Name == "report.json" {
			data = bytes.Replace(data, []byte(`"not_met"`), []byte(`"met"`), 1)
		}
		w, _ := zw.Create(m.Name)
		w.Write(data)
	}
	zw.Close()
	f.Close()
	zr.Close()
	out, stderr, code = atrest(t, "audit", "verify", "--bundle", edited, "--key", keyFile)
	if code != exitFound || !strings.Contains(out, "member report.json was edited") {
		t.Fatalf("edited bundle: exit %d, want 1\n%s%s", code, out, stderr)
	}
}

// timezone: two reports of one period made on hosts in different zones
// cover the same instants; the JSON says the zone and whether the period
// was over; audit log prints times with their offset.
func TestTimezoneFixesPeriodsAndTimes(t *testing.T) {
	e := newReportEnv(t)
	raw, _ := os.ReadFile(e.cfg)
	os.WriteFile(e.cfg, append([]byte("timezone: Asia/Shanghai\n"), raw...), 0o644)
	month := time.Now().In(mustZone(t, "Asia/Shanghai")).Format("2006-01")
	var froms []string
	saved := time.Local
	defer func() { time.Local = saved }()
	for _, tz := range []string{"UTC", "America/New_York"} {
		t.Setenv("TZ", tz)
		time.Local = mustZone(t, tz)
		out, stderr, code := atrest(t, "report", "--config", e.cfg, "--period", month, "--format", "json", "-o", "-")
		if code != 0 {
			t.Fatalf("TZ=%s: exit %d: %s", tz, code, stderr)
		}
		var doc struct {
			Period struct {
				From, Label, Zone string
				Offset            string `json:"utc_offset"`
			} `json:"period"`
			Unfinished bool `json:"unfinished"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Period.Zone != "Asia/Shanghai" || doc.Period.Offset != "+08:00" || !doc.Unfinished || !strings.HasPrefix(doc.Period.Label, month+"-01..") {
			t.Errorf("TZ=%s: period %+v unfinished %v", tz, doc.Period, doc.Unfinished)
		}
		froms = append(froms, doc.Period.From)
	}
	if froms[0] != froms[1] || !strings.HasSuffix(froms[0], "+08:00") {
		t.Errorf("period starts %v: want one instant in +08:00", froms)
	}
	out, _, _ := atrest(t, "audit", "log", "--config", e.cfg)
	if !regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00`).MatchString(out) {
		t.Errorf("audit log times without their offset:\n%s", out)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The report names where the plaintext is (哪些文件), with what to do.
func TestReportNamesWhereThePlaintextIs(t *testing.T) {
	e := newReportEnv(t)
	out, stderr, code := atrest(t, "report", "--config", e.cfg, "--period", e.period, "--format", "json", "-o", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Figures struct {
			FileScans []struct {
				Where []struct {
					Name   string         `json:"name"`
					Counts map[string]int `json:"counts"`
					Todo   struct{ ZH, EN string }
				} `json:"where"`
			} `json:"file_scans"`
		} `json:"figures"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	fs := doc.Figures.FileScans
	if len(fs) != 1 || len(fs[0].Where) != 1 || !strings.HasSuffix(fs[0].Where[0].Name, "a.csv") ||
		fs[0].Where[0].Counts["cn_mobile"] != 1 || !strings.Contains(fs[0].Where[0].Todo.EN, "encrypted storage") {
		t.Fatalf("where: %+v", fs)
	}
	html, _, _ := atrest(t, "report", "--config", e.cfg, "--period", e.period, "--format", "html", "-o", "-")
	if !strings.Contains(html, "a.csv") || !strings.Contains(html, "手机号 cn_mobile") && !strings.Contains(html, "cn_mobile 1") {
		t.Errorf("the HTML report does not name the file")
	}
}
