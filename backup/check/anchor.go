package check

import (
	"context"
	"fmt"
	"time"

	"github.com/atrest/atrest/backup"
)

// AnchorJob is the job name of the anchor bucket's check records.
const AnchorJob = "journal-anchor"

// AnchorOptions say which bucket keeps the journal's checkpoint copies
// (journal.anchor) and for how long it must keep them (journal.retention).
type AnchorOptions struct {
	Store     backup.ObjectStore
	Prefix    string // where this host's copies are
	Retention time.Duration
	Now       time.Time // zero: time.Now()
}

// Anchor checks the anchor bucket's posture against the journal's
// retention, as Run checks a job's bucket against the job's: versioning,
// the object lock's default retention, and lifecycle rules that would
// expire checkpoint copies under Prefix before the retention is over
// (versitygw answers 501 to lifecycle: unsupported). The records carry
// AnchorJob as their job.
func Anchor(ctx context.Context, o AnchorOptions) ([]Result, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("check %s: no object store", AnchorJob)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	c := &checker{o: Options{Job: Job{Name: AnchorJob, Retention: o.Retention}, Store: o.Store, Now: o.Now}, ctx: ctx,
		keep: keptAnchor}
	p, err := o.Store.Posture(ctx)
	if err != nil {
		return nil, fmt.Errorf("check %s: %s", AnchorJob, oneLine(err))
	}
	days := retentionDays(o.Retention)
	c.versioning(p.Versioning)
	c.objectLock(p.ObjectLock, days)
	c.lifecycle(p.Lifecycle, o.Prefix, days)
	return c.out, nil
}
