package daemon

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/atrest/atrest/audit/journal"
)

// TestRunNowGoesThroughTheSchedulersPath: a run started from the dashboard
// is one run per job like a scheduled one, journals its entry with the web
// user, and a second request while it runs is journaled as skipped.
func TestRunNowGoesThroughTheSchedulersPath(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 12:00:00")}
	j := openJournal(t, "", clk.Now)
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	job := Job{Name: "yb-drill", Kind: KindDrillRun, Schedule: "0 5 * * *",
		Run: func(ctx context.Context) (journal.Entry, error) {
			started <- struct{}{}
			<-release
			return journal.Entry{Outcome: "ok", Figures: map[string]any{"rto_seconds": 41.2}}, nil
		}}
	d := newDaemon(t, Options{Journal: j, Jobs: []Job{job}, Clock: clk, Process: "atrest serve"})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := d.RunNow(KindDrillRun, "yb-drill", "root.admin"); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := d.RunNow(KindDrillRun, "yb-drill", "wang.wu"); !errors.Is(err, ErrBusy) {
		t.Errorf("second RunNow while running: %v, want ErrBusy", err)
	}
	if err := d.RunNow(KindBackupRun, "yb-drill", "root.admin"); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("RunNow of an unscheduled job: %v", err)
	}
	close(release)
	d.wg.Wait()
	es := entries(t, j.Dir())
	if len(es) != 2 {
		t.Fatalf("journal: %+v", es)
	}
	if e := es[0]; e.Outcome != "skipped" || e.Actor.WebUser != "wang.wu" || e.Subject != "yb-drill" {
		t.Errorf("skip entry: %+v", e)
	}
	if e := es[1]; e.Kind != KindDrillRun || e.Outcome != "ok" || e.Actor.WebUser != "root.admin" || e.Actor.Process != "atrest serve" {
		t.Errorf("run entry: %+v", e)
	}
	if m := scrape(t, d.Handler()); m[`atrest_drill_rto_seconds{job="yb-drill"}`] != 41.2 {
		t.Errorf("metrics: %v", m)
	}
	// Scheduled runs carry no web user.
	clk.set(at("2026-11-26 05:00:00"))
	d.tick(clk.Now())
	<-started
	d.wg.Wait()
	if es := entries(t, j.Dir()); es[len(es)-1].Actor.WebUser != "" {
		t.Errorf("scheduled run with a web user: %+v", es[len(es)-1])
	}
	// Once shutdown begins, nothing new starts.
	d.shutdown(nil)
	if err := d.RunNow(KindDrillRun, "yb-drill", "root.admin"); !errors.Is(err, ErrStopping) {
		t.Errorf("RunNow during shutdown: %v", err)
	}
}

// TestWebHandlerMounted: Options.Web gets every path but /healthz and
// /metrics, which stay the daemon's and unauthenticated.
func TestWebHandlerMounted(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 12:00:00")}
	j := openJournal(t, "", clk.Now)
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Web", "1")
		w.WriteHeader(http.StatusTeapot)
	})
	d := newDaemon(t, Options{Journal: j, Clock: clk, Web: web})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	h := d.Handler()
	for path, want := range map[string]int{"/": http.StatusTeapot, "/login": http.StatusTeapot,
		"/api/drills": http.StatusTeapot, "/healthz": 200, "/metrics": 200} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: headers %v", path, rec.Header())
		}
	}
}
