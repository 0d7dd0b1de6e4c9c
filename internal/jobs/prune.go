package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/internal/config"
)

// Prune prunes one job and journals each deletion as it happens, then
// the prune itself with its counts (outcome error, and the error, when it
// stopped): the same for `backup prune` and for serve after a backup.
func Prune(ctx context.Context, cfg *config.Config, job *config.Backup, keys backup.Keys, record Recorder, dryRun bool) ([]backup.PruneItem, error) {
	items, err := pruneJobItems(ctx, cfg, job, keys, record, dryRun)
	e := pruneEntry(job.Name, items, err, dryRun)
	if jerr := record(e); jerr != nil && err == nil {
		err = fmt.Errorf("journal: %w", jerr)
	}
	return items, err
}

func pruneJobItems(ctx context.Context, cfg *config.Config, job *config.Backup, keys backup.Keys, record Recorder, dryRun bool) ([]backup.PruneItem, error) {
	drilled := func(oldest time.Time) (map[string]string, error) {
		// A day before the oldest backup's server time: the storage's
		// clock and this host's need not agree.
		key, seq, err := lastDrilledBackup(cfg, job.Name, oldest.Add(-24*time.Hour))
		if err != nil || key == "" {
			return nil, err
		}
		return map[string]string{key: fmt.Sprintf("restored by the newest passing drill (journal #%d)", seq)}, nil
	}
	store, err := OpenStore(ctx, cfg, job)
	if err != nil {
		return nil, fmt.Errorf("backup prune %s: %s", job.Name, oneLine(err.Error()))
	}
	items, err := backup.Prune(ctx, backup.PruneOptions{Store: store, Job: job.Name, Prefix: job.Prefix,
		Retention: job.Retention, KeepLast: job.KeepLast, KeepSince: drilled, Keys: keys, Now: time.Now(), DryRun: dryRun,
		Deleted: func(it backup.PruneItem) error {
			return record(journal.Entry{Kind: "backup.prune", Subject: job.Name, Outcome: "deleted",
				Detail:  "deleted " + it.Key + ": " + it.Reason,
				Figures: map[string]any{"bytes": it.Bytes, "age_seconds": it.AgeSec, "objects": len(it.Objects)}})
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

// PruneAnchor prunes the checkpoint copies in the journal's anchor bucket
// (this host's) by journal.retention, and journals one entry with the
// count: the copies repeat what the local journal holds.
func PruneAnchor(ctx context.Context, cfg *config.Config, record Recorder, dryRun bool) ([]backup.PruneItem, error) {
	a := cfg.Journal.Anchor
	anchor, err := OpenAnchor(ctx, cfg)
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
	if jerr := record(e); jerr != nil && err == nil {
		err = fmt.Errorf("journal: %w", jerr)
	}
	return items, err
}

// lastDrilledBackup finds, in the journal since the oldest backup left,
// the backup that the newest passing drill of job restored: a drill.run
// entry with outcome ok whose subject is job or one of its drills[], and
// whose detail names the backup ("backup <key>", as DrillEntry writes it).
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
