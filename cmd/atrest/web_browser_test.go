package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
)

// chromiumPath is Debian's chromium. In CI its absence fails the test,
// naming the package; elsewhere the test is skipped.
func chromiumPath(t *testing.T) string {
	t.Helper()
	const path = "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing: install Debian's chromium package (apt-get install chromium; scripts/deps.sh test does it)", path)
		}
		t.Skipf("%s missing: install the chromium package to run the dashboard's browser test", path)
	}
	return path
}

const browserCfg = `state_dir: state
journal:
  signing_key_file: keys/journal.key
fingerprint_key_file: keys/fingerprint.key
sources:
  - name: yb-prod
    dsn_env: ATREST_BROWSER_NO_DSN
    databases: [yb]
file_roots:
  - name: exports
    paths: [exports]
    scan_schedule: "0 0 1 1 *"
storage:
  - name: s3
    endpoint: 127.0.0.1:9
    access_key_env: ATREST_BROWSER_NO_KEY
    secret_key_env: ATREST_BROWSER_NO_SECRET
backups:
  - name: yb-nightly
    source: yb-prod
    storage: s3
    bucket: yb-backups
    prefix: yb/
    recipients: [%s]
    rpo: 26h
    retention: 30d
drills:
  - name: yb-drill
    backup: yb-nightly
    identity_file: keys/backup.agekey
    target_dsn_env: ATREST_BROWSER_NO_DRILL_DSN
    schedule: "0 0 1 1 *"
http:
  listen: 127.0.0.1:0
`

