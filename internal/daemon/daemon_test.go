package daemon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// fakeClock is a Clock that moves only when a test sets it. Its After never
// fires: tests that use it drive the scheduler through tick.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
func (c *fakeClock) After(time.Duration) <-chan time.Time { return nil }

var testKey = func() ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}()

// openJournal opens a journal in dir (a fresh one if dir is "") whose entry
// times come from now.
func openJournal(t *testing.T, dir string, now func() time.Time) *journal.Journal {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "journal")
	}
	j, err := journal.Open(dir, testKey, journal.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func entries(t *testing.T, dir string) []journal.Entry {
	t.Helper()
	var out []journal.Entry
	for e, err := range journal.Query(dir, journal.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func ofKind(es []journal.Entry, kind string) []journal.Entry {
	var out []journal.Entry
	for _, e := range es {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// scrape reads /metrics into "name{labels}" → value, atrest_ series only.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "atrest_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func newDaemon(t *testing.T, o Options) *Daemon {
	t.Helper()
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestOverlapIsSkippedAndJournaled(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 12:00:00.2")}
	j := openJournal(t, "", clk.Now)
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	runs := 0
	job := Job{Name: "exports", Kind: KindScanFiles, Schedule: "*/1 * * * * *",
		Run: func(ctx context.Context) (journal.Entry, error) {
			runs++
			started <- struct{}{}
			<-release
			return journal.Entry{Outcome: "findings", Figures: map[string]any{"findings": 3}}, nil
		}}
	d := newDaemon(t, Options{Journal: j, Jobs: []Job{job}, Clock: clk})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	if w := d.tick(clk.Now()); w != 800*time.Millisecond {
		t.Errorf("before the first fire: sleep %s, want 800ms", w)
	}
	select {
	case <-started:
		t.Fatal("ran before its time")
	default:
	}
	clk.set(at("2026-11-25 12:00:01"))
	if w := d.tick(clk.Now()); w != time.Second {
		t.Errorf("after a fire: sleep %s, want 1s", w)
	}
	<-started
	clk.set(at("2026-11-25 12:00:02"))
	d.tick(clk.Now()) // the run is still going: skipped
	close(release)
	d.wg.Wait()
	if runs != 1 {
		t.Fatalf("%d runs, want 1", runs)
	}
	es := entries(t, j.Dir())
	if len(es) != 2 {
		t.Fatalf("journal: %+v", es)
	}
	if e := es[0]; e.Kind != KindScanFiles || e.Subject != "exports" || e.Outcome != "skipped" || e.Detail != "previous run still running" {
		t.Errorf("skip entry %+v", e)
	}
	if e := es[1]; e.Kind != KindScanFiles || e.Subject != "exports" || e.Outcome != "findings" {
		t.Errorf("run entry %+v", e)
	}
	m := scrape(t, d.Handler())
	for k, want := range map[string]float64{
		`atrest_runs_total{kind="scan.files",outcome="skipped"}`:  1,
		`atrest_runs_total{kind="scan.files",outcome="findings"}`: 1,
		`atrest_plaintext_findings{root="exports"}`:               3,
		`atrest_journal_entries_total`:                            2,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v (all: %v)", k, m[k], want, m)
		}
	}
	// Once it is done, the next fire runs again.
	clk.set(at("2026-11-25 12:00:03"))
	d.tick(clk.Now())
	<-started
	d.wg.Wait()
	if runs != 2 {
		t.Errorf("%d runs after the first ended, want 2", runs)
	}
}

func TestCatchUpOnlyMissedDrills(t *testing.T) {
	clk := &fakeClock{}
	j := openJournal(t, "", clk.Now)
	for _, e := range []struct{ when, kind, subject, outcome string }{
		{"2026-11-24 05:10:00", KindDrillRun, "late", "ok"},      // yesterday: today's 05:00 was missed
		{"2026-11-25 05:10:00", KindDrillRun, "done", "fail"},    // today, after the fire: a run is a run
		{"2026-11-25 05:20:00", KindDrillRun, "late", "skipped"}, // a skip is not a run
		{"2026-11-24 05:10:00", KindScanFiles, "scan", "ok"},     // missed too, but only drills catch up
	} {
		clk.set(at(e.when))
		if _, err := j.Append(journal.Entry{Kind: e.kind, Subject: e.subject, Outcome: e.outcome}); err != nil {
			t.Fatal(err)
		}
	}
	clk.set(at("2026-11-25 09:00:00"))
	var mu sync.Mutex
	ran := map[string]int{}
	job := func(kind, name string) Job {
		return Job{Name: name, Kind: kind, Schedule: "0 5 * * *", Run: func(context.Context) (journal.Entry, error) {
			mu.Lock()
			ran[name]++
			mu.Unlock()
			return journal.Entry{Outcome: "ok", Figures: map[string]any{"rto_seconds": 4.5}}, nil
		}}
	}
	d := newDaemon(t, Options{Journal: j, Clock: clk, Jobs: []Job{
		job(KindDrillRun, "late"), job(KindDrillRun, "done"), job(KindDrillRun, "never"), job(KindScanFiles, "scan")}})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	d.catchUp(clk.Now())
	d.wg.Wait()
	if want := map[string]int{"late": 1, "never": 1}; len(ran) != 2 || ran["late"] != 1 || ran["never"] != 1 {
		t.Fatalf("caught up %v, want %v", ran, want)
	}
	for _, e := range ofKind(entries(t, j.Dir()), KindDrillRun)[3:] {
		if e.Figures["catch_up"] != true {
			t.Errorf("catch-up run %s journaled without catch_up: %+v", e.Subject, e.Figures)
		}
	}
	// The next regular fire is tomorrow's; nothing is due before it.
	d.tick(at("2026-11-25 23:59:59"))
	d.wg.Wait()
	if ran["late"] != 1 || ran["done"] != 0 {
		t.Errorf("runs after catch-up: %v", ran)
	}
}

func TestMetricsRebuiltFromJournal(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 01:00:00")}
	dir := filepath.Join(t.TempDir(), "journal")
	cli := openJournal(t, dir, clk.Now) // another process: the CLI
	add := func(when string, e journal.Entry) {
		t.Helper()
		clk.set(at(when))
		if _, err := cli.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	add("2026-11-25 01:30:00", journal.Entry{Kind: KindBackupRun, Subject: "yb", Outcome: "ok"})
	add("2026-11-25 01:31:00", journal.Entry{Kind: KindBackupRun, Subject: "yb", Outcome: "fail"})
	add("2026-11-25 02:00:00", journal.Entry{Kind: KindBackupCheck, Subject: "yb", Outcome: "fail",
		Figures: map[string]any{"checks": map[string]any{"freshness": 1, "object": 0, "trend": 1}}})
	add("2026-11-25 03:00:00", journal.Entry{Kind: KindBackupCheck, Subject: "yb", Outcome: "ok",
		Figures: map[string]any{"checks": map[string]any{"freshness": 1, "object": 1},
			"checks_unjudged": map[string]any{"trend": 1}}}) // trend only warned: its old verdict goes
	add("2026-11-25 03:30:00", journal.Entry{Kind: KindBackupCheck, Subject: "yb", Outcome: "error",
		Detail: "unreachable"}) // no verdicts: the last ones stand
	add("2026-11-25 04:00:00", journal.Entry{Kind: KindBackupCheck, Subject: "other", Outcome: "ok",
		Figures: map[string]any{"checks": map[string]any{"freshness": 0}}})
	add("2026-11-25 05:00:00", journal.Entry{Kind: KindDrillRun, Subject: "yb-drill", Outcome: "pass",
		Figures: map[string]any{"rto_seconds": 41.25, "rto_target_seconds": 1800, "rto_met": true,
			"rpo_seconds": 3600, "rpo_target_seconds": 93600, "rpo_met": true}})
	// A failed drill judges no RTO (the last verdict stands) but its RPO.
	add("2026-11-25 05:05:00", journal.Entry{Kind: KindDrillRun, Subject: "yb-drill", Outcome: "fail",
		Figures: map[string]any{"rto_seconds": 99, "rto_target_seconds": 1800, "rpo_seconds": 100000, "rpo_target_seconds": 93600, "rpo_met": false}})
	add("2026-11-25 06:00:00", journal.Entry{Kind: KindScanDB, Subject: "yb-prod", Outcome: "findings",
		Figures: map[string]any{"plaintext_columns": 4}})
	add("2026-11-25 06:10:00", journal.Entry{Kind: KindScanDB, Subject: "yb-prod", Outcome: "error",
		Figures: map[string]any{"plaintext_columns": 0}}) // incomplete: does not clear
	add("2026-11-25 07:00:00", journal.Entry{Kind: KindScanFiles, Subject: "exports", Outcome: "ok",
		Figures: map[string]any{"findings": 0}})
	add("2026-11-25 07:01:00", journal.Entry{Kind: "user.add", Subject: "alice", Outcome: "ok"})

	ts := func(when string) float64 { return float64(at(when).Unix()) }
	want := map[string]float64{
		`atrest_check_timestamp_seconds{check="freshness",job="yb"}`:              ts("2026-11-25 03:00:00"),
		`atrest_check_timestamp_seconds{check="object",job="yb"}`:                 ts("2026-11-25 03:00:00"),
		`atrest_check_timestamp_seconds{check="freshness",job="other"}`:           ts("2026-11-25 04:00:00"),
		`atrest_last_run_outcome{job="yb",kind="backup.run",outcome="fail"}`:      1,
		`atrest_last_run_outcome{job="yb",kind="backup.check",outcome="error"}`:   1,
		`atrest_last_run_outcome{job="other",kind="backup.check",outcome="ok"}`:   1,
		`atrest_last_run_outcome{job="yb-drill",kind="drill.run",outcome="fail"}`: 1,
		`atrest_last_run_outcome{job="yb-prod",kind="scan.db",outcome="error"}`:   1,
		`atrest_last_run_outcome{job="exports",kind="scan.files",outcome="ok"}`:   1,
		`atrest_last_run_timestamp_seconds{job="yb",kind="backup.run"}`:           ts("2026-11-25 01:31:00"),
		`atrest_last_run_timestamp_seconds{job="yb",kind="backup.check"}`:         ts("2026-11-25 03:30:00"),
		`atrest_last_run_timestamp_seconds{job="other",kind="backup.check"}`:      ts("2026-11-25 04:00:00"),
		`atrest_last_run_timestamp_seconds{job="yb-drill",kind="drill.run"}`:      ts("2026-11-25 05:05:00"),
		`atrest_last_run_timestamp_seconds{job="yb-prod",kind="scan.db"}`:         ts("2026-11-25 06:10:00"),
		`atrest_last_run_timestamp_seconds{job="exports",kind="scan.files"}`:      ts("2026-11-25 07:00:00"),
		`atrest_config_last_reload_successful`:                                    0,
		`atrest_config_last_reload_timestamp_seconds`:                             0,
		`atrest_backup_last_success_timestamp_seconds{job="yb"}`:                  float64(at("2026-11-25 01:30:00").Unix()),
		`atrest_check_status{check="freshness",job="yb"}`:                         1,
		`atrest_check_status{check="object",job="yb"}`:                            1,
		`atrest_check_status{check="freshness",job="other"}`:                      0,
		`atrest_drill_last_success_timestamp_seconds{job="yb-drill"}`:             float64(at("2026-11-25 05:00:00").Unix()),
		`atrest_drill_rto_seconds{job="yb-drill"}`:                                41.25,
		`atrest_drill_rto_target_seconds{job="yb-drill"}`:                         1800,
		`atrest_drill_rto_met{job="yb-drill"}`:                                    1,
		`atrest_drill_rpo_seconds{job="yb-drill"}`:                                100000,
		`atrest_drill_rpo_target_seconds{job="yb-drill"}`:                         93600,
		`atrest_drill_rpo_met{job="yb-drill"}`:                                    0,
		`atrest_plaintext_columns{source="yb-prod"}`:                              4,
		`atrest_plaintext_findings{root="exports"}`:                               0,
		`atrest_journal_entries_total`:                                            12,
		`atrest_runs_total{kind="backup.run",outcome="ok"}`:                       1,
		`atrest_runs_total{kind="backup.run",outcome="fail"}`:                     1,
		`atrest_runs_total{kind="backup.check",outcome="fail"}`:                   1,
		`atrest_runs_total{kind="backup.check",outcome="ok"}`:                     2,
		`atrest_runs_total{kind="backup.check",outcome="error"}`:                  1,
		`atrest_runs_total{kind="drill.run",outcome="pass"}`:                      1,
		`atrest_runs_total{kind="drill.run",outcome="fail"}`:                      1,
		`atrest_runs_total{kind="scan.db",outcome="findings"}`:                    1,
		`atrest_runs_total{kind="scan.db",outcome="error"}`:                       1,
		`atrest_runs_total{kind="scan.files",outcome="ok"}`:                       1,
	}
	d := newDaemon(t, Options{Journal: openJournal(t, dir, clk.Now), Clock: clk})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	same(t, scrape(t, d.Handler()), want)

	// Entries another process appends later show at the next tick.
	add("2026-11-25 08:00:00", journal.Entry{Kind: KindScanFiles, Subject: "exports", Outcome: "findings",
		Figures: map[string]any{"findings": 7}})
	d.tick(clk.Now())
	want[`atrest_plaintext_findings{root="exports"}`] = 7
	want[`atrest_runs_total{kind="scan.files",outcome="findings"}`] = 1
	delete(want, `atrest_last_run_outcome{job="exports",kind="scan.files",outcome="ok"}`)
	want[`atrest_last_run_outcome{job="exports",kind="scan.files",outcome="findings"}`] = 1
	want[`atrest_last_run_timestamp_seconds{job="exports",kind="scan.files"}`] = ts("2026-11-25 08:00:00")
	want[`atrest_journal_entries_total`] = 13
	same(t, scrape(t, d.Handler()), want)
}

func same(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected series %s = %v", k, v)
		}
	}
}

func TestReloadKeepsOldJobsOnError(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 12:00:00")}
	j := openJournal(t, "", clk.Now)
	nop := func(context.Context) (journal.Entry, error) { return journal.Entry{}, nil }
	old := []Job{{Name: "a", Kind: KindScanFiles, Schedule: "0 3 * * *", Run: nop},
		{Name: "b", Kind: KindScanDB, Schedule: "0 2 * * *", Run: nop}}
	var next []Job
	var loadErr error
	d := newDaemon(t, Options{Journal: j, Jobs: old, Clock: clk, ConfigPath: "/etc/atrest/atrest.yaml",
		Load: func() ([]Job, error) { return next, loadErr }})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	keptPlan := d.jobs[jobKey(KindScanFiles, "a")].plan

	loadErr = errors.New("/etc/atrest/atrest.yaml:7: unknown key scan_schedul")
	if err := d.Reload(); err == nil {
		t.Fatal("reload of a broken config succeeded")
	}
	next, loadErr = []Job{{Name: "a", Kind: KindScanFiles, Schedule: "61 * * * *", Run: nop}}, nil
	if err := d.Reload(); err == nil {
		t.Fatal("reload with a bad schedule succeeded")
	}
	if got := d.Jobs(); len(got) != 2 || got[0] != "scan.db b" || got[1] != "scan.files a" {
		t.Fatalf("jobs after failed reloads: %v", got)
	}
	clk.set(at("2026-11-25 12:30:00"))
	next = []Job{{Name: "a", Kind: KindScanFiles, Schedule: "0 3 * * *", Run: nop},
		{Name: "c", Kind: KindDrillRun, Schedule: "0 5 * * *", Run: nop}}
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := d.Jobs(); len(got) != 2 || got[0] != "drill.run c" || got[1] != "scan.files a" {
		t.Fatalf("jobs after reload: %v", got)
	}
	if p := d.jobs[jobKey(KindScanFiles, "a")].plan; p != keptPlan {
		t.Errorf("an unchanged job was replanned: %v, was %v", p, keptPlan)
	}
	es := ofKind(entries(t, j.Dir()), "config.reload")
	if len(es) != 3 {
		t.Fatalf("config.reload entries: %+v", es)
	}
	if es[0].Outcome != "error" || es[0].Detail != "/etc/atrest/atrest.yaml:7: unknown key scan_schedul" ||
		es[0].Subject != "/etc/atrest/atrest.yaml" {
		t.Errorf("first reload journaled as %+v", es[0])
	}
	if es[1].Outcome != "error" || !strings.Contains(es[1].Detail, `"61 * * * *"`) {
		t.Errorf("second reload journaled as %+v", es[1])
	}
	if e := es[2]; e.Outcome != "ok" || e.Figures["jobs"] != 2.0 || e.Figures["added"] != 1.0 || e.Figures["removed"] != 1.0 {
		t.Errorf("good reload journaled as %+v", e)
	}
}

// logBuffer is a concurrency-safe log that can wait for a line.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan string
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ch != nil {
		select {
		case l.ch <- string(p):
		default:
		}
	}
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

func TestShutdownCancelsRunsAfterGrace(t *testing.T) {
	j := openJournal(t, "", nil)
	started := make(chan struct{}, 1)
	job := Job{Name: "slow", Kind: KindScanDB, Schedule: "* * * * * *", Run: func(ctx context.Context) (journal.Entry, error) {
		started <- struct{}{}
		<-ctx.Done()
		return journal.Entry{Outcome: "error", Detail: "scan db: " + ctx.Err().Error()}, ctx.Err()
	}}
	log := &logBuffer{}
	d := newDaemon(t, Options{Journal: j, Jobs: []Job{job}, Heartbeat: 50 * time.Millisecond, Log: log, ConfigPath: "c.yaml"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	waitFor(t, started, "the run to start")
	cancel()
	if err := waitFor(t, done, "Run to return"); err != nil {
		t.Fatal(err)
	}
	es := entries(t, j.Dir())
	if es[0].Kind != "serve.start" || es[len(es)-1].Kind != "serve.stop" {
		t.Fatalf("journal does not open with serve.start and close with serve.stop: %+v", es)
	}
	runs := ofKind(es, KindScanDB)
	if len(runs) != 1 || runs[0].Outcome != "cancelled" || !strings.HasPrefix(runs[0].Detail, "cancelled at shutdown: scan db: context canceled") {
		t.Errorf("cancelled run journaled as %+v", runs)
	}
	stop := es[len(es)-1]
	if stop.Outcome != "ok" || stop.Figures["in_flight"] != 1.0 || stop.Figures["cancelled"] != true {
		t.Errorf("serve.stop %+v", stop)
	}
	if !strings.Contains(log.String(), "scan.db slow: cancelled") {
		t.Errorf("log lacks the run's line:\n%s", log)
	}
}

func TestShutdownLetsRunsFinishWithinGrace(t *testing.T) {
	j := openJournal(t, "", nil)
	started, release := make(chan struct{}, 1), make(chan struct{})
	job := Job{Name: "nightly", Kind: KindBackupRun, Schedule: "* * * * * *", Run: func(ctx context.Context) (journal.Entry, error) {
		started <- struct{}{}
		select {
		case <-release:
			return journal.Entry{Outcome: "ok"}, nil
		case <-ctx.Done():
			return journal.Entry{}, ctx.Err()
		}
	}}
	log := &logBuffer{ch: make(chan string, 100)}
	d := newDaemon(t, Options{Journal: j, Jobs: []Job{job}, Heartbeat: 50 * time.Millisecond, Log: log, Grace: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	waitFor(t, started, "the run to start")
	cancel()
	for line := ""; !strings.Contains(line, "stopping: 1 runs under way"); {
		line = waitFor(t, log.ch, "shutdown to begin")
	}
	close(release)
	if err := waitFor(t, done, "Run to return"); err != nil {
		t.Fatal(err)
	}
	es := entries(t, j.Dir())
	runs := ofKind(es, KindBackupRun)
	if len(runs) != 1 || runs[0].Outcome != "ok" {
		t.Errorf("run that finished in its grace journaled as %+v", runs)
	}
	if stop := es[len(es)-1]; stop.Kind != "serve.stop" || stop.Figures["cancelled"] != false {
		t.Errorf("last entry %+v", stop)
	}
}

func TestRunErrorsAndPanicsAreJournaledNotLogged(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 12:00:00")}
	j := openJournal(t, "", clk.Now)
	log := &logBuffer{}
	d := newDaemon(t, Options{Journal: j, Clock: clk, Log: log, Jobs: []Job{
		{Name: "exports", Kind: KindScanFiles, Schedule: "0 * * * * *", Run: func(context.Context) (journal.Entry, error) {
			return journal.Entry{}, errors.New("open /srv/exports/11010519491231002X.csv:\n permission denied")
		}},
		{Name: "boom", Kind: KindScanDB, Schedule: "0 * * * * *", Run: func(context.Context) (journal.Entry, error) {
			panic("nil map")
		}},
	}})
	d.prepare(clk.Now())
	clk.set(at("2026-11-25 12:01:00"))
	d.tick(clk.Now())
	d.wg.Wait()
	es := entries(t, j.Dir())
	if len(es) != 2 {
		t.Fatalf("journal %+v", es)
	}
	for _, e := range es {
		switch e.Kind {
		case KindScanFiles:
			if e.Outcome != "error" || e.Detail != "open /srv/exports/11010519491231002X.csv: permission denied" {
				t.Errorf("error run journaled as %+v", e)
			}
		case KindScanDB:
			if e.Outcome != "error" || e.Detail != "run panicked: nil map" {
				t.Errorf("panicked run journaled as %+v", e)
			}
		}
	}
	if out := log.String(); strings.Contains(out, "11010519491231002X") || strings.Contains(out, "/srv") ||
		!strings.Contains(out, "scan.files exports: error") || !strings.Contains(out, "scan.db boom: error") {
		t.Errorf("log:\n%s", out)
	}
	if d.running[jobKey(KindScanDB, "boom")] {
		t.Error("a panicked run still counts as running")
	}
}

func TestHealthz(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 12:00:00")}
	j := openJournal(t, "", clk.Now)
	d := newDaemon(t, Options{Journal: j, Clock: clk, Heartbeat: 30 * time.Second})
	d.prepare(clk.Now())
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if _, err := d.append(journal.Entry{Kind: "serve.start", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	if code, body := get(); code != 200 || body != "ok\nlast tick: 2026-11-25T12:00:00Z\n" {
		t.Errorf("healthy: %d %q", code, body)
	}
	clk.set(at("2026-11-25 12:05:00"))
	if code, body := get(); code != 503 || !strings.HasPrefix(body, "scheduler: no tick since 2026-11-25T12:00:00Z") {
		t.Errorf("stalled scheduler: %d %q", code, body)
	}
	d.tick(clk.Now())
	if code, _ := get(); code != 200 {
		t.Errorf("after a tick: %d", code)
	}
	// A crash during another process's append leaves a torn line: every
	// append fails from then on, and /healthz says so before a run finds out.
	seg := filepath.Join(j.Dir(), "segment-000001.jsonl")
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":2,"time":"2026-11-25T12:05:00Z","act`)
	f.Close()
	if code, body := get(); code != 503 || !strings.Contains(body, "torn") {
		t.Errorf("torn journal: %d %q", code, body)
	}
	if _, err := d.append(journal.Entry{Kind: "serve.stop", Outcome: "ok"}); err == nil {
		t.Fatal("append to a torn journal succeeded")
	}
	d.mu.Lock()
	appendErr := d.appendErr
	d.mu.Unlock()
	if appendErr == nil {
		t.Error("a failed append left no trace for /healthz")
	}
}
