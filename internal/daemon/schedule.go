package daemon

import (
	"math/rand/v2"
	"time"

	"github.com/robfig/cron/v3"
)

// Clock is the daemon's source of time. The scheduler never reads the wall
// clock itself, so next-run, jitter and catch-up decisions are pure functions
// of the times a test hands in.
type Clock interface {
	Now() time.Time
	// After is time.After on this clock.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// plan is when a job next fires and when, after jitter, it is triggered.
type plan struct {
	fire time.Time // the schedule's own time
	at   time.Time // fire + jitter: when the run is triggered
}

// nextPlan returns the plan after the fire time prev, as seen at now.
// Fires that fell wholly into the past (a suspended machine, a clock step)
// are coalesced into one: a job is triggered at most once per tick, never
// in a burst to make up for lost time.
func nextPlan(s cron.Schedule, prev, now time.Time, maxJitter time.Duration, rnd func(time.Duration) time.Duration) plan {
	fire := s.Next(prev)
	if !fire.IsZero() && fire.Before(now.Add(-time.Second)) {
		fire = s.Next(now.Add(-time.Second))
	}
	if fire.IsZero() { // no fire in the next five years (e.g. 30 February)
		return plan{}
	}
	return plan{fire: fire, at: fire.Add(jitter(s, fire, maxJitter, rnd))}
}

// jitter draws a delay in [0, limit) where limit is maxJitter, capped at half
// the gap to the following fire so that jitter spreads load without ever
// pushing a run past its next turn (a per-second schedule gets at most half
// a second).
func jitter(s cron.Schedule, fire time.Time, maxJitter time.Duration, rnd func(time.Duration) time.Duration) time.Duration {
	if maxJitter <= 0 {
		return 0
	}
	limit := maxJitter
	if after := s.Next(fire); !after.IsZero() {
		if half := after.Sub(fire) / 2; half < limit {
			limit = half
		}
	}
	if limit <= 0 {
		return 0
	}
	if rnd == nil {
		rnd = uniform
	}
	d := rnd(limit)
	if d < 0 || d >= limit { // a bad injected source must not stall a job
		d = 0
	}
	return d
}

func uniform(limit time.Duration) time.Duration { return rand.N(limit) }

// prevFire returns the latest fire time of s at or before now, or the zero
// time if there is none within about five years (cron's own horizon). The
// search window doubles from one second, so a frequent schedule costs a few
// steps and a yearly one a few dozen.
func prevFire(s cron.Schedule, now time.Time) time.Time {
	const horizon = 5 * 366 * 24 * time.Hour
	for w := time.Second; w <= 2*horizon; w *= 2 {
		t := s.Next(now.Add(-w))
		if t.IsZero() || t.After(now) {
			continue
		}
		for {
			n := s.Next(t)
			if n.IsZero() || n.After(now) {
				return t
			}
			t = n
		}
	}
	return time.Time{}
}

// needsCatchUp reports whether a job whose last run was journaled at last
// missed its most recent fire time before now (a drill due while the daemon
// was down). A job that never ran and has fired at least once is overdue.
func needsCatchUp(s cron.Schedule, last, now time.Time) bool {
	prev := prevFire(s, now)
	return !prev.IsZero() && last.Before(prev)
}
