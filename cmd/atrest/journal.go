package main

import (
	"context"
	gocrypto "crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/syslog"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
)

// openJournal opens the installation's journal for appending, with its
// anchor when journal.anchor is configured. A command run where the
// anchor's credentials are not (an officer's shell, say) still journals:
// its checkpoint is not copied, stderr says so, and the next run that
// reaches the anchor copies the newest checkpoint, which covers this one.
// atrest serve uses openJournalWithAnchor: a daemon must not run for
// months without its anchor.
func openJournal(cfg *config.Config) (*journal.Journal, error) {
	j, err := openJournalWithAnchor(cfg)
	var ae *anchorError
	if errors.As(err, &ae) {
		fmt.Fprintf(os.Stderr, "atrest: warning: %s: this run's checkpoint is not copied there\n", ae.msg)
		return openJournalWith(cfg, nil)
	}
	return j, err
}

// anchorError is an anchor that could not be opened.
type anchorError struct{ msg string }

func (e *anchorError) Error() string { return e.msg }

// openJournalWithAnchor is openJournal that fails when the anchor cannot
// be opened.
func openJournalWithAnchor(cfg *config.Config) (*journal.Journal, error) {
	anchor, err := journalAnchor(context.Background(), cfg)
	if err != nil {
		return nil, &anchorError{oneLine(err.Error())}
	}
	return openJournalWith(cfg, anchor)
}

func openJournalWith(cfg *config.Config, anchor journal.Anchor) (*journal.Journal, error) {
	key, err := suite.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("journal: %w (run atrest init --config %s)", err, cfg.Path)
	}
	// The journal's errors begin "journal: " and name the file.
	return journal.Open(cfg.JournalDir(), key, journal.Options{Anchor: anchor})
}

// journalAnchor is the bucket that keeps copies of the checkpoints, or nil.
// Each host writes under <prefix><hostname>/, so installations can share a
// bucket without refusing each other's copies.
func journalAnchor(ctx context.Context, cfg *config.Config) (journal.Anchor, error) {
	a := cfg.Journal.Anchor
	if a == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	anchor, err := jobs.OpenAnchor(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("journal anchor: %s", oneLine(err.Error()))
	}
	return anchor, nil
}

// record appends entries for one run and closes the journal, which signs a
// checkpoint over them (and copies it to the anchor). Without a config there
// is no journal and nothing to do. The errors are the journal's own, which
// begin "journal: " already; one that comes after the entries were stored
// (the checkpoint or its anchor copy failed) is an unsignedError.
func record(cfg *config.Config, entries ...journal.Entry) error {
	if cfg == nil || len(entries) == 0 {
		return nil
	}
	for i, e := range entries {
		if handRunKinds[e.Kind] {
			// A command is a run by hand; serve's scheduled runs say when
			// they were due instead (figures.start_delay_seconds).
			if e.Figures == nil {
				e.Figures = map[string]any{}
			}
			e.Figures["by_hand"] = true
			entries[i] = e
		}
	}
	j, err := openJournal(cfg)
	if err != nil {
		return err
	}
	stored, err := j.AppendBatch(entries)
	if err != nil && stored == nil {
		j.Close()
		return err
	}
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	forwardSyslog(cfg) // the entries are stored either way
	if err != nil {
		return unsignedError{err}
	}
	return nil
}

// recorder is the jobs.Recorder of a command: each call records into cfg's
// journal as record does.
func recorder(cfg *config.Config) jobs.Recorder {
	return func(entries ...journal.Entry) error { return record(cfg, entries...) }
}

// unsignedError is a journal error that came after the entries were stored
// and synced: they are the record, only not yet signed by a checkpoint (or
// not copied to the anchor); the next checkpoint signs them.
type unsignedError struct{ err error }

func (e unsignedError) Error() string {
	return e.err.Error() + " (the entries are stored; the next checkpoint signs them)"
}
func (e unsignedError) Unwrap() error { return e.err }

// stored reports whether a record error left the entries stored.
func stored(err error) bool {
	var u unsignedError
	return errors.As(err, &u)
}

// syslogForwarder is the forwarder of journal.syslog, or nil when none is
// configured.
func syslogForwarder(cfg *config.Config) (*syslog.Forwarder, error) {
	s := cfg.Journal.Syslog
	if s == nil {
		return nil, nil
	}
	return syslog.New(syslog.Config{Address: s.Address, Transport: s.Transport, CAFile: s.CAFile},
		cfg.JournalDir(), filepath.Join(cfg.StateDir, "syslog"))
}

// forwardSyslog makes one bounded attempt to forward what this command
// journaled. A receiver that is down costs a few seconds at most and loses
// nothing: the entries wait in the journal for the next command or for
// atrest serve, which forwards continuously. The run's own outcome never
// depends on it; a failure is one line on stderr.
func forwardSyslog(cfg *config.Config) {
	f, err := syslogForwarder(cfg)
	if f == nil && err == nil {
		return
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = f.Flush(ctx)
		cancel()
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "atrest: warning: %s (the entries wait in the journal)\n", oneLine(err.Error()))
	}
}

// journalVerifyKey derives the checkpoint verification key (Ed25519 or SM2)
// from the journal's signing key.
func journalVerifyKey(cfg *config.Config) (gocrypto.PublicKey, error) {
	key, err := suite.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	return key.Public(), nil
}

// pruneJournal deletes the journal segments older than journal.retention
// below the newest anchored checkpoint (journal.Prune journals it).
func pruneJournal(ctx context.Context, cfg *config.Config, dry bool) (journal.PruneResult, error) {
	key, err := suite.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return journal.PruneResult{}, fmt.Errorf("journal: %w", err)
	}
	anchor, err := journalAnchor(ctx, cfg)
	if err != nil {
		return journal.PruneResult{}, err
	}
	return journal.Prune(ctx, cfg.JournalDir(), key, anchor, cfg.Journal.Retention, time.Now(), dry)
}

// handRunKinds are the runs that serve also schedules, so the journal tells
// a run by hand from a scheduled one.
var handRunKinds = map[string]bool{"scan.files": true, "scan.db": true, "backup.run": true,
	"backup.check": true, "drill.run": true, "backup.prune": true}
