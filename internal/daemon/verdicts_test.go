package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/atrest/atrest/audit/journal"
)

// A corruption found by a reading check must stay visible: the plain
// checks that follow do not measure integrity, so they leave its series
// (and its time) alone until another read replaces it.
func TestReadVerdictStaysAcrossPlainChecks(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 01:00:00")}
	dir := filepath.Join(t.TempDir(), "journal")
	cli := openJournal(t, dir, clk.Now)
	add := func(when string, checks map[string]any, read bool) {
		t.Helper()
		clk.set(at(when))
		outcome := "ok"
		for _, v := range checks {
			if v == 0 {
				outcome = "fail"
			}
		}
		if _, err := cli.Append(journal.Entry{Kind: KindBackupCheck, Subject: "yb", Outcome: outcome,
			Figures: map[string]any{"checks": checks, "read": read}}); err != nil {
			t.Fatal(err)
		}
	}
	d := newDaemon(t, Options{Journal: openJournal(t, dir, clk.Now), Clock: clk})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	add("2026-11-25 02:00:00", map[string]any{"freshness": 1, "integrity": 0}, true)
	for i, when := range []string{"2026-11-25 02:00:10", "2026-11-25 02:00:20", "2026-11-25 03:00:00"} {
		add(when, map[string]any{"freshness": 1, "object": 1}, false)
		d.tick(clk.Now())
		m := scrape(t, d.Handler())
		if v, ok := m[`atrest_check_status{check="integrity",job="yb"}`]; !ok || v != 0 {
			t.Fatalf("after plain check %d: integrity = %v (present %v), want the read's 0", i+1, v, ok)
		}
		if v := m[`atrest_check_timestamp_seconds{check="integrity",job="yb"}`]; v != float64(at("2026-11-25 02:00:00").Unix()) {
			t.Errorf("integrity's time = %v, want the read's", v)
		}
		if v := m[`atrest_check_timestamp_seconds{check="object",job="yb"}`]; v != float64(at(when).Unix()) {
			t.Errorf("object's time = %v, want %s", v, when)
		}
	}
	// The next read replaces it; and a restart rebuilds the same.
	add("2026-11-25 04:00:00", map[string]any{"freshness": 1, "integrity": 1}, true)
	d.tick(clk.Now())
	if v := scrape(t, d.Handler())[`atrest_check_status{check="integrity",job="yb"}`]; v != 1 {
		t.Errorf("after a passing read: integrity = %v", v)
	}
	d2 := newDaemon(t, Options{Journal: openJournal(t, dir, clk.Now), Clock: clk})
	if _, err := d2.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	same(t, scrape(t, d2.Handler()), scrape(t, d.Handler()))
}

