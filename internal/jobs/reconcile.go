package jobs

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/internal/config"
)

// A backup run journals backup.start with its key before it uploads a
// byte, and backup.run with the key when the backup is complete. A run
// killed between the manifest's upload and its end entry, or one whose
// disk filled, leaves a backup in the bucket that the journal does not
// record as made. Reconcile finds those (and backups another installation
// wrote into the job's prefix) and journals each once as backup.found,
// never as an ok run: outcome found when this installation's keys verify
// its manifest, untrusted when they do not. backup run, backup check and
// serve's start call it.
const (
	KindBackupStart = "backup.start"
	KindBackupFound = "backup.found"
)

// FoundSep separates the key from the explanation in a backup.found
// entry's detail.
const FoundSep = " — "

// backupStartEntry is journaled before the upload begins.
func backupStartEntry(job, key string) journal.Entry {
	return journal.Entry{Kind: KindBackupStart, Subject: job, Outcome: "started", Detail: key}
}

// Reconcile journals the backups that unrecorded finds and returns how
// many.
func Reconcile(ctx context.Context, cfg *config.Config, job *config.Backup, store backup.ObjectStore, keys backup.Keys, record Recorder) (int, error) {
	found, err := unrecorded(ctx, cfg, job, store, keys)
	if err != nil || len(found) == 0 {
		return 0, err
	}
	if err := record(found...); err != nil {
		return 0, err
	}
	return len(found), nil
}

// unrecorded returns a backup.found entry for each complete backup of job
// (data object and manifest) that the journal has neither as a run's end
// nor as found. A key whose run started on this host in a process still
// alive is left alone: that run is finishing. Its errors are the store's.
func unrecorded(ctx context.Context, cfg *config.Config, job *config.Backup, store backup.ObjectStore, keys backup.Keys) ([]journal.Entry, error) {
	if job.Format != "atrest" {
		return nil, nil
	}
	known := map[string]bool{}
	started := map[string]journal.Entry{}
	for e, err := range journal.Query(cfg.JournalDir(), journal.Filter{Kind: "backup", Subject: job.Name}) {
		if err != nil {
			continue // Query goes on past a bad line; audit verify reports it
		}
		if e.Subject != job.Name {
			continue
		}
		switch {
		case e.Kind == KindBackupStart:
			started[e.Detail] = e
		case e.Kind == "backup.run" && e.Outcome == "ok", e.Kind == KindBackupFound:
			key, _, _ := strings.Cut(e.Detail, FoundSep)
			known[key] = true
		}
	}
	prefix := backup.JobPrefix(job.Prefix, job.Name)
	listed, err := backup.ListBackups(ctx, store, prefix)
	if err != nil {
		return nil, err
	}
	var found []journal.Entry
	for _, l := range listed {
		key := l.Key
		if l.Data == nil || l.Manifest == nil || known[key] {
			continue
		}
		why := "no run of this installation's journal started it"
		if s, ok := started[key]; ok {
			if stillRunning(s.Actor) {
				continue
			}
			why = fmt.Sprintf("its run started (journal entry %d) and never journaled its end", s.Seq)
		}
		trusted, trust := manifestTrust(ctx, store, job.Name, key, keys)
		outcome := "found"
		if !trusted {
			outcome = "untrusted"
		}
		e := journal.Entry{Kind: KindBackupFound, Subject: job.Name, Outcome: outcome,
			Detail: key + FoundSep + why + "; " + trust}
		if trusted {
			e.Items = []journal.Item{{Kind: journal.ItemBackup, Name: key, State: journal.BackupFound}}
		}
		found = append(found, e)
	}
	return found, nil
}

// stillRunning reports whether the process that journaled a start is alive on
// this host (a PID reused since is taken for it: the key waits for the
// next Reconcile).
func stillRunning(a journal.Actor) bool {
	host, _ := os.Hostname()
	if a.Host != host || a.PID <= 0 {
		return false
	}
	p, err := os.FindProcess(a.PID)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// manifestTrust says whether this installation's keys verify the manifest
// of key, a backup of job, and in words for the found entry.
func manifestTrust(ctx context.Context, store backup.ObjectStore, job, key string, keys backup.Keys) (bool, string) {
	rc, _, err := store.Get(ctx, backup.ManifestKey(key))
	if err != nil {
		return false, "its manifest could not be read: " + oneLine(err.Error())
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, backup.MaxManifestBytes+1))
	if err != nil {
		return false, "its manifest could not be read: " + oneLine(err.Error())
	}
	m, err := backup.ParseManifest(b)
	if err == nil {
		err = m.Trust(keys, job, key)
	}
	if err != nil {
		return false, "not trusted: " + oneLine(err.Error())
	}
	return true, "its manifest verifies with this installation's key " + m.Signature.KeyID
}
