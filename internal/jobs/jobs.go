// Package jobs runs each of atrest's jobs once — scan a file root, scan a
// database, back up, check, drill, prune — for a config entry, and says
// what happened as the journal entry of the run. The CLI commands and the
// daemon both call it, so a run by hand and a scheduled run are the same
// act with the same record: cmd/atrest parses flags, calls a job, prints
// its records and journals its entry; internal/daemon schedules the same
// calls and journals the same entries.
//
// What it must never do: print (records go to the caller's emit func),
// journal on its own (the caller owns the journal: what a job must record
// while it runs, such as a backup's start, goes through the Recorder the
// caller gives), or let a value into an entry (entries carry counts and
// names, as journal.Entry requires).
package jobs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/config"
)

// Fingerprinter returns the installation's fingerprint key with a config,
// and otherwise the user's own key, created on first use under the user's
// config directory (SPEC §3).
func Fingerprinter(cfg *config.Config) (*crypto.Fingerprinter, error) {
	var path string
	s := suite.Standard
	if cfg != nil {
		var err error
		if s, err = suite.Get(cfg.Suite); err != nil {
			return nil, err
		}
		path = cfg.FingerprintKeyFile
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("fingerprint key %s is missing: run atrest init --config %s", path, cfg.Path)
		}
	} else {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("fingerprint key: %w", err)
		}
		path = filepath.Join(dir, "atrest", "fingerprint.key")
		if _, err := crypto.EnsureKeyFile(path, crypto.NewFingerprintKey); err != nil {
			return nil, err
		}
	}
	key, err := crypto.LoadFingerprintKey(path)
	if err != nil {
		return nil, err
	}
	return crypto.NewFingerprinterWith(key, s), nil
}

// Recorder journals entries that a job must record while it runs, before
// the entry that ends it: a backup's start, the backups found in a bucket,
// each deletion of a prune. The CLI records them in its journal (opened
// and signed per call), serve in the daemon's.
type Recorder func(entries ...journal.Entry) error

// AppendTo is the Recorder of an open journal.
func AppendTo(j interface {
	Append(journal.Entry) (journal.Entry, error)
}) Recorder {
	return func(entries ...journal.Entry) error {
		for _, e := range entries {
			if _, err := j.Append(e); err != nil {
				return err
			}
		}
		return nil
	}
}

// oneLine folds an error message onto one line for an entry's detail.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