// A fresh installation has no backup yet: its check and drill wait for the
// job's first backup run instead of failing on an empty bucket, and say so.
func TestFreshInstallWaitsForFirstBackup(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 09:00:00")}
	j := openJournal(t, "", clk.Now)
	var mu sync.Mutex
	ran := map[string]int{}
	job := func(kind, name, schedule string, needs *Ref) Job {
		return Job{Name: name, Kind: kind, Schedule: schedule, Needs: needs, Run: func(context.Context) (journal.Entry, error) {
			mu.Lock()
			ran[kind]++
			mu.Unlock()
			return journal.Entry{Outcome: "ok"}, nil
		}}
	}
	first := &Ref{Kind: KindBackupRun, Name: "yb"}
	d := newDaemon(t, Options{Journal: j, Clock: clk, Jobs: []Job{
		job(KindBackupRun, "yb", "0 30 9 * * *", nil),
		job(KindBackupCheck, "yb", "0 10 9 * * *", first),
		job(KindDrillRun, "yb-drill", "0 0 5 * * *", first), // missed at 05:00: due for catch-up
	}})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	d.catchUp(clk.Now())
	clk.set(at("2026-11-25 09:10:00"))
	d.tick(clk.Now())
	d.wg.Wait()
	if len(ran) != 0 {
		t.Fatalf("ran before the first backup: %v", ran)
	}
	es := entries(t, j.Dir())
	skips := ofKind(es, KindBackupCheck)
	if len(skips) != 1 || skips[0].Outcome != "skipped" || !strings.Contains(skips[0].Detail, "waiting for the first backup.run yb") {
		t.Fatalf("check before the first backup: %+v", skips)
	}
	if n := len(ofKind(es, KindDrillRun)); n != 0 {
		t.Fatalf("drill caught up on an empty bucket: %d entries", n)
	}
	clk.set(at("2026-11-25 09:30:00"))
	d.tick(clk.Now())
	d.wg.Wait()
	clk.set(at("2026-11-26 09:10:00"))
	d.tick(clk.Now())
	d.wg.Wait()
	if ran[KindBackupRun] != 1 || ran[KindBackupCheck] != 1 {
		t.Fatalf("after the first backup: %v", ran)
	}
	// A scheduled run says how late it started after its planned time.
	for _, e := range ofKind(entries(t, j.Dir()), KindBackupRun) {
		if v, ok := journal.Number(e.Figures["start_delay_seconds"]); !ok || v != 0 {
			t.Errorf("backup.run start_delay_seconds = %v (%v)", e.Figures["start_delay_seconds"], ok)
		}
	}
}

// After runs once the run's entry is in the journal, as part of the run.
func TestAfterRunsOnceTheEntryIsJournaled(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 09:00:00")}
	j := openJournal(t, "", clk.Now)
	var seen []journal.Entry
	job := Job{Name: "yb", Kind: KindBackupRun, Schedule: "0 30 9 * * *",
		Run: func(context.Context) (journal.Entry, error) { return journal.Entry{Outcome: "ok"}, nil },
		After: func(ctx context.Context, e journal.Entry) {
			seen = append(seen, e)
			if _, err := j.Append(journal.Entry{Kind: "backup.prune", Subject: "yb", Outcome: "ok"}); err != nil {
				t.Error(err)
			}
			panic("an After that panics must not take the daemon down")
		}}
	d := newDaemon(t, Options{Journal: j, Clock: clk, Jobs: []Job{job}})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.set(at("2026-11-25 09:30:00"))
	d.tick(clk.Now())
	d.wg.Wait()
	es := entries(t, j.Dir())
	if len(seen) != 1 || seen[0].Seq == 0 || seen[0].Kind != KindBackupRun {
		t.Fatalf("After saw %+v", seen)
	}
	if n := len(es); n < 2 || es[n-2].Kind != KindBackupRun || es[n-1].Kind != "backup.prune" {
		t.Fatalf("journal order: %+v", es)
	}
	if d.running[job.key()] {
		t.Error("job still marked running")
	}
}

// A refused reload shows in /metrics until a good one (or a restart).
func TestReloadMetrics(t *testing.T) {
	clk := &fakeClock{now: at("2026-11-25 09:00:00")}
	j := openJournal(t, "", clk.Now)
	good := true
	d := newDaemon(t, Options{Journal: j, Clock: clk, Load: func() ([]Job, error) {
		if !good {
			return nil, errBadConfig
		}
		return nil, nil
	}})
	if _, err := d.prepare(clk.Now()); err != nil {
		t.Fatal(err)
	}
	good = false
	clk.set(at("2026-11-25 09:05:00"))
	d.Reload()
	m := scrape(t, d.Handler())
	if m[`atrest_config_last_reload_successful`] != 0 || m[`atrest_config_last_reload_timestamp_seconds`] != float64(at("2026-11-25 09:05:00").Unix()) {
		t.Fatalf("after a refused reload: %v", m)
	}
	good = true
	clk.set(at("2026-11-25 09:06:00"))
	d.Reload()
	if m := scrape(t, d.Handler()); m[`atrest_config_last_reload_successful`] != 1 {
		t.Fatalf("after a good reload: %v", m)
	}
}

var errBadConfig = errors.New("c.yaml:3: bad")
