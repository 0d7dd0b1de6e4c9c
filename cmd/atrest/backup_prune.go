package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/internal/config"
)

type backupPruneOptions struct {
	commonFlags
	job    string
	dryRun bool
}

func newBackupPruneCmd() *cobra.Command {
	var o backupPruneOptions
	cmd := &cobra.Command{
		Use:   "prune --config FILE [--job NAME] [--dry-run]",
		Short: "Delete whole backups older than the job's retention (every job without --job)",
		Long: `prune enforces each job's retention: a backup whose object was stored longer ago
than retention is deleted whole, its manifest first (without it the object is no
backup), then the object. It never deletes

  - one of the keep_last newest complete backups (default 3), so never the newest
    complete one, however old: a job whose backups have been failing keeps its last
    good ones;
  - the backup the newest passing drill of the job restored (the journal says which);
  - anything under object lock: the bucket's default retention counted from the
    object's time, or the object's own retention. atrest decides this itself, since a
    delete in a versioned bucket goes through a lock (it only adds a delete marker).
    Such a backup is listed as kept, with deletable_at.

Objects of the job without their other half (a run that died after the upload, a
manifest alone) are deleted too once expired: they are not backups. Jobs with format
mysqldump (another tool's dumps) are not pruned. Without --job, the checkpoint copies
in the journal's anchor bucket older than journal.retention go too (never the newest).
serve prunes a job after each of its backups, the same way.

It prints one prune record per expired backup (action deleted, would delete or kept,
with the reason) and a summary. Each deletion is journaled (kind backup.prune,
outcome deleted, the key in the detail), and each job's prune too (outcome ok, with
the counts). --dry-run lists and deletes nothing.

` + exitHelp,
		Example: `  atrest backup prune --config /etc/atrest/atrest.yaml --dry-run
  atrest backup prune --config atrest.yaml --job yb-nightly`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBackupPrune(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringVar(&o.format, "format", "", "output format: table, json or jsonl (default: table on a terminal, jsonl otherwise)")
	cmd.Flags().StringVar(&o.job, "job", "", "the backups[] job to prune (default: every job, and the journal's anchor)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "list what would be deleted; delete nothing")
	cmd.MarkFlagRequired("config")
	return cmd
}

// pruneSummary closes backup prune's output.
type pruneSummary struct {
	Record      string  `json:"record"` // always "summary"
	Jobs        int     `json:"jobs"`
	Deleted     int     `json:"deleted"`
	WouldDelete int     `json:"would_delete"`
	Kept        int     `json:"kept"` // expired, but kept (and why, in its record)
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
}

func runBackupPrune(cmd *cobra.Command, o backupPruneOptions) error {
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	jobs, err := selectJobs(cfg, "backup prune", o.job)
	if err != nil {
		return err
	}
	keys, err := manifestKeys(cfg)
	if err != nil {
		return fmt.Errorf("backup prune: %w (run atrest init --config %s)", err, cfg.Path)
	}
	j, err := openJournal(cfg)
	if err != nil {
		return fmt.Errorf("backup prune: %w", err)
	}
	defer j.Close()
	w, err := o.writer(cmd)
	if err != nil {
		return err
	}
	start := time.Now()
	sum := pruneSummary{Record: "summary"}
	var firstErr, writeErr error
	write := func(rec any) {
		if writeErr == nil {
			writeErr = w.Write(rec)
		}
	}
	tally := func(items []backup.PruneItem) {
		for _, it := range items {
			write(it)
			switch it.Action {
			case backup.PruneDeleted:
				sum.Deleted++
				sum.Bytes += it.Bytes
			case backup.PruneWouldDelete:
				sum.WouldDelete++
				sum.Bytes += it.Bytes
			default:
				sum.Kept++
			}
		}
	}
	for i := range jobs {
		job := &jobs[i]
		if job.Format != "atrest" {
			continue
		}
		sum.Jobs++
		items, err := pruneJob(cmd.Context(), cfg, job, keys, j, o.dryRun)
		tally(items)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if o.job == "" && cfg.Journal.Anchor != nil {
		items, err := pruneAnchor(cmd.Context(), cfg, j, o.dryRun)
		tally(items)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	write(sum)
	if cerr := w.Close(); writeErr == nil {
		writeErr = cerr
	}
	if err := j.Close(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("journal: %w", err)
	}
	if firstErr != nil {
		return firstErr
	}
	return writeErr
}

// appender takes journal entries: the CLI's journal, or serve's.
type appender interface {
	Append(journal.Entry) (journal.Entry, error)
}

// pruneJob prunes one job and journals each deletion as it happens, then
// the prune itself with its counts (outcome error, and the error, when it
// stopped): the same for `backup prune` and for serve after a backup.
func pruneJob(ctx context.Context, cfg *config.Config, job *config.Backup, keys backup.Keys, app appender, dryRun bool) ([]backup.PruneItem, error) {
	items, err := pruneJobItems(ctx, cfg, job, keys, app, dryRun)
	e := pruneEntry(job.Name, items, err, dryRun)
	if _, jerr := app.Append(e); jerr != nil && err == nil {
		err = fmt.Errorf("journal: %w", jerr)
	}
	return items, err
}

func pruneJobItems(ctx context.Context, cfg *config.Config, job *config.Backup, keys backup.Keys, app appender, dryRun bool) ([]backup.PruneItem, error) {
	drilled := func(oldest time.Time) (map[string]string, error) {
		// A day before the oldest backup's server time: the storage's
		// clock and this host's need not agree.
		key, seq, err := lastDrilledBackup(cfg, job.Name, oldest.Add(-24*time.Hour))
		if err != nil || key == "" {
			return nil, err
		}
		return map[string]string{key: fmt.Sprintf("restored by the newest passing drill (journal #%d)", seq)}, nil
	}
	store, err := openStore(ctx, cfg, job)
	if err != nil {
		return nil, fmt.Errorf("backup prune %s: %s", job.Name, oneLine(err.Error()))
	}
	items, err := backup.Prune(ctx, backup.PruneOptions{Store: store, Job: job.Name, Prefix: job.Prefix,
		Retention: job.Retention, KeepLast: job.KeepLast, KeepSince: drilled, Keys: keys, Now: time.Now(), DryRun: dryRun,
		Deleted: func(it backup.PruneItem) error {
			_, err := app.Append(journal.Entry{Kind: "backup.prune", Subject: job.Name, Outcome: "deleted",
				Detail:  "deleted " + it.Key + ": " + it.Reason,
				Figures: map[string]any{"bytes": it.Bytes, "age_seconds": it.AgeSec, "objects": len(it.Objects)}})
			return err
		}})
	if err != nil {
		err = fmt.Errorf("backup %s", oneLine(err.Error())) // Prune's errors begin "prune <job>:"
	}
	return items, err
}

// pruneEntry is the journal's account of one job's prune.
func pruneEntry(job string, items []backup.PruneItem, err error, dryRun bool) journal.Entry {
	counts := map[string]int{}
	var bytes int64
	var locked []string
	for _, it := range items {
		counts[it.Action]++
		if it.Action != backup.PruneKept {
			bytes += it.Bytes
		}
		if it.DeletableAt != nil {
			locked = append(locked, it.Key+" until "+it.DeletableAt.UTC().Format(time.RFC3339))
		}
	}
	e := journal.Entry{Kind: "backup.prune", Subject: job, Outcome: "ok", Figures: map[string]any{
		"deleted": counts[backup.PruneDeleted], "would_delete": counts[backup.PruneWouldDelete],
		"kept": counts[backup.PruneKept], "locked": len(locked), "bytes": bytes, "dry_run": dryRun}}
	var detail []string
	if len(locked) > 0 {
		detail = append(detail, fmt.Sprintf("%d expired under object lock, the first %s", len(locked), locked[0]))
	}
	if err != nil {
		e.Outcome = "error"
		detail = append(detail, oneLine(err.Error()))
	}
	e.Detail = strings.Join(detail, "; ")
	return e
}

// pruneAnchor prunes the checkpoint copies in the journal's anchor bucket
// (this host's) by journal.retention, and journals one entry with the
// count: the copies repeat what the local journal holds.
func pruneAnchor(ctx context.Context, cfg *config.Config, app appender, dryRun bool) ([]backup.PruneItem, error) {
	a := cfg.Journal.Anchor
	anchor, err := openAnchor(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("prune journal anchor: %s", oneLine(err.Error()))
	}
	items, err := anchor.Prune(ctx, backup.AnchorPruneOptions{Retention: cfg.Journal.Retention, Now: time.Now(), DryRun: dryRun})
	var deleted []string
	kept := 0
	for _, it := range items {
		if it.Action == backup.PruneKept {
			kept++
		} else {
			deleted = append(deleted, it.Key)
		}
	}
	e := journal.Entry{Kind: "anchor.prune", Subject: a.Bucket + "/" + anchor.Prefix, Outcome: "ok",
		Figures: map[string]any{"deleted": len(deleted), "kept": kept, "dry_run": dryRun}}
	if len(deleted) > 0 {
		verb := "deleted"
		if dryRun {
			verb = "would delete"
		}
		e.Detail = fmt.Sprintf("%s %d checkpoint copies older than %s: %s .. %s", verb, len(deleted),
			backup.HumanDuration(cfg.Journal.Retention), deleted[0], deleted[len(deleted)-1])
	}
	if err != nil {
		e.Outcome, e.Detail = "error", strings.TrimPrefix(e.Detail+"; ", "; ")+oneLine(err.Error())
	}
	if _, jerr := app.Append(e); jerr != nil && err == nil {
		err = fmt.Errorf("journal: %w", jerr)
	}
	return items, err
}

// lastDrilledBackup finds, in the journal since the oldest backup left,
// the backup that the newest passing drill of job restored: a drill.run
// entry with outcome ok whose subject is job or one of its drills[], and
// whose detail names the backup ("backup <key>", as drillEntry writes it).
// "" if none passed. It reads the journal backwards from the end and no
// further back than since.
func lastDrilledBackup(cfg *config.Config, job string, since time.Time) (key string, seq int, err error) {
	subjects := map[string]bool{job: true}
	for _, d := range cfg.Drills {
		if d.Backup == job {
			subjects[d.Name] = true
		}
	}
	for e, err := range journal.Newest(cfg.JournalDir(), journal.Filter{Kind: "drill.run", Since: since}) {
		if err != nil {
			var p *journal.Problem
			if errors.As(err, &p) {
				continue // a bad line is verify's business; the drills around it still count
			}
			return "", 0, err
		}
		if !subjects[e.Subject] || (e.Outcome != "ok" && e.Outcome != "pass") {
			continue
		}
		if k := drilledKey(e.Detail); k != "" {
			return k, e.Seq, nil
		}
	}
	return "", 0, nil
}

// drilledKey reads the backup key out of a drill entry's detail.
func drilledKey(detail string) string {
	for _, part := range strings.Split(detail, "; ") {
		if k, ok := strings.CutPrefix(part, "backup "); ok {
			return k
		}
	}
	return ""
}
