package daemon

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/atrest/atrest/internal/config"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.999", s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustSchedule(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	s, err := config.ParseSchedule(spec)
	if err != nil {
		t.Fatalf("%q: %v", spec, err)
	}
	return s
}

func TestNextPlan(t *testing.T) {
	for _, c := range []struct {
		spec      string
		prev, now string
		want      string // "" = never
	}{
		{"*/1 * * * * *", "2026-11-25 12:00:00.5", "2026-11-25 12:00:00.5", "2026-11-25 12:00:01"},
		{"* * * * * *", "2026-11-25 12:00:00", "2026-11-25 12:00:00.3", "2026-11-25 12:00:01"},
		// A tick a little late still gets the next fire, not the one after.
		{"* * * * * *", "2026-11-25 12:00:00", "2026-11-25 12:00:01.4", "2026-11-25 12:00:01"},
		{"0 5 * * *", "2026-11-25 04:59:59", "2026-11-25 04:59:59", "2026-11-25 05:00:00"},
		{"0 5 * * *", "2026-11-25 05:00:00", "2026-11-25 05:00:00.2", "2026-11-26 05:00:00"},
		{"30 1 * * *", "2026-12-31 02:00:00", "2026-12-31 02:00:00", "2027-01-01 01:30:00"},
		// Fires missed while asleep are coalesced into the next one from now.
		{"*/10 * * * * *", "2026-11-25 12:00:00", "2026-11-25 12:01:05", "2026-11-25 12:01:10"},
		{"0 5 * * *", "2026-11-20 05:00:00", "2026-11-25 09:00:00", "2026-11-26 05:00:00"},
		{"@every 90s", "2026-11-25 12:00:00", "2026-11-25 12:00:00", "2026-11-25 12:01:30"},
		{"0 0 30 2 *", "2026-11-25 12:00:00", "2026-11-25 12:00:00", ""},
	} {
		p := nextPlan(mustSchedule(t, c.spec), at(c.prev), at(c.now), 0, nil)
		var want time.Time
		if c.want != "" {
			want = at(c.want)
		}
		if !p.fire.Equal(want) || !p.at.Equal(want) {
			t.Errorf("%q prev %s now %s: fire %v at %v, want %v", c.spec, c.prev, c.now, p.fire, p.at, want)
		}
	}
}

func TestJitterBounds(t *testing.T) {
	for _, c := range []struct {
		spec      string
		max, want time.Duration // want: the limit jitter draws below
	}{
		{"0 5 * * *", 30 * time.Second, 30 * time.Second},
		{"0 * * * * *", 30 * time.Second, 30 * time.Second},
		{"*/20 * * * * *", 30 * time.Second, 10 * time.Second}, // half the period
		{"* * * * * *", 30 * time.Second, 500 * time.Millisecond},
		{"0 5 * * *", 0, 0},
	} {
		s := mustSchedule(t, c.spec)
		fire := s.Next(at("2026-11-25 12:00:00"))
		var gotLimit time.Duration
		spy := func(limit time.Duration) time.Duration { gotLimit = limit; return limit - 1 }
		if d := jitter(s, fire, c.max, spy); gotLimit != c.want || (c.want > 0 && d != c.want-1) || (c.want == 0 && d != 0) {
			t.Errorf("%q max %s: drew %s below %s, want below %s", c.spec, c.max, d, gotLimit, c.want)
		}
		var hi time.Duration
		for range 2000 {
			d := jitter(s, fire, c.max, nil)
			if d < 0 || (c.want == 0 && d != 0) || (c.want > 0 && d >= c.want) {
				t.Fatalf("%q max %s: jitter %s outside [0, %s)", c.spec, c.max, d, c.want)
			}
			hi = max(hi, d)
		}
		if c.want > 0 && hi < c.want/2 {
			t.Errorf("%q max %s: 2000 draws all below %s: not spread over [0, %s)", c.spec, c.max, c.want/2, c.want)
		}
		// The plan carries the jitter; the fire time does not.
		p := nextPlan(s, fire, fire, c.max, spy)
		if c.want > 0 && p.at.Sub(p.fire) != c.want-1 {
			t.Errorf("%q: plan at %v fire %v, want %s apart", c.spec, p.at, p.fire, c.want-1)
		}
	}
	// A broken source cannot push a run out of its window.
	s := mustSchedule(t, "0 5 * * *")
	for _, bad := range []time.Duration{-time.Second, 30 * time.Second, time.Hour} {
		if d := jitter(s, at("2026-11-25 05:00:00"), 30*time.Second, func(time.Duration) time.Duration { return bad }); d != 0 {
			t.Errorf("source returning %s: jitter %s, want 0", bad, d)
		}
	}
}

func TestPrevFire(t *testing.T) {
	for _, c := range []struct {
		spec, now, want string
	}{
		{"0 5 * * *", "2026-11-25 06:00:00", "2026-11-25 05:00:00"},
		{"0 5 * * *", "2026-11-25 04:00:00", "2026-11-24 05:00:00"},
		{"0 5 * * *", "2026-11-25 05:00:00", "2026-11-25 05:00:00"},
		{"*/1 * * * * *", "2026-11-25 12:00:00.5", "2026-11-25 12:00:00"},
		{"0 5 * * 1", "2026-11-25 06:00:00", "2026-11-23 05:00:00"}, // Mondays; the 25th is a Wednesday
		{"0 0 1 1 *", "2026-11-25 06:00:00", "2026-01-01 00:00:00"},
		{"0 0 29 2 *", "2026-11-25 06:00:00", "2024-02-29 00:00:00"},
		{"0 0 30 2 *", "2026-11-25 06:00:00", ""},
	} {
		got := prevFire(mustSchedule(t, c.spec), at(c.now))
		var want time.Time
		if c.want != "" {
			want = at(c.want)
		}
		if !got.Equal(want) {
			t.Errorf("%q at %s: previous fire %v, want %v", c.spec, c.now, got, want)
		}
	}
}

func TestNeedsCatchUp(t *testing.T) {
	for _, c := range []struct {
		spec, last, now string // last "" = never ran
		want            bool
	}{
		{"0 5 * * *", "2026-11-25 05:10:00", "2026-11-25 09:00:00", false}, // ran after today's fire
		{"0 5 * * *", "2026-11-24 05:10:00", "2026-11-25 09:00:00", true},  // today's was missed
		{"0 5 * * *", "2026-11-24 05:10:00", "2026-11-25 04:00:00", false}, // today's is not due yet
		{"0 5 * * *", "2026-11-25 05:00:00", "2026-11-25 09:00:00", false}, // journaled at the fire itself
		{"0 5 * * *", "", "2026-11-25 09:00:00", true},                     // never ran
		{"0 5 * * 1", "2026-11-23 05:30:00", "2026-11-29 23:00:00", false}, // weekly, done this week
		{"0 5 * * 1", "2026-11-16 05:30:00", "2026-11-25 23:00:00", true},
		{"0 0 30 2 *", "", "2026-11-25 09:00:00", false}, // never fires
	} {
		var last time.Time
		if c.last != "" {
			last = at(c.last)
		}
		if got := needsCatchUp(mustSchedule(t, c.spec), last, at(c.now)); got != c.want {
			t.Errorf("%q last %q now %s: catch up %v, want %v", c.spec, c.last, c.now, got, c.want)
		}
	}
}
