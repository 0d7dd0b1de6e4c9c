package web

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// verifyCache runs journal verification in the background at most once per
// period: Verify reads every entry and every checkpoint, too much for each
// page view. A page shows the newest finished result and when it was made.
type verifyCache struct {
	fn    func(context.Context) (journal.Report, error)
	every time.Duration
	now   func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running bool
	done    bool // a result is there
	at      time.Time
	rep     journal.Report
	err     error
}

// verifyStatus is what the pages and the API show.
type verifyStatus struct {
	State      string    `json:"state"` // ok, broken, error, pending, off
	At         time.Time `json:"checked_at,omitzero"`
	Entries    int       `json:"entries_verified"`
	Unsigned   int       `json:"entries_unsigned"`
	Checkpoint *ckpt     `json:"newest_checkpoint,omitempty"`
	Anchored   *ckpt     `json:"anchored_checkpoint,omitempty"`
	Problem    string    `json:"problem,omitempty"`
	ProblemSeq int       `json:"problem_seq,omitempty"`
}

type ckpt struct {
	Size int       `json:"size"`
	Time time.Time `json:"time"`
}

func newVerifyCache(fn func(context.Context) (journal.Report, error), every time.Duration, now func() time.Time) *verifyCache {
	c := &verifyCache{fn: fn, every: every, now: now}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// status returns the last result and starts a new verification if there is
// none yet or it is older than the period.
func (c *verifyCache) status() verifyStatus {
	if c.fn == nil {
		return verifyStatus{State: "off"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running && c.ctx.Err() == nil && (!c.done || c.now().Sub(c.at) >= c.every) {
		c.running = true
		c.wg.Add(1)
		go c.run()
	}
	if !c.done {
		return verifyStatus{State: "pending"}
	}
	return statusOf(c.at, c.rep, c.err)
}

func statusOf(at time.Time, rep journal.Report, err error) verifyStatus {
	st := verifyStatus{State: "ok", At: at, Entries: rep.Entries, Unsigned: rep.Unsigned()}
	if cp := rep.NewestCheckpoint; cp != nil {
		st.Checkpoint = &ckpt{Size: cp.Size, Time: cp.Time}
	}
	if cp := rep.Anchored; cp != nil {
		st.Anchored = &ckpt{Size: cp.Size, Time: cp.Time}
	}
	var p *journal.Problem
	switch {
	case errors.As(err, &p):
		st.State, st.Problem, st.ProblemSeq = "broken", p.Error(), p.Seq
	case err != nil && rep.FirstBad != nil:
		st.State, st.Problem, st.ProblemSeq = "broken", oneLine(err.Error()), rep.FirstBad.Seq
	case errors.Is(err, journal.ErrBroken):
		st.State, st.Problem = "broken", oneLine(err.Error())
	case err != nil:
		st.State, st.Problem = "error", oneLine(err.Error())
	}
	return st
}

// check verifies the journal now, for an auditor who asked, and keeps the
// result for the pages as a background run would.
func (c *verifyCache) check(ctx context.Context) verifyStatus {
	if c.fn == nil {
		return verifyStatus{State: "off"}
	}
	rep, err := c.fn(ctx)
	at := c.now()
	if ctx.Err() == nil {
		c.mu.Lock()
		if at.After(c.at) {
			c.done, c.at, c.rep, c.err = true, at, rep, err
		}
		c.mu.Unlock()
	}
	return statusOf(at, rep, err)
}

func (c *verifyCache) run() {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Minute)
	rep, err := c.fn(ctx)
	cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = false
	if c.ctx.Err() != nil {
		return
	}
	c.done, c.at, c.rep, c.err = true, c.now(), rep, err
}

// close stops a verification under way and waits for it.
func (c *verifyCache) close() {
	c.cancel()
	c.wg.Wait()
}
