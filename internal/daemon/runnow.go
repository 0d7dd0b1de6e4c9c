package daemon

import (
	"errors"
	"fmt"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// Why RunNow did not start a run.
var (
	ErrUnknownJob = errors.New("daemon: no such scheduled job")
	ErrBusy       = errors.New("daemon: the job's previous run is still running")
	ErrStopping   = errors.New("daemon: shutting down")
)

// RunNow starts a run of the scheduled job kind/name at once, on behalf of
// webUser (a dashboard user, journaled as the run entry's actor.web_user).
// It goes through the scheduler's own path: one run per job at a time (a
// run already under way makes RunNow journal outcome "skipped", with the
// user, and return ErrBusy), the same settle and journal entry, and the
// run counts for shutdown's grace. It returns once the run has started;
// the outcome goes to the journal. The job's scheduled plan is unchanged.
func (d *Daemon) RunNow(kind, name, webUser string) error {
	k := jobKey(kind, name)
	d.mu.Lock()
	s := d.jobs[k]
	switch {
	case d.stopping:
		d.mu.Unlock()
		return ErrStopping
	case s == nil:
		d.mu.Unlock()
		return fmt.Errorf("%w: %s %s", ErrUnknownJob, kind, name)
	case d.running[k]:
		d.mu.Unlock()
		e, err := d.append(journal.Entry{Kind: kind, Subject: name, Outcome: "skipped",
			Detail: "previous run still running", Actor: journal.Actor{WebUser: webUser}})
		d.logRun(s.job, e, err, 0)
		return ErrBusy
	}
	d.running[k] = true
	d.wg.Add(1)
	go d.runJob(k, s.job, false, webUser, time.Time{})
	d.mu.Unlock()
	d.logf("%s %s: started by web user %s", kind, name, webUser)
	return nil
}