// TestDashboardInBrowser is issue 7's browser check, with issues 13 and 20's
// three roles and the officer's pages: atrest serve on a free port with a
// journal that holds a failed and then a passing drill; a security
// administrator bootstrapped with atrest user add, who adds an auditor and
// a system administrator with --as. Headless chromium logs in as the
// auditor through the form, finds the last drill on the overview, presses
// the sysadmin-only run button and gets the 403 page (journaled); on the
// audit page the auditor downloads the month's report (HTML) and evidence
// bundle (which atrest audit verify --bundle accepts), verifies the journal
// and records a review. The sysadmin cannot open the audit page (403,
// journaled) and starts a real run, journaled with the web user. The
// security administrator lands on the users page, adds a user through its
// form and is refused a results page (403, journaled). The month's report
// then counts the review and names the roles. Screenshots are kept as
// artifacts.
func TestDashboardInBrowser(t *testing.T) {
	chromium := chromiumPath(t)

	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(browserCfg, id.Recipient())), 0o644)
	os.MkdirAll(filepath.Join(dir, "exports"), 0o755)
	os.WriteFile(filepath.Join(dir, "exports", "orders.csv"), []byte("order,amount\n1706800914516,12.50\n"), 0o644)
	if _, stderr, code := atrest(t, "init", "--config", cfgPath); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	const auditorPW, adminPW, secPW = "审计员 reads everything", "admin starts runs 2026", "安全管理员 manages users"
	if _, stderr, code := atrestIn(t, secPW+"\n", "user", "add", "--config", cfgPath, "--role", "secadmin", "zhang.sec"); code != 0 {
		t.Fatalf("user add zhang.sec (bootstrap): %s", stderr)
	}
	for _, u := range []struct{ name, role, pw string }{{"li.wei", "auditor", auditorPW}, {"root.admin", "sysadmin", adminPW}} {
		if _, stderr, code := atrestIn(t, secPW+"\n"+u.pw+"\n", "user", "add", "--config", cfgPath, "--as", "zhang.sec", "--role", u.role, u.name); code != 0 {
			t.Fatalf("user add %s: %s", u.name, stderr)
		}
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// The journal of a week: a backup, a check, a drill that failed on a
	// digest, then two that passed; the newest is the one to find.
	entries := []journal.Entry{
		jobs.BackupEntry(jobs.BackupRecord{Job: "yb-nightly", Status: "ok", Key: "yb/2026/11/24/full.sql.zst.age",
			Bytes: 81 << 20, PlaintextBytes: 412 << 20, Rows: 1_204_311, Tables: 14, Seconds: 63.4}),
		{Kind: "backup.check", Subject: "yb-nightly", Outcome: "ok", Figures: map[string]any{"pass": 6, "fail": 0,
			"checks": map[string]any{"freshness": 1, "manifest": 1, "object": 1, "object_lock": 1}}},
		jobs.DBEntry("yb-prod", jobs.DBSummary{Tables: 14, Columns: 120, PlaintextColumns: 2,
			PlaintextByType: map[string]int{"cn_resident_id": 1, "cn_mobile": 1}, ByState: map[string]int{"plaintext": 2}}, nil),
		jobs.DrillEntry("yb-drill", &drill.Record{Status: drill.StatusFail, Failure: "integrity", RPOSeconds: 14000, Seconds: 30},
			&drill.Failure{Job: "yb-drill", Class: "integrity", Detail: "table cb_ryxx digest differs"}),
		jobs.DrillEntry("yb-drill", &drill.Record{Status: drill.StatusPass, RTOSeconds: 39.7, RPOSeconds: 12000, Seconds: 44,
			Tables: make([]drill.Table, 14), TablesMatched: 14, Digests: "verified"}, nil),
		jobs.DrillEntry("yb-drill", &drill.Record{Status: drill.StatusPass, RTOSeconds: 41.2, RPOSeconds: 12800, Seconds: 46,
			Tables: make([]drill.Table, 14), TablesMatched: 14, Digests: "verified"}, nil),
	}
	for _, e := range entries { // one command each, as the CLI journals them
		if err := record(cfg, e); err != nil {
			t.Fatal(err)
		}
	}
	lastDrill := journalEntries(t, cfg, "drill.run")
	lastSeq := lastDrill[len(lastDrill)-1].Seq

	var serveLog syncBuffer
	srv := startServe(t, cfgPath, &serveLog)
	base := "http://" + srv.addr

	artifacts := os.Getenv("ATREST_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	var chromeOut syncBuffer
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1024),
		chromedp.CombinedOutput(&chromeOut),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	fail := func(format string, args ...any) {
		t.Helper()
		if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			p := filepath.Join(artifacts, "dashboard-failure.png")
			os.WriteFile(p, shot, 0o644)
			t.Logf("screenshot at failure: %s", p)
		}
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
			t.Logf("page: %s", loc)
		}
		t.Fatalf(format+"\nchromium said:\n%s\nserve said:\n%s", append(args, chromeOut.String(), serveLog.String())...)
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			fail("text of #%s: %v", id, err)
		}
		return s
	}
	login := func(name, pw, landing string) {
		t.Helper()
		// A page without a session sends the browser to the login form.
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("name"))); err != nil {
			fail("open the dashboard: %v", err)
		}
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, base+"/login?next=") {
			fail("without a session, / went to %s, want the login form", loc)
		}
		resp, err := chromedp.RunResponse(ctx,
			chromedp.SendKeys(chromedp.ID("name"), name),
			chromedp.SendKeys(chromedp.ID("password"), pw),
			chromedp.Click(chromedp.ID("login")))
		if err != nil {
			fail("log in as %s: %v", name, err)
		}
		if resp.Status != 200 {
			fail("log in as %s: HTTP %d", name, resp.Status)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID(landing))); err != nil {
			fail("landing page after login as %s: %v", name, err)
		}
		if who := text("who"); !strings.Contains(who, name) {
			fail("logged in as %q, the page says %q", name, who)
		}
	}

	// The auditor finds the last drill on the overview.
	login("li.wei", auditorPW, "last-drill")
	if job := text("last-drill-job"); !strings.Contains(job, "yb-drill") {
		fail("last drill's job: %q, want yb-drill", job)
	}
	if rto := text("last-drill-rto"); rto != "41.2 s" {
		fail("last drill's RTO: %q, want 41.2 s", rto)
	}
	if st := text("last-drill-status"); !strings.Contains(st, "PASS") {
		fail("last drill's status: %q", st)
	}
	if href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("last-drill-entry"), "href")); err != nil ||
		href.Value != fmt.Sprintf("/journal/%d", lastSeq) {
		fail("last drill's entry link: %+v %v, want /journal/%d", href, err, lastSeq)
	}
	overview := shot(t, ctx, artifacts, "dashboard-overview.png")
	t.Logf("overview screenshot: %s", overview)

	// The drill's journal entry, from the card's link.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("last-drill-entry")), chromedp.WaitVisible(chromedp.ID("entry-outcome"))); err != nil {
		fail("open the drill's journal entry: %v", err)
	}
	if o := text("entry-outcome"); !strings.Contains(o, "ok") {
		fail("drill entry outcome: %q", o)
	}

	// The admin-only action: the auditor sees the button, presses it, and
	// the server refuses with 403.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/backups/yb-nightly"),
		chromedp.WaitVisible(chromedp.CSS(`button.run[data-kind="drill.run"]`))); err != nil {
		fail("backup job page: %v", err)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button.run[data-kind="drill.run"]`)))
	if err != nil {
		fail("press run as the auditor: %v", err)
	}
	if resp.Status != 403 {
		fail("run as the auditor: HTTP %d, want 403", resp.Status)
	}
	if st := text("status"); !strings.HasPrefix(st, "403") {
		fail("refusal page says %q", st)
	}
	refused := shot(t, ctx, artifacts, "dashboard-auditor-refused.png")
	t.Logf("refusal screenshot: %s", refused)
	denied := journalEntries(t, cfg, "access.denied")
	if len(denied) != 1 || denied[0].Actor.WebUser != "li.wei" || denied[0].Subject != "yb-drill" {
		t.Errorf("access.denied entries: %+v", denied)
	}
	if n := len(journalEntries(t, cfg, "drill.run")); n != len(lastDrill) {
		t.Errorf("the auditor's press started a drill: %d drill.run entries, want %d", n, len(lastDrill))
	}

	// The auditor's audit page: the month's report and evidence bundle,
	// downloaded; verification on demand; a review of the month.
	downloads := t.TempDir()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("nav-audit")), chromedp.WaitVisible(chromedp.ID("report-form")),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: ptrTo(true)})
			return err
		})); err != nil {
		fail("audit page: %v", err)
	}
	month := time.Now().In(cfg.Location).Format("2006-01")
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("report-period"))); err != nil || v != month {
		fail("the report's period defaults to %q, want this month %s (%v)", v, month, err)
	}
	download := func(button string) []byte {
		t.Helper()
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		progress := chromedp.Events(dctx, browser.DownloadProgress)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID(button))); err != nil {
			fail("press %s: %v", button, err)
		}
		for ev, err := range progress {
			if err != nil {
				fail("download from %s: %v", button, err)
			}
			if ev.State == browser.DownloadProgressStateCanceled {
				fail("download from %s cancelled", button)
			}
			if ev.State == browser.DownloadProgressStateCompleted {
				data, err := os.ReadFile(filepath.Join(downloads, ev.GUID))
				if err != nil {
					fail("downloaded file: %v", err)
				}
				return data
			}
		}
		fail("no download from %s", button)
		return nil
	}
	html := download("report-html")
	if !strings.Contains(string(html), "<html") || !strings.Contains(string(html), "MLPS-8.1.5.2") || !strings.Contains(string(html), "三权分立") {
		fail("the downloaded report is not the month's report: %.300s", html)
	}
	bundle := filepath.Join(artifacts, "evidence-"+month+".zip")
	os.WriteFile(bundle, download("report-bundle"), 0o644)
	if out, stderr, code := atrest(t, "audit", "verify", "--bundle", bundle); code != 0 {
		t.Errorf("the dashboard's bundle does not verify: exit %d: %s%s", code, out, stderr)
	}
	if reps := journalEntries(t, cfg, "report"); len(reps) != 2 || reps[0].Actor.WebUser != "li.wei" || reps[1].Detail != "bundle report" {
		t.Errorf("report entries: %+v", reps)
	}
	// #verify-state is on the audit page too: wait for the new page's
	// response, not for an element the old page already has.
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("verify-now"))); err != nil {
		fail("verify now: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("verify-state"))); err != nil {
		fail("verify now: %v", err)
	}
	if st := text("verify-state"); !strings.Contains(st, "校验通过") {
		fail("verify now says %q", st)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("review-note"), "reviewed the month: drill failure on the 24th fixed, ticket SEC-88"),
		chromedp.Click(chromedp.ID("review-submit")), chromedp.WaitVisible(chromedp.ID("reviewed"))); err != nil {
		fail("record a review: %v", err)
	}
	audited := shot(t, ctx, artifacts, "dashboard-auditor-audit.png")
	t.Logf("audit page screenshot: %s", audited)
	reviews := journalEntries(t, cfg, "review")
	if len(reviews) != 1 || reviews[0].Actor.WebUser != "li.wei" || reviews[0].Figures["authenticated"] != true {
		t.Errorf("review entries: %+v", reviews)
	}

	logout := func() {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("who")),
			chromedp.Click(chromedp.CSS(`form.who button`)), chromedp.WaitVisible(chromedp.ID("name"))); err != nil {
			fail("log out: %v", err)
		}
	}
	// Log out (a POST with the session's token). The sysadmin cannot make
	// the report (403, journaled), and starts a real run: the file scan
	// of exports.
	logout()
	login("root.admin", adminPW, "last-drill")
	if page, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err != nil || strings.Contains(page, `id="nav-audit"`) {
		fail("the sysadmin's pages link to the audit page (%v)", err)
	}
	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(base+"/audit"))
	if err != nil || resp.Status != 403 {
		fail("the sysadmin opens the audit page: %v %+v, want 403", err, resp)
	}
	sysRefused := shot(t, ctx, artifacts, "dashboard-sysadmin-refused.png")
	t.Logf("sysadmin refused: %s", sysRefused)
	if d := journalEntries(t, cfg, "access.denied"); len(d) != 2 || d[1].Actor.WebUser != "root.admin" || d[1].Subject != "/audit" {
		t.Errorf("access.denied entries: %+v", d)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/roots/exports"),
		chromedp.WaitVisible(chromedp.CSS(`button.run[data-kind="scan.files"]`))); err != nil {
		fail("root page: %v", err)
	}
	resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button.run[data-kind="scan.files"]`)))
	if err != nil || resp.Status != 200 {
		fail("press run as the admin: %v %+v", err, resp)
	}
	if s := text("started"); !strings.Contains(s, "scan.files") {
		fail("after the admin's run: %q", s)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		scans := journalEntries(t, cfg, "scan.files")
		if len(scans) == 1 {
			if scans[0].Actor.WebUser != "root.admin" || scans[0].Subject != "exports" || scans[0].Outcome != "ok" {
				t.Errorf("the admin's scan: %+v", scans[0])
			}
			break
		}
		if time.Now().After(deadline) {
			fail("the admin's scan was never journaled")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The security administrator lands on the users page, adds a user, and
	// is refused the results (403, journaled).
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		fail("back to the overview: %v", err)
	}
	logout()
	login("zhang.sec", secPW, "add-user")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("new-name"), "wang.audit"),
		chromedp.SetValue(chromedp.ID("new-role"), "auditor"),
		chromedp.SendKeys(chromedp.ID("new-password"), "another auditor 2026"),
		chromedp.Click(chromedp.ID("add")), chromedp.WaitVisible(chromedp.ID("done"))); err != nil {
		fail("add a user on the users page: %v", err)
	}
	users := shot(t, ctx, artifacts, "dashboard-secadmin-users.png")
	t.Logf("users page: %s", users)
	if adds := journalEntries(t, cfg, "user.add"); len(adds) != 4 || adds[3].Subject != "wang.audit" || adds[3].Actor.WebUser != "zhang.sec" {
		t.Errorf("user.add entries: %+v", adds)
	}
	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(base+"/backups/yb-nightly"))
	if err != nil || resp.Status != 403 {
		fail("the secadmin opens a backup page: %v %+v, want 403", err, resp)
	}
	if d := journalEntries(t, cfg, "access.denied"); len(d) != 3 || d[2].Actor.WebUser != "zhang.sec" {
		t.Errorf("access.denied entries: %+v", d)
	}

	logins := journalEntries(t, cfg, "login.ok")
	if len(logins) != 3 || logins[0].Subject != "li.wei" || logins[1].Subject != "root.admin" || logins[2].Subject != "zhang.sec" {
		t.Errorf("login.ok entries: %+v", logins)
	}
	// The month's report counts the auditor's review, and says who held
	// which role and what each did.
	out, stderr, code := atrest(t, "report", "--config", cfgPath, "--period", month, "--format", "json", "-o", "-")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	var doc struct {
		Controls []struct{ ID, Verdict string }
		Roles    []struct {
			Role  string
			Users []struct {
				Name string
				Acts map[string]int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Controls {
		if c.ID == "MLPS-8.1.5.2" && c.Verdict != "met" {
			t.Errorf("MLPS-8.1.5.2 after the auditor's review: %s", c.Verdict)
		}
	}
	roles := map[string]string{}
	for _, r := range doc.Roles {
		for _, u := range r.Users {
			roles[r.Role] += fmt.Sprintf("%s review=%d report=%d access.denied=%d scan.files=%d user.add=%d;",
				u.Name, u.Acts["review"], u.Acts["report"], u.Acts["access.denied"], u.Acts["scan.files"], u.Acts["user.add"])
		}
	}
	want := map[string]string{
		"sysadmin": "root.admin review=0 report=0 access.denied=1 scan.files=1 user.add=0;",
		"secadmin": "zhang.sec review=0 report=0 access.denied=1 scan.files=0 user.add=3;",
		"auditor":  "li.wei review=1 report=2 access.denied=1 scan.files=0 user.add=0;wang.audit review=0 report=0 access.denied=0 scan.files=0 user.add=0;",
	}
	if fmt.Sprint(roles) != fmt.Sprint(want) {
		t.Errorf("the report's roles:\n got %v\nwant %v", roles, want)
	}
}

func ptrTo[T any](v T) *T { return &v }

// shot saves a full-page PNG screenshot in dir and returns its path.
func shot(t *testing.T, ctx context.Context, dir, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func journalEntries(t *testing.T, cfg *config.Config, kind string) []journal.Entry {
	t.Helper()
	var out []journal.Entry
	for e, err := range journal.Query(cfg.JournalDir(), journal.Filter{Kind: kind}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}
