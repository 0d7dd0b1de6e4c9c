package report

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/testenv"
)

var cst = time.FixedZone("CST", 8*3600)

// quarter is the period most tests report on.
func quarter(t *testing.T) Period {
	t.Helper()
	p, err := ParsePeriod("2026-10-01..2026-12-31", cst)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testConfig() Config {
	return Config{
		Sources:   []Source{{Name: "yb-prod", Databases: []string{"yb"}, TLS: TLSVerified}},
		FileRoots: []string{"exports"},
		Backups: []BackupJob{{Name: "yb-nightly", Source: "yb-prod", Storage: "backup-s3", Bucket: "yb-backups",
			Format: "atrest", Schedule: "30 1 * * *", RPO: Duration(26 * time.Hour), Retention: Duration(30 * 24 * time.Hour), Recipients: 1}},
		Drills:           []Drill{{Name: "yb-drill", Backup: "yb-nightly"}},
		JournalRetention: Duration(180 * 24 * time.Hour),
		Anchor:           &Anchor{Storage: "backup-s3", Bucket: "atrest-journal"},
	}
}

// tj is a journal written on a clock the test sets, with entries shaped
// like the ones the commands write (cmd/atrest: scanDBEntry,
// scanFilesEntry, backupRunEntry, backupCheckEntry, drillEntry).
type tj struct {
	t    *testing.T
	dir  string
	key  crypto.Signer
	now  time.Time
	j    *journal.Journal
	seqs map[string]int
}

func newJournal(t *testing.T) *tj { return newJournalOf(t, suite.Standard) }

// newJournalOf is a journal of suite s, as its key makes it.
func newJournalOf(t *testing.T, s suite.Suite) *tj {
	key := testenv.SigningKey(t, s)
	x := &tj{t: t, dir: t.TempDir(), key: key, seqs: map[string]int{}}
	j, err := journal.Open(x.dir, key, journal.Options{Now: func() time.Time { return x.now }, CheckpointEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	x.j = j
	t.Cleanup(func() { j.Close() })
	return x
}

// at appends e at the given day and hour of 2026 (CST) and remembers its
// seq under name.
func (x *tj) at(name string, month time.Month, day, hour int, e journal.Entry) journal.Entry {
	x.t.Helper()
	x.now = time.Date(2026, month, day, hour, 0, 0, 0, cst)
	out, err := x.j.Append(e)
	if err != nil {
		x.t.Fatal(err)
	}
	if name != "" {
		x.seqs[name] = out.Seq
	}
	return out
}

func (x *tj) verify() (journal.Report, error) {
	x.t.Helper()
	if err := x.j.Checkpoint(context.Background()); err != nil {
		x.t.Fatal(err)
	}
	return journal.Verify(x.dir, x.key.Public(), nil)
}

func scanDB(source string, plaintext map[string]any) journal.Entry {
	n := 0
	for _, v := range plaintext {
		n += v.(int)
	}
	out := "ok"
	if n > 0 {
		out = "findings"
	}
	return journal.Entry{Kind: "scan.db", Subject: source, Outcome: out, Figures: map[string]any{
		"tables": 12, "tables_encrypted_at_rest": 3, "table_errors": 0, "columns_sampled": 80, "plaintext_columns": n,
		"plaintext_by_type": plaintext, "by_state": map[string]any{"plaintext": n, "masked": 2, "encrypted": 1}, "seconds": 3.2}}
}

func scanFiles(subject string, byType map[string]any) journal.Entry {
	n := 0
	for _, v := range byType {
		n += v.(int)
	}
	out := "ok"
	if n > 0 {
		out = "findings"
	}
	return journal.Entry{Kind: "scan.files", Subject: subject, Outcome: out, Figures: map[string]any{
		"files": 40, "scanned": 36, "encrypted": 4, "binary": 0, "skipped": 0, "errors": 0, "findings": n,
		"by_type": byType, "bytes": 123456, "seconds": 0.4}}
}

func backupRun(job string) journal.Entry {
	return journal.Entry{Kind: "backup.run", Subject: job, Outcome: "ok", Detail: "yb/yb-nightly/2026/10/02/x.sql.zst.age",
		Figures: map[string]any{"bytes": 1 << 20, "plaintext_bytes": 8 << 20, "rows": 957243, "tables": 12, "seconds": 41.0}}
}

func backupCheck(job string, checks map[string]any) journal.Entry {
	pass, fail := 0, 0
	for _, v := range checks {
		if v.(int) == 1 {
			pass++
		} else {
			fail++
		}
	}
	out := "ok"
	if fail > 0 {
		out = "fail"
	}
	return journal.Entry{Kind: "backup.check", Subject: job, Outcome: out, Figures: map[string]any{
		"pass": pass, "fail": fail, "warn": 0, "unsupported": 1, "read": true, "checks": checks}}
}

func allPass() map[string]any {
	return map[string]any{"freshness": 1, "completeness": 1, "manifest": 1, "object": 1, "integrity": 1,
		"encryption": 1, "lifecycle": 1, "versioning": 1}
}

func drillOK(name string, rto float64) journal.Entry {
	return journal.Entry{Kind: "drill.run", Subject: name, Outcome: "ok", Detail: "backup yb/yb-nightly/x.sql.zst.age",
		Figures: map[string]any{"rpo_seconds": 12800.0, "seconds": rto + 2, "rto_seconds": rto, "tables": 12, "tables_matched": 12,
			"rows": 957243, "digests_verified": true, "retried": false, "probes": 1}}
}

func drillFail(name, class string) journal.Entry {
	return journal.Entry{Kind: "drill.run", Subject: name, Outcome: "fail",
		Detail: "backup yb/yb-nightly/x.sql.zst.age; " + class + ": table cb_ryxx digest differs from the manifest",
		Figures: map[string]any{"rpo_seconds": 13000.0, "seconds": 30.0, "tables": 12, "tables_matched": 11,
			"rows": 957243, "digests_verified": false, "failure": map[string]any{class: 1}}}
}

// history writes a quarter of activity: scans, backups, fresh checks, a
// passing drill on 10-05, and then what more does.
func history(t *testing.T, more func(x *tj)) (*tj, Input) {
	x := newJournal(t)
	x.at("before", time.September, 20, 9, drillFail("yb-drill", "integrity")) // before the period: ignored
	x.at("scan.db", time.October, 2, 2, scanDB("yb-prod", map[string]any{}))
	x.at("scan.files", time.October, 2, 3, scanFiles("exports", map[string]any{"cn_mobile": 2}))
	x.at("run1", time.October, 2, 1, backupRun("yb-nightly"))
	x.at("check1", time.October, 2, 4, backupCheck("yb-nightly", allPass()))
	x.at("drill1", time.October, 5, 5, drillOK("yb-drill", 41.2))
	x.at("serve", time.October, 6, 8, journal.Entry{Kind: "serve.start", Subject: "/etc/atrest/atrest.yaml", Outcome: "ok"})
	x.at("check2", time.November, 2, 4, backupCheck("yb-nightly", allPass()))
	if more != nil {
		more(x)
	}
	rep, err := x.verify()
	return x, Input{Config: testConfig(), JournalDir: x.dir, Verify: rep, VerifyErr: err, Period: quarter(t),
		Now: time.Date(2027, 1, 3, 10, 0, 0, 0, cst), Journaled: true}
}

func build(t *testing.T, in Input) *Report {
	t.Helper()
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func result(t *testing.T, r *Report, id string) Result {
	t.Helper()
	for _, c := range append(append([]Result(nil), r.Controls...), r.Beyond...) {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no control %s", id)
	return Result{}
}

func cites(res Result, seq int) bool {
	for _, e := range res.Evidence {
		if e.Entry != nil && e.Entry.Seq == seq && len(e.Entry.Hash) == 64 && e.Entry.Anchor == fmt.Sprintf("entry-%d", seq) {
			return true
		}
	}
	return false
}

// The "Done when": a period with a failed drill says "not met" for
// the backup-recovery control and points at the failing drill's entry.
func TestFailedDrillIsNotMetAndCitesIt(t *testing.T) {
	x, in := history(t, func(x *tj) {
		x.at("drill2", time.December, 10, 5, drillFail("yb-drill", "integrity"))
		x.at("check3", time.December, 11, 4, backupCheck("yb-nightly", allPass()))
	})
	r := build(t, in)
	res := result(t, r, "MLPS-8.1.4.9a")
	if res.Verdict != NotMet {
		t.Fatalf("8.1.4.9a: %s, want not met: %s", res.Verdict, res.Reason.EN)
	}
	failing := x.seqs["drill2"]
	if !cites(res, failing) || res.Evidence[0].Entry.Seq != failing {
		t.Errorf("8.1.4.9a does not cite the failing drill #%d first: %+v", failing, res.Evidence)
	}
	if !strings.Contains(res.Reason.EN, fmt.Sprintf("entry %d", failing)) || !strings.Contains(res.Reason.ZH, fmt.Sprintf("第 %d 条", failing)) {
		t.Errorf("reason does not name the entry: %q / %q", res.Reason.EN, res.Reason.ZH)
	}
	if cites(res, x.seqs["before"]) {
		t.Error("cites a drill from before the period")
	}
	// The drill found the restored tables differ: integrity is not met either.
	if v := result(t, r, "MLPS-8.1.4.7").Verdict; v != NotMet {
		t.Errorf("8.1.4.7: %s, want not met after an integrity failure", v)
	}
	// And the beyond-China rows that take drills say so too.
	for _, id := range []string{"PCI-12.10.1", "ISO27001-A.8.13", "HIPAA-164.308(a)(7)(ii)(A)(B)(D)"} {
		if v := result(t, r, id).Verdict; v != NotMet {
			t.Errorf("%s: %s, want not met", id, v)
		}
	}
	// The appendix lists it, with its hash.
	found := false
	for _, c := range r.Cited {
		if c.Seq == failing && c.Kind == "drill.run" && c.Outcome == "fail" && len(c.Hash) == 64 && strings.Contains(c.Detail, "integrity") {
			found = true
		}
	}
	if !found {
		t.Errorf("appendix lacks the failing drill: %+v", r.Cited)
	}
}

// A failed drill followed by a passing one is met; a pass followed by a
// failure is not.
func TestLaterPassingDrillMeetsBackupRestore(t *testing.T) {
	x, in := history(t, func(x *tj) {
		x.at("drill2", time.November, 10, 5, drillFail("yb-drill", "restore"))
		x.at("drill3", time.November, 11, 5, drillOK("yb-nightly", 39)) // by job name
		x.at("check3", time.December, 11, 4, backupCheck("yb-nightly", allPass()))
	})
	r := build(t, in)
	res := result(t, r, "MLPS-8.1.4.9a")
	if res.Verdict != Met {
		t.Fatalf("8.1.4.9a: %s, want met: %s", res.Verdict, res.Reason.EN)
	}
	if !cites(res, x.seqs["drill3"]) || !cites(res, x.seqs["check3"]) {
		t.Errorf("met without citing the passing drill and the last fresh check: %+v", res.Evidence)
	}
	if v := result(t, r, "MLPS-8.1.4.7").Verdict; v != Met {
		t.Errorf("8.1.4.7: %s, want met (read-back check and matching digests): %s", v, result(t, r, "MLPS-8.1.4.7").Reason.EN)
	}
}

func TestStaleCheckIsNotMet(t *testing.T) {
	x, in := history(t, func(x *tj) {
		c := allPass()
		c["freshness"] = 0
		x.at("stale", time.November, 20, 4, backupCheck("yb-nightly", c))
	})
	res := result(t, build(t, in), "MLPS-8.1.4.9a")
	if res.Verdict != NotMet || !cites(res, x.seqs["stale"]) || !strings.Contains(res.Reason.EN, "RPO of 26h") {
		t.Errorf("stale check: %s %q %+v", res.Verdict, res.Reason.EN, res.Evidence)
	}
}

func TestNoDrillIsPartlyMet(t *testing.T) {
	x := newJournal(t)
	x.at("", time.October, 2, 4, backupCheck("yb-nightly", allPass()))
	rep, err := x.verify()
	r := build(t, Input{Config: testConfig(), JournalDir: x.dir, Verify: rep, VerifyErr: err, Period: quarter(t)})
	if v := result(t, r, "MLPS-8.1.4.9a").Verdict; v != PartlyMet {
		t.Errorf("fresh checks, no drill: %s, want partly met", v)
	}
	// Nothing journaled: no report, no review.
	if v := result(t, r, "PIPL-54").Verdict; v != NotMet {
		t.Errorf("PIPL-54 without a journaled report: %s", v)
	}
}

func TestFixedVerdicts(t *testing.T) {
	_, in := history(t, nil)
	r := build(t, in)
	for id, want := range map[string]Verdict{
		"MLPS-8.1.4.9b":             PartlyMet,
		"MLPS-8.1.4.9c":             NoEvidence,
		"MLPS-8.1.10.9":             Risk,
		"MLPS-8.1.10.11":            Met,
		"MLPS-8.1.4.11":             Met,
		"MLPS-8.1.5.2":              NotMet, // no review yet
		"PIPL-54":                   Met,
		"MLPS-8.1.4.8":              NotMet, // two mobile numbers in exports
		"PIPL-51":                   NotMet,
		"PIPL-28":                   Met, // mobile numbers are not sensitive
		"PCI-3.5.1":                 Met,
		"GBT35273-6.3":              Met,
		"MLPS-8.1.5.4d":             PartlyMet, // anchor configured, but verify had none to compare
		"MLPS-8.1.4.3":              PartlyMet,
		"CSL-23":                    NotMet,
		"ISO27001-A.8.24":           PartlyMet,
		"PCI-10.3.2–10.3.4, 10.5.1": NotMet, // 180d < 12 months
	} {
		res := result(t, r, id)
		if res.Verdict != want {
			t.Errorf("%s: %s, want %s: %s", id, res.Verdict, want, res.Reason.EN)
		}
		if res.Reason.ZH == "" || res.Reason.EN == "" {
			t.Errorf("%s: reason missing a language: %+v", id, res.Reason)
		}
	}
	if got := result(t, r, "MLPS-8.1.4.9b").Reason.EN; !strings.Contains(got, "periodic") || !strings.Contains(got, "not real time") {
		t.Errorf("8.1.4.9b does not say why: %q", got)
	}
	if got := result(t, r, "MLPS-8.1.10.9").Reason; !strings.Contains(got.EN, "SM2/SM3/SM4") || !strings.Contains(got.ZH, "GB/T 39786-2021") {
		t.Errorf("8.1.10.9 does not name the risk: %+v", got)
	}
	if got := result(t, r, "MLPS-8.1.4.9c").Reason.EN; !strings.Contains(got, "out of atrest's scope") {
		t.Errorf("8.1.4.9c: %q", got)
	}
	n := 0
	for _, v := range Verdicts {
		n += r.Summary[v]
	}
	if n != len(r.Controls) || len(r.Controls) != len(chinaControls) || len(r.Beyond) != len(beyondControls) {
		t.Errorf("summary %v over %d controls", r.Summary, len(r.Controls))
	}
}

// A review written after the quarter ends, of the quarter, meets 8.1.5.2;
// one of October only is partial.
func TestReview(t *testing.T) {
	x, in := history(t, func(x *tj) {
		x.at("oct", time.November, 3, 9, journal.Entry{Kind: KindReview, Subject: "2026-10-01..2026-10-31", Outcome: "ok",
			Actor: journal.Actor{WebUser: "li.auditor"}, Detail: "October reviewed"})
	})
	if res := result(t, build(t, in), "MLPS-8.1.5.2"); res.Verdict != PartlyMet || !cites(res, x.seqs["oct"]) {
		t.Errorf("partial review: %s %+v", res.Verdict, res.Evidence)
	}
}

func TestReviewAfterThePeriod(t *testing.T) {
	var review int
	x, in := history(t, nil)
	x.now = time.Date(2027, 1, 2, 10, 0, 0, 0, cst)
	unconfirmed, err := x.j.Append(journal.Entry{Kind: KindReview, Subject: "2026-10-01..2026-12-31", Outcome: "ok",
		Detail: "Q4 looked at", Figures: map[string]any{"auditor": false}})
	if err != nil {
		t.Fatal(err)
	}
	in.Verify, in.VerifyErr = x.verify()
	if res := result(t, build(t, in), "MLPS-8.1.5.2"); res.Verdict != PartlyMet || !cites(res, unconfirmed.Seq) {
		t.Errorf("review without a confirmed auditor: %s %+v", res.Verdict, res.Evidence)
	}
	// A review as atrest wrote them before reviews needed the auditor's
	// password: the role was looked up, nobody proved who they were.
	old, err := x.j.Append(journal.Entry{Kind: KindReview, Subject: "2026-10-01..2026-12-31", Outcome: "ok",
		Actor: journal.Actor{WebUser: "li.auditor"}, Detail: "Q4 looked at again", Figures: map[string]any{"auditor": true}})
	if err != nil {
		t.Fatal(err)
	}
	in.Verify, in.VerifyErr = x.verify()
	if res := result(t, build(t, in), "MLPS-8.1.5.2"); res.Verdict != PartlyMet || !cites(res, old.Seq) ||
		!strings.Contains(res.Reason.EN, "not as an authenticated audit administrator") {
		t.Errorf("review by --as without a password: %s %q", res.Verdict, res.Reason.EN)
	}
	q4, _ := ParsePeriod("2026-Q4", cst)
	re, err := Review{Period: q4, Note: "Q4 reviewed; the mobile numbers in exports are a ticket", Auditor: "li.auditor", Via: "dashboard"}.Entry()
	if err != nil {
		t.Fatal(err)
	}
	e, err := x.j.Append(re)
	if err != nil {
		t.Fatal(err)
	}
	review = e.Seq
	in.Verify, in.VerifyErr = x.verify()
	r := build(t, in)
	res := result(t, r, "MLPS-8.1.5.2")
	if res.Verdict != Met || !cites(res, review) || !strings.Contains(res.Reason.EN, "li.auditor") {
		t.Errorf("review: %s %q %+v", res.Verdict, res.Reason.EN, res.Evidence)
	}
	if len(r.Figures.Reviews) != 3 || r.Figures.Reviews[2].Seq != review {
		t.Errorf("figures.reviews %+v", r.Figures.Reviews)
	}
}

func TestBrokenJournalIsNotMet(t *testing.T) {
	x, in := history(t, nil)
	// Someone edits the file scan's count down to zero (in whichever monthly
	// segment holds it).
	segs, _ := filepath.Glob(filepath.Join(x.dir, "segment-*.jsonl"))
	done := false
	for _, seg := range segs {
		data, _ := os.ReadFile(seg)
		if edited := bytes.Replace(data, []byte(`"findings":2`), []byte(`"findings":0`), 1); !bytes.Equal(edited, data) {
			os.WriteFile(seg, edited, 0o640)
			done = true
			break
		}
	}
	if !done {
		t.Fatal("nothing to edit")
	}
	in.Verify, in.VerifyErr = journal.Verify(x.dir, x.key.Public(), nil)
	if in.VerifyErr == nil {
		t.Fatal("verify passed an edited journal")
	}
	r := build(t, in)
	if r.Journal.Verified || r.Journal.FirstBad == nil || r.Journal.FirstBad.Seq != x.seqs["scan.files"] {
		t.Fatalf("journal status %+v", r.Journal)
	}
	for _, id := range []string{"MLPS-8.1.4.3", "MLPS-8.1.4.7"} {
		res := result(t, r, id)
		if res.Verdict != NotMet || !strings.Contains(res.Reason.EN, fmt.Sprintf("entry %d", x.seqs["scan.files"])) {
			t.Errorf("%s on a broken journal: %s %q", id, res.Verdict, res.Reason.EN)
		}
	}
	if r.Journal.Unreadable != 1 {
		t.Errorf("unreadable %d, want 1 (the edited line fails its hash)", r.Journal.Unreadable)
	}
}

func TestPlaintextRemediatedAndSensitive(t *testing.T) {
	x, in := history(t, func(x *tj) {
		x.at("dirty", time.October, 20, 2, scanDB("yb-prod", map[string]any{"cn_resident_id": 2, "bank_card": 1}))
	})
	r := build(t, in)
	for _, id := range []string{"PIPL-28", "PCI-3.5.1", "GBT35273-6.3", "MLPS-8.1.4.8"} {
		if res := result(t, r, id); res.Verdict != NotMet || !cites(res, x.seqs["dirty"]) {
			t.Errorf("%s: %s %+v", id, res.Verdict, res.Evidence)
		}
	}
	_, in = history(t, func(x *tj) {
		x.at("dirty", time.October, 20, 2, scanDB("yb-prod", map[string]any{"cn_resident_id": 2}))
		x.at("clean", time.October, 25, 2, scanDB("yb-prod", map[string]any{}))
	})
	r = build(t, in)
	if res := result(t, r, "PIPL-28"); res.Verdict != Met || !strings.Contains(res.Reason.EN, "had plaintext at entry") {
		t.Errorf("remediated: %s %q", res.Verdict, res.Reason.EN)
	}
}

func TestJSONShape(t *testing.T) {
	x, in := history(t, func(x *tj) { x.at("drill2", time.December, 10, 5, drillFail("yb-drill", "integrity")) })
	r := build(t, in)
	self, err := x.j.Append(r.JournalEntry("json"))
	if err != nil {
		t.Fatal(err)
	}
	r.Attach(self)
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema string `json:"schema"`
		Period struct {
			Label string    `json:"label"`
			From  time.Time `json:"from"`
		} `json:"period"`
		Entry    struct{ Seq int } `json:"entry"`
		Summary  map[string]int    `json:"summary"`
		Controls []map[string]any  `json:"controls"`
		Beyond   []map[string]any  `json:"beyond"`
		Figures  map[string]any    `json:"figures"`
		Journal  map[string]any    `json:"journal"`
		Cited    []map[string]any  `json:"cited_entries"`
		Config   map[string]any    `json:"config"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "atrest.report/v1" || doc.Period.Label != "2026-10-01..2026-12-31" || doc.Entry.Seq != self.Seq ||
		doc.Summary["not_met"] == 0 || len(doc.Controls) != len(chinaControls) {
		t.Errorf("top level: %s", buf.Bytes()[:400])
	}
	var c map[string]any
	for _, x := range doc.Controls {
		if x["id"] == "MLPS-8.1.4.9a" {
			c = x
		}
	}
	ev := c["evidence"].([]any)[0].(map[string]any)["entry"].(map[string]any)
	if c["verdict"] != "not_met" || c["key"] != "backup_restore" || c["clause"] != "8.1.4.9 a)" ||
		ev["seq"] != float64(x.seqs["drill2"]) || ev["anchor"] != fmt.Sprintf("entry-%d", x.seqs["drill2"]) || ev["kind"] != "drill.run" {
		t.Errorf("control: %v", c)
	}
	for _, k := range []string{"title", "asks", "met_when", "reason", "evidence", "standard"} {
		if _, ok := c[k]; !ok {
			t.Errorf("control lacks %q", k)
		}
	}
	drills := doc.Figures["drills"].([]any)
	if len(drills) != 2 || drills[0].(map[string]any)["rto_seconds"] != 41.2 || drills[1].(map[string]any)["failure"] != "integrity" {
		t.Errorf("figures.drills %v", drills)
	}
	if doc.Journal["verified"] != true || doc.Config["journal_retention"] != "180d" {
		t.Errorf("journal %v config %v", doc.Journal, doc.Config)
	}
	last := doc.Cited[len(doc.Cited)-1]
	if last["kind"] != "report" || last["seq"] != float64(self.Seq) {
		t.Errorf("appendix does not end with the report's own entry: %v", last)
	}
	// The report entry is journaled with the verdict counts.
	if self.Kind != "report" || self.Subject != "2026-10-01..2026-12-31" || self.Figures["not_met"] != r.Summary[NotMet] {
		t.Errorf("report entry %+v", self)
	}
}

func TestHTML(t *testing.T) {
	x, in := history(t, func(x *tj) {
		x.at("drill2", time.December, 10, 5, drillFail("yb-drill", "integrity"))
	})
	r := build(t, in)
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if dir := os.Getenv("ATREST_REPORT_OUT"); dir != "" {
		os.WriteFile(filepath.Join(dir, "report.html"), buf.Bytes(), 0o644)
	}
	failing := x.seqs["drill2"]
	for _, want := range []string{
		"<svg", "<polyline", "RTO", "@page", "size: A4", "break-before: page",
		fmt.Sprintf(`id="entry-%d"`, failing), fmt.Sprintf(`href="#entry-%d"`, failing),
		"不符合", "not met", "部分符合", "partly met", "无证据", "no evidence", "风险", "risk",
		"数据备份恢复", "Backup and recovery", "Beyond China", "HIPAA", "附录", "Appendix",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "<link", "@import", "javascript:"} {
		if strings.Contains(strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	// Every evidence link has its appendix row.
	for _, c := range append(r.Controls, r.Beyond...) {
		for _, e := range c.Evidence {
			if e.Entry != nil && !strings.Contains(html, `id="`+e.Entry.Anchor+`"`) {
				t.Errorf("%s cites %s with no appendix row", c.ID, e.Entry.Anchor)
			}
		}
	}
}

func TestParsePeriod(t *testing.T) {
	for _, c := range []struct {
		in, label string
		from, to  time.Time
	}{
		{"2026-10-01..2026-12-31", "2026-10-01..2026-12-31", time.Date(2026, 10, 1, 0, 0, 0, 0, cst), time.Date(2027, 1, 1, 0, 0, 0, 0, cst)},
		{"2026-10-01T00:00:00+08:00..2026-10-02T12:00:00+08:00", "2026-10-01T00:00:00+08:00..2026-10-02T12:00:00+08:00",
			time.Date(2026, 10, 1, 0, 0, 0, 0, cst), time.Date(2026, 10, 2, 12, 0, 0, 0, cst)},
		{"2026-10-01..2026-10-01", "2026-10-01..2026-10-01", time.Date(2026, 10, 1, 0, 0, 0, 0, cst), time.Date(2026, 10, 2, 0, 0, 0, 0, cst)},
	} {
		p, err := ParsePeriod(c.in, cst)
		if err != nil || p.Label != c.label || !p.From.Equal(c.from) || !p.To.Equal(c.to) {
			t.Errorf("%s: %+v %v", c.in, p, err)
		}
	}
	for _, bad := range []string{"", "2026-10-01", "2026-10-01..", "2026-12-31..2026-10-01", "2026-13-01..2026-12-31", "last quarter"} {
		if _, err := ParsePeriod(bad, cst); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestChartScales(t *testing.T) {
	per := Period{From: time.Date(2026, 10, 1, 0, 0, 0, 0, cst), To: time.Date(2027, 1, 1, 0, 0, 0, 0, cst)}
	rto := 120.0
	svg := string(rtoChart([]DrillRun{
		{Entry: Ref{Seq: 7, Anchor: "entry-7", Time: per.From.Add(24 * time.Hour), Outcome: "ok"}, Job: "a<b", RTOSeconds: &rto},
		{Entry: Ref{Seq: 9, Anchor: "entry-9", Time: per.From.Add(48 * time.Hour), Outcome: "fail"}, Job: "a<b", Failure: "integrity"},
	}, per))
	for _, want := range []string{`href="#entry-7"`, `href="#entry-9"`, "2 min", "a&lt;b", "2026-10-01"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "a<b") {
		t.Error("job name not escaped")
	}
}

// TestPrintsToA4 prints the HTML with headless chromium, as a compliance
// officer would: A4 pages, and each section (summary, controls, beyond
// China, figures, appendix) starting on its own page. Set
// ATREST_REPORT_OUT to keep the HTML and PDF.
func TestPrintsToA4(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium: install the Debian package chromium")
		}
		t.Skip("no chromium to print with (Debian package chromium)")
	}
	_, in := history(t, func(x *tj) { x.at("", time.December, 10, 5, drillFail("yb-drill", "integrity")) })
	r := build(t, in)
	dir := t.TempDir()
	if d := os.Getenv("ATREST_REPORT_OUT"); d != "" {
		dir = d
	}
	html, pdf := filepath.Join(dir, "report.html"), filepath.Join(dir, "report.pdf")
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(html, buf.Bytes(), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--user-data-dir="+filepath.Join(t.TempDir(), "profile"), "--print-to-pdf="+pdf, "file://"+html)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, out)
	}
	data, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, m := range regexp.MustCompile(`/Count (\d+)`).FindAllSubmatch(data, -1) {
		if n, _ := strconv.Atoi(string(m[1])); n > pages {
			pages = n
		}
	}
	if pages < 5 {
		t.Errorf("%d pages, want at least 5 (one per section)", pages)
	}
	if !regexp.MustCompile(`/MediaBox \[0 0 59[45]\.\d* 84[12]\.\d*\]`).Match(data) {
		t.Error("pages are not A4")
	}
	t.Logf("%s: %d pages, %d bytes", pdf, pages, len(data))
}

func TestParsePeriodMonthQuarterAndZone(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	for _, c := range []struct{ in, label, from, to string }{
		{"2026-12", "2026-12-01..2026-12-31", "2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00"},
		{"2026-Q4", "2026-10-01..2026-12-31", "2026-10-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00"},
		{"2026-q1", "2026-01-01..2026-03-31", "2026-01-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00"},
		{"2026-12-01..2026-12-31", "2026-12-01..2026-12-31", "2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00"},
	} {
		p, err := ParsePeriod(c.in, sh)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if p.Label != c.label || p.From.Format(time.RFC3339) != c.from || p.To.Format(time.RFC3339) != c.to || p.Zone != "Asia/Shanghai" || p.Offset != "+08:00" {
			t.Errorf("%s: %+v", c.in, p)
		}
	}
	for _, bad := range []string{"2026-Q5", "2026-13", "2026", "Q4"} {
		if _, err := ParsePeriod(bad, sh); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	p, _ := ParsePeriod("2026-12", sh)
	if !p.Unfinished(time.Date(2026, 12, 6, 12, 0, 0, 0, sh)) || p.Unfinished(time.Date(2027, 1, 1, 0, 0, 0, 0, sh)) {
		t.Error("Unfinished")
	}
}

// The roles section: who held each of the three roles at the end of the
// period (from user.add, user.del and login.ok, a users file's old "admin"
// read as sysadmin) and what each did in it, by kind.
func TestRolesSection(t *testing.T) {
	x, in := history(t, func(x *tj) {
		x.at("", time.September, 1, 9, journal.Entry{Kind: "user.add", Subject: "zhang.sec", Outcome: "ok", Detail: "role secadmin: bootstrap",
			Figures: map[string]any{"role": map[string]any{"secadmin": 1}, "bootstrap": true}})
		x.at("", time.September, 1, 10, journal.Entry{Kind: "user.add", Subject: "ops", Outcome: "ok", Detail: "role admin"})
		x.at("", time.September, 1, 11, journal.Entry{Kind: "user.add", Subject: "gone", Outcome: "ok", Detail: "role auditor",
			Actor: journal.Actor{WebUser: "zhang.sec"}})
		x.at("", time.September, 2, 9, journal.Entry{Kind: "user.del", Subject: "gone", Outcome: "ok", Actor: journal.Actor{WebUser: "zhang.sec"}})
		x.at("added", time.October, 1, 9, journal.Entry{Kind: "user.add", Subject: "li.wei", Outcome: "ok", Detail: "role auditor",
			Actor: journal.Actor{WebUser: "zhang.sec"}, Figures: map[string]any{"role": map[string]any{"auditor": 1}}})
		x.at("", time.October, 3, 9, journal.Entry{Kind: "login.ok", Subject: "li.wei", Outcome: "ok", Detail: "from 10.0.0.5, role auditor",
			Actor: journal.Actor{WebUser: "li.wei"}})
		x.at("", time.October, 3, 10, journal.Entry{Kind: "access.denied", Subject: "yb-drill", Outcome: "denied",
			Actor: journal.Actor{WebUser: "li.wei"}})
		x.at("", time.October, 4, 9, journal.Entry{Kind: "login.ok", Subject: "ops", Outcome: "ok", Detail: "from 10.0.0.6, role admin",
			Actor: journal.Actor{WebUser: "ops"}})
		x.at("", time.October, 4, 10, journal.Entry{Kind: "drill.run", Subject: "yb-drill", Outcome: "ok",
			Actor: journal.Actor{WebUser: "ops"}, Figures: map[string]any{"rto_seconds": 12.5}})
		x.at("", time.December, 20, 9, journal.Entry{Kind: "user.del", Subject: "ops", Outcome: "ok", Actor: journal.Actor{WebUser: "zhang.sec"}})
	})
	r := build(t, in)
	got := map[string][]string{}
	for _, ru := range r.Roles {
		for _, u := range ru.Users {
			s := u.Name + " by " + u.AddedBy
			if u.Removed != nil {
				s += " removed"
			}
			for _, k := range sortedKeys(u.Acts) {
				s += fmt.Sprintf(" %s=%d", k, u.Acts[k])
			}
			got[ru.Role] = append(got[ru.Role], s)
		}
	}
	want := map[string][]string{
		"sysadmin": {"ops by bootstrap removed drill.run=1 login.ok=1"},
		"secadmin": {"zhang.sec by bootstrap user.add=1 user.del=1"},
		"auditor":  {"li.wei by zhang.sec access.denied=1 login.ok=1"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("roles:\n got %v\nwant %v", got, want)
	}
	if len(r.Roles) != 3 || r.Roles[2].Users[0].Added == nil || r.Roles[2].Users[0].Added.Seq != x.seqs["added"] {
		t.Errorf("roles: %+v", r.Roles)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`id="roles"`, "三权分立", "安全管理员", "zhang.sec", "access.denied 1, login.ok 1"} {
		if !strings.Contains(html.String(), s) {
			t.Errorf("the HTML report lacks %q", s)
		}
	}
}

// The anchor bucket's own check (anchor.check) decides whether lifecycle
// rules undercut journal.retention: a failing rule makes MLPS-8.1.5.4d not
// met and is cited; a server without lifecycle says unsupported.
func TestAnchorCheckInTheReport(t *testing.T) {
	anchorCheck := func(figs map[string]any) journal.Entry {
		return journal.Entry{Kind: "anchor.check", Subject: "atrest-journal/host/", Outcome: "ok", Figures: figs}
	}
	x, in := history(t, func(x *tj) {
		x.at("unsupported", time.October, 9, 4, anchorCheck(map[string]any{"checks": map[string]any{"versioning": 1},
			"checks_unjudged": map[string]any{"lifecycle": 1}, "checks_unsupported": map[string]any{"lifecycle": 1}}))
	})
	res := result(t, build(t, in), "MLPS-8.1.5.4d")
	if !cites(res, x.seqs["unsupported"]) || !strings.Contains(res.Reason.EN, "does not implement lifecycle configuration") {
		t.Errorf("unsupported: %s %q", res.Verdict, res.Reason.EN)
	}
	x.at("fail", time.November, 9, 4, anchorCheck(map[string]any{"checks": map[string]any{"versioning": 1, "lifecycle": 0}}))
	in.Verify, in.VerifyErr = x.verify()
	res = result(t, build(t, in), "MLPS-8.1.5.4d")
	if res.Verdict != NotMet || !cites(res, x.seqs["fail"]) || !strings.Contains(res.Reason.EN, "expires checkpoint copies before the journal's retention") {
		t.Errorf("failing lifecycle: %s %q", res.Verdict, res.Reason.EN)
	}
}

// sm marks a backup.run or drill.run entry as the commands write it for an
// sm backup (figures.suite).
func sm(e journal.Entry) journal.Entry {
	e.Figures["suite"] = map[string]any{"sm": 1}
	e.Detail = strings.Replace(e.Detail, ".sql.zst.age", ".sql.zst.sm4", 1)
	return e
}

// MLPS-8.1.10.9 follows the evidence: an sm journal with sm backups drilled
// green is met, citing them; a standard job beside them, or a standard
// journal, is partly met and named; an sm job with nothing sm to show in
// the period is not counted; nothing sm at all is the risk of before.
func TestCryptoFollowsTheSuites(t *testing.T) {
	smConfig := func(jobs ...string) Config {
		c := testConfig()
		c.Suite = "sm"
		c.Backups[0].Suite = "sm"
		for _, j := range jobs {
			b := c.Backups[0]
			b.Name, b.Suite = j, "standard"
			c.Backups = append(c.Backups, b)
		}
		return c
	}
	write := func(x *tj, sm2 bool) {
		run, drill := backupRun("yb-nightly"), drillOK("yb-drill", 41.2)
		if sm2 {
			run, drill = sm(run), sm(drill)
		}
		x.at("run", time.October, 2, 1, run)
		x.at("drill", time.October, 5, 5, drill)
	}
	build8 := func(x *tj, c Config) Result {
		rep, err := x.verify()
		r := build(t, Input{Config: c, JournalDir: x.dir, Verify: rep, VerifyErr: err, Period: quarter(t)})
		return result(t, r, "MLPS-8.1.10.9")
	}

	x := newJournalOf(t, suite.SM)
	write(x, true)
	res := build8(x, smConfig())
	if res.Verdict != Met || !cites(res, x.seqs["run"]) || !cites(res, x.seqs["drill"]) || !strings.Contains(res.Reason.EN, "SM3") {
		t.Errorf("all sm: %s %q %+v", res.Verdict, res.Reason.EN, res.Evidence)
	}
	var national bool
	for _, e := range res.Evidence {
		national = national || strings.Contains(e.Fact, "SM4-CTR + HMAC-SM3")
	}
	if !national || !strings.Contains(fmt.Sprint(res.Evidence), "journal suite sm") {
		t.Errorf("evidence lacks the algorithms or the journal's suite: %+v", res.Evidence)
	}

	// A standard job beside the sm one: partly met, and named.
	x = newJournalOf(t, suite.SM)
	write(x, true)
	res = build8(x, smConfig("his-weekly"))
	if res.Verdict != PartlyMet || !strings.Contains(res.Reason.EN, "the others: his-weekly") || !strings.Contains(res.Reason.EN, "Job his-weekly uses the standard suite") {
		t.Errorf("mixed jobs: %s %q", res.Verdict, res.Reason.EN)
	}
	// An sm job whose backups in the period were age ones (made before
	// the switch): not counted.
	x = newJournalOf(t, suite.SM)
	write(x, false)
	res = build8(x, smConfig())
	if res.Verdict != PartlyMet || !strings.Contains(res.Reason.EN, "made no sm backup in the period") {
		t.Errorf("sm job without sm backups: %s %q", res.Verdict, res.Reason.EN)
	}
	// sm backups under a standard journal.
	x = newJournal(t)
	write(x, true)
	res = build8(x, smConfig())
	if res.Verdict != PartlyMet || !strings.Contains(res.Reason.EN, "The journal uses the standard suite") || !cites(res, x.seqs["run"]) {
		t.Errorf("standard journal: %s %q", res.Verdict, res.Reason.EN)
	}
	// Nothing sm: the risk, as before.
	x = newJournal(t)
	write(x, false)
	if res = build8(x, testConfig()); res.Verdict != Risk {
		t.Errorf("nothing sm: %s", res.Verdict)
	}
}

// Drill targets and subsets (issue 21): a passing full drill that missed
// its RTO is partly met, citing it with the figure and the target; a
// subset drill alone is partly met (partial evidence); a full drill that
// met its targets after a subset one is met; a drill that could not run
// (outcome error, as a missing identity file gives) is no evidence at all.
func TestDrillTargetsAndSubsetsIn8149a(t *testing.T) {
	missed := drillOK("yb-drill", 2400)
	missed.Figures["rto_target_seconds"], missed.Figures["rto_met"] = 1800.0, false
	missed.Figures["rpo_target_seconds"], missed.Figures["rpo_met"] = 93600.0, true
	subset := drillOK("yb-drill", 20)
	subset.Figures["subset"], subset.Figures["tables_not_run"], subset.Figures["tables_matched"] = true, 10, 2
	met := drillOK("yb-drill", 41)
	met.Figures["rto_target_seconds"], met.Figures["rto_met"] = 1800.0, true
	cantRun := journal.Entry{Kind: "drill.run", Subject: "yb-drill", Outcome: "error", Detail: "identity file: open /etc/atrest/backup.agekey: no such file or directory"}
	for _, tc := range []struct {
		name    string
		entries []journal.Entry
		want    Verdict
		cite    int // index into entries of the drill cited
		reason  string
	}{
		{"rto missed", []journal.Entry{missed}, PartlyMet, 0, "missed its targets: RTO 40 min > 30 min"},
		{"subset only", []journal.Entry{subset}, PartlyMet, 0, "covered a subset of its tables (entry %d: 10 of 12 tables not drilled)"},
		{"full met after subset", []journal.Entry{subset, met}, Met, 1, ""},
		{"full met before subset", []journal.Entry{met, subset}, Met, 0, ""},
		{"could not run is no evidence", []journal.Entry{met, cantRun}, Met, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newJournal(t)
			x.at("check", time.October, 2, 4, backupCheck("yb-nightly", allPass()))
			for i, e := range tc.entries {
				x.at(fmt.Sprint("d", i), time.October, 5+i, 5, e)
			}
			rep, err := x.verify()
			r := build(t, Input{Config: testConfig(), JournalDir: x.dir, Verify: rep, VerifyErr: err, Period: quarter(t)})
			res := result(t, r, "MLPS-8.1.4.9a")
			seq := x.seqs[fmt.Sprint("d", tc.cite)]
			if res.Verdict != tc.want || !cites(res, seq) {
				t.Fatalf("%s (want %s), cites #%d: %v; %s", res.Verdict, tc.want, seq, cites(res, seq), res.Reason.EN)
			}
			if r := strings.ReplaceAll(tc.reason, "%d", fmt.Sprint(seq)); !strings.Contains(res.Reason.EN, r) {
				t.Errorf("reason %q lacks %q", res.Reason.EN, r)
			}
			t.Logf("%s: %s | %v", res.Verdict, res.Reason.EN, res.Evidence[0].Why.EN)
		})
	}
	// The figures carry the targets.
	x := newJournal(t)
	x.at("d", time.October, 5, 5, missed)
	rep, err := x.verify()
	r := build(t, Input{Config: testConfig(), JournalDir: x.dir, Verify: rep, VerifyErr: err, Period: quarter(t)})
	if d := r.Figures.Drills[0]; d.RTOMet == nil || *d.RTOMet || *d.RTOTargetSeconds != 1800 || d.RPOMet == nil || !*d.RPOMet {
		t.Errorf("figures: %+v", d)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil || !strings.Contains(html.String(), "未达到 missed") {
		t.Errorf("html lacks the missed target: %v", err)
	}
}
