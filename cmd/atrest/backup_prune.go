package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
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
	selected, err := selectJobs(cfg, "backup prune", o.job)
	if err != nil {
		return err
	}
	keys, err := jobs.ManifestKeys(cfg)
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
	for i := range selected {
		job := &selected[i]
		if job.Format != "atrest" {
			continue
		}
		sum.Jobs++
		items, err := jobs.Prune(cmd.Context(), cfg, job, keys, jobs.AppendTo(j), o.dryRun)
		tally(items)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if o.job == "" && cfg.Journal.Anchor != nil {
		items, err := jobs.PruneAnchor(cmd.Context(), cfg, jobs.AppendTo(j), o.dryRun)
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
