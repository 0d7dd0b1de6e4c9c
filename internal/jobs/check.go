package jobs

import (
	"context"
	"fmt"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine/pick"
	"github.com/atrest/atrest/internal/config"
)

// CheckOptions are a check run's choices beyond the job's config.
type CheckOptions struct {
	Read    bool // download and verify the newest backup (--read)
	ReadAll bool // ... every backup (--read-all)
	Canary  bool // write, read back and delete a canary object (--canary)
	// Record journals the backups found in the bucket that no run
	// recorded, before the check's own entry.
	Record Recorder
}

// Check checks one job; the error (one line, naming the job) is for a
// job that could not be checked.
func Check(ctx context.Context, cfg *config.Config, job *config.Backup, o CheckOptions, given []suite.Identity, keys backup.Keys) ([]check.Result, error) {
	var pre []check.Result
	id := given
	if id == nil && (o.Read || o.ReadAll) {
		// The drill's identity, when a drill of this job has one: the key
		// that a restore would use is the one worth proving.
		for _, d := range cfg.Drills {
			if d.Backup != job.Name || d.IdentityFile == "" {
				continue
			}
			var err error
			if id, err = LoadIdentity(d.IdentityFile); err != nil {
				pre = append(pre, check.Result{Record: "check", Job: job.Name, Check: check.Integrity, Status: check.Warn,
					Detail: fmt.Sprintf("drill %s's identity could not be read (%v): reading without it", d.Name, err)})
			}
			break
		}
	}
	store, err := OpenStore(ctx, cfg, job)
	if err != nil {
		return pre, fmt.Errorf("backup check %s: %s", job.Name, oneLine(err.Error()))
	}
	// Backups in the bucket that no run's end recorded are journaled as
	// found first. Its errors need no second report: a listing that fails
	// fails the checks below, and a journal that cannot take the entries
	// cannot take the check's own.
	Reconcile(ctx, cfg, job, store, keys, o.Record)
	dumps, _ := pick.Format(job.Format) // nil for atrest's own
	res, err := check.Run(ctx, check.Options{
		Job: check.Job{Name: job.Name, Prefix: job.Prefix, Suite: job.Suite, RPO: job.RPO, Retention: job.Retention,
			Format: job.Format, KeyPattern: job.KeyPattern, Engine: dumps},
		Store: store, Read: o.Read || o.ReadAll, ReadAll: o.ReadAll, Identities: id,
		Keys: keys, Canary: o.Canary,
	})
	if err != nil {
		// check's errors begin "check <job>:".
		err = fmt.Errorf("backup %s", oneLine(err.Error()))
	}
	return append(pre, res...), err
}

// CheckEntry is the journal's account of one job's checks: counts by
// status, and figures.checks (check name → 1 pass, 0 fail), which the daemon's
// atrest_check_status metric reads.
func CheckEntry(job string, res []check.Result, err error, o CheckOptions) journal.Entry {
	counts := map[check.Status]int{}
	for _, r := range res {
		counts[r.Status]++
	}
	e := journal.Entry{Kind: "backup.check", Subject: job, Outcome: "ok", Figures: map[string]any{
		"pass": counts[check.Pass], "fail": counts[check.Fail], "warn": counts[check.Warn],
		"unsupported": counts[check.Unsupported], "read": o.Read || o.ReadAll}}
	if len(res) > 0 {
		verdicts, unjudged := checkVerdicts(res)
		e.Figures["checks"] = verdicts
		if len(unjudged) > 0 {
			e.Figures["checks_unjudged"] = unjudged
		}
		// Which of them the server does not implement (lifecycle on
		// versitygw, say): the pages and the report show "unsupported"
		// rather than nothing.
		unsupported := map[string]any{}
		for _, r := range res {
			if _, ok := unjudged[r.Check]; ok && r.Status == check.Unsupported {
				unsupported[r.Check] = 1
			}
		}
		if len(unsupported) > 0 {
			e.Figures["checks_unsupported"] = unsupported
		}
	}
	switch {
	case err != nil:
		e.Outcome, e.Detail = "error", oneLine(err.Error())
	case counts[check.Fail] > 0:
		e.Outcome = "fail"
	}
	return e
}

// checkVerdicts is the figures.checks shape that atrest_check_status reads
// (internal/daemon/metrics.go): check name → 1 (pass) or 0 (fail), 0 if any
// record of that check failed (one per object, say). A check that only
// warned or is unsupported is neither a pass nor a fail: it goes in
// unjudged (figures.checks_unjudged, name → 1), so that the metric drops a
// verdict this check no longer supports, while a check that was not run at
// all (integrity without --read) keeps its last one.
func checkVerdicts(res []check.Result) (verdicts, unjudged map[string]any) {
	verdicts, unjudged = map[string]any{}, map[string]any{}
	for _, r := range res {
		switch r.Status {
		case check.Fail:
			verdicts[r.Check] = 0
		case check.Pass:
			if _, seen := verdicts[r.Check]; !seen {
				verdicts[r.Check] = 1
			}
		}
	}
	for _, r := range res {
		if _, judged := verdicts[r.Check]; !judged {
			unjudged[r.Check] = 1
		}
	}
	return verdicts, unjudged
}

// AnchorCheck checks the posture of the journal anchor's bucket against
// journal.retention (check.Anchor) and returns its records and its journal
// entry: kind anchor.check, the bucket and this host's prefix as subject
// (as anchor.prune's), and a backup check's figures, from which the report
// judges whether lifecycle rules undercut the journal's retention.
func AnchorCheck(ctx context.Context, cfg *config.Config) ([]check.Result, journal.Entry, error) {
	a := cfg.Journal.Anchor
	subject := a.Bucket + "/" + a.Prefix
	anchor, err := OpenAnchor(ctx, cfg)
	var res []check.Result
	if err == nil {
		subject = a.Bucket + "/" + anchor.Prefix
		res, err = check.Anchor(ctx, check.AnchorOptions{Store: anchor.Store, Prefix: anchor.Prefix, Retention: cfg.Journal.Retention})
	}
	if err != nil {
		err = fmt.Errorf("journal anchor %s: %s", subject, oneLine(err.Error()))
	}
	e := CheckEntry(check.AnchorJob, res, err, CheckOptions{})
	e.Kind, e.Subject = "anchor.check", subject
	delete(e.Figures, "read")
	return res, e, err
}
