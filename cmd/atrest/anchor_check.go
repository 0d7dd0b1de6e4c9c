package main

import (
	"context"
	"fmt"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/internal/config"
)

// anchorCheck checks the posture of the journal anchor's bucket against
// journal.retention (check.Anchor) and returns its records and its journal
// entry: kind anchor.check, the bucket and this host's prefix as subject
// (as anchor.prune's), and a backup check's figures, from which the report
// judges whether lifecycle rules undercut the journal's retention.
func anchorCheck(ctx context.Context, cfg *config.Config) ([]check.Result, journal.Entry, error) {
	a := cfg.Journal.Anchor
	subject := a.Bucket + "/" + a.Prefix
	anchor, err := openAnchor(ctx, cfg)
	var res []check.Result
	if err == nil {
		subject = a.Bucket + "/" + anchor.Prefix
		res, err = check.Anchor(ctx, check.AnchorOptions{Store: anchor.Store, Prefix: anchor.Prefix, Retention: cfg.Journal.Retention})
	}
	if err != nil {
		err = fmt.Errorf("journal anchor %s: %s", subject, oneLine(err.Error()))
	}
	e := backupCheckEntry(check.AnchorJob, res, err, backupCheckOptions{})
	e.Kind, e.Subject = "anchor.check", subject
	delete(e.Figures, "read")
	return res, e, err
}
