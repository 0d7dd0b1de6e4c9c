package jobs

import (
	"context"
	"fmt"

	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/audit/filescan"
	"github.com/atrest/atrest/audit/filesrc"
	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto"
)

// FileScan is what one file scan covers: configured roots (Subject their
// names) or paths given by hand (Subject the paths).
type FileScan struct {
	Subject  string
	Paths    []string
	Exclude  []string
	Workers  int
	MaxDepth int
	OneFS    bool
	// Examples bounds the findings listed per type and file (0: all).
	Examples int
}

// FilesRun is one file scan, whose progress can be read while it runs.
type FilesRun struct {
	spec FileScan
	s    *filescan.Scanner
}

// NewFilesRun prepares a file scan with the fingerprint key fp.
func NewFilesRun(fp *crypto.Fingerprinter, spec FileScan) *FilesRun {
	return &FilesRun{spec: spec, s: filescan.New(filescan.Options{
		Files: filesrc.Options{Exclude: spec.Exclude, Workers: spec.Workers, MaxDepth: spec.MaxDepth,
			OneFileSystem: spec.OneFS},
		Fingerprint: fp,
		Workers:     spec.Workers,
		Examples:    spec.Examples,
	})}
}

// Progress is the scan so far.
func (r *FilesRun) Progress() filescan.Progress { return r.s.Progress() }

// Run scans, handing every record to emit, and returns the summary and the
// run's journal entry (which names the files holding plaintext or not read).
func (r *FilesRun) Run(ctx context.Context, emit func(audit.Record) error) (filescan.Summary, journal.Entry, error) {
	var items itemCollector
	sum, err := r.s.Run(ctx, r.spec.Paths, func(rec audit.Record) error { items.add(rec); return emit(rec) })
	e := filesEntry(r.spec.Subject, sum, err)
	e.Items, e.Figures["items_total"] = items.items()
	return sum, e, err
}

// filesEntry is the journal's account of a file scan: counts by state and
// type, never a value or a finding's location.
func filesEntry(subject string, sum filescan.Summary, err error) journal.Entry {
	byType := map[string]any{}
	for t, n := range sum.ByType {
		byType[t] = n
	}
	e := journal.Entry{Kind: "scan.files", Subject: subject, Outcome: "ok",
		Figures: map[string]any{"files": sum.Files, "scanned": sum.Scanned, "encrypted": sum.Encrypted,
			"binary": sum.Binary, "skipped": sum.Skipped, "errors": sum.Errors, "findings": sum.Findings,
			"not_read": sum.Unread(), "plaintext_columns": sum.PlaintextColumns,
			"by_type": byType, "bytes": sum.Bytes, "seconds": sum.Seconds}}
	switch {
	case err != nil:
		e.Outcome, e.Detail = "error", oneLine(err.Error())
	case sum.Findings > 0 || sum.PlaintextColumns > 0:
		e.Outcome = "findings"
	case sum.Unread() > 0:
		// As scan.db: what was not read is not known to be clean.
		e.Outcome = "incomplete"
		e.Detail = fmt.Sprintf("%d file(s) or member(s) that could hold text were not read", sum.Unread())
	}
	return e
}
