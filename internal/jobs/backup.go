package jobs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/config"
)

// BackupRecord is what backup run prints.
type BackupRecord struct {
	Record         string    `json:"record"` // always "backup"
	Job            string    `json:"job"`
	Status         string    `json:"status"` // ok | fail
	Suite          string    `json:"suite"`  // the job's crypto suite: standard | sm
	Key            string    `json:"key,omitempty"`
	Bytes          int64     `json:"bytes"` // stored (ciphertext)
	PlaintextBytes int64     `json:"plaintext_bytes"`
	Rows           int64     `json:"rows"`
	Tables         int       `json:"tables"`
	Seconds        float64   `json:"seconds"`
	Snapshot       time.Time `json:"snapshot,omitzero"`
	BinlogFile     string    `json:"binlog_file,omitempty"`
	BinlogPos      uint64    `json:"binlog_pos,omitempty"`
	GTID           string    `json:"gtid,omitempty"`
	Error          string    `json:"error,omitempty"`

	// Unrecordable: the journal could not take the run's start, so nothing
	// was done and there is no end to journal either.
	Unrecordable bool `json:"-"`
}

// BackupOptions are a backup run's choices beyond the job's config.
type BackupOptions struct {
	Parallel int              // connections that dump at once
	Progress *backup.Progress // nil: none
	// Record journals the run's start (and the backups an earlier run left
	// unrecorded) before the upload; the caller journals the end.
	Record  Recorder
	Version string // atrest's, for the manifest's tool_version
}

// Backup makes one backup of job and returns the record that
// `backup run` prints and journals; `atrest serve` calls it too. The error
// is one line that names the job.
func Backup(ctx context.Context, cfg *config.Config, job *config.Backup, o BackupOptions) (BackupRecord, error) {
	start := time.Now()
	rec := BackupRecord{Record: "backup", Job: job.Name, Suite: job.Suite, Status: "fail"}
	m, err := makeBackup(ctx, cfg, job, o, &rec)
	rec.Seconds = time.Since(start).Seconds()
	if err != nil {
		// backup.Run's errors begin "backup <job>:" already.
		msg := "backup run " + job.Name + ": " + strings.TrimPrefix(oneLine(err.Error()), "backup "+job.Name+": ")
		rec.Error = msg
		return rec, errors.New(msg)
	}
	rec.Status, rec.Key = "ok", m.Object.Key
	rec.Bytes, rec.PlaintextBytes, rec.Tables = m.Object.CiphertextBytes, m.Object.PlaintextBytes, len(m.Tables)
	for _, t := range m.Tables {
		rec.Rows += t.Rows
	}
	rec.Snapshot, rec.BinlogFile, rec.BinlogPos, rec.GTID = m.Snapshot, m.Position.BinlogFile, m.Position.BinlogPos, m.Position.GTID
	return rec, nil
}

// makeBackup resolves the job's source, recipients, signing key and store
// from the config and runs backup.Run, with its record in the journal on
// either side: before any work, the journal must be able to take entries
// (journal.Preflight), the backups an earlier run left unrecorded are
// journaled as found, and the key this run will take is journaled as
// backup.start; the caller journals the end. rec gets the key.
func makeBackup(ctx context.Context, cfg *config.Config, job *config.Backup, o BackupOptions, rec *BackupRecord) (*backup.Manifest, error) {
	if job.Format != "atrest" {
		return nil, fmt.Errorf("job has format %s: atrest checks backups made by another tool (backup check) but does not make them", job.Format)
	}
	src, ok := cfg.Source(job.Source)
	if !ok {
		return nil, fmt.Errorf("source %q is not a sources[] entry", job.Source)
	}
	eng, dsn, err := SourceEngine(src)
	if err != nil {
		return nil, err
	}
	s, err := suite.Get(job.Suite)
	if err != nil {
		return nil, err
	}
	recipients, err := job.LoadRecipients()
	if err != nil {
		return nil, err
	}
	key, err := suite.LoadSigningKey(job.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w (run atrest init --config %s)", err, cfg.Path)
	}
	keys, err := ManifestKeys(cfg)
	if err != nil {
		return nil, err
	}
	store, err := OpenStore(ctx, cfg, job)
	if err != nil {
		return nil, err
	}
	if err := journal.Preflight(cfg.JournalDir()); err != nil {
		rec.Unrecordable = true
		return nil, fmt.Errorf("%w; nothing was backed up", err)
	}
	// A listing that fails here fails the upload too, and says so there.
	found, _ := unrecorded(ctx, cfg, job, store, keys)
	objKey, err := backup.NewKey(filepath.Join(cfg.StateDir, "backup"), job.Prefix, job.Name, s, time.Now())
	if err != nil {
		return nil, err
	}
	// A journal that could not sign its checkpoint now will not sign the
	// end either: refuse. The anchor's copy failing leaves the entries
	// stored and signed here: go on.
	if err := o.Record(append(found, backupStartEntry(job.Name, objKey))...); err != nil && !errors.Is(err, journal.ErrAnchor) {
		rec.Unrecordable = true
		return nil, fmt.Errorf("%w; nothing was backed up", err)
	}
	rec.Key = objKey
	databases := job.Databases
	if len(databases) == 0 {
		databases = src.Databases
	}
	return backup.Run(ctx, backup.RunOptions{
		Job: job.Name, Engine: eng, DSN: crypto.NewSecret(dsn), Databases: databases, Parallel: o.Parallel,
		Store: store, Prefix: job.Prefix, Suite: s, Recipients: recipients, SigningKey: key, Key: objKey,
		ToolVersion: "atrest " + o.Version, Progress: o.Progress,
	})
}

func BackupEntry(r BackupRecord) journal.Entry {
	e := journal.Entry{Kind: "backup.run", Subject: r.Job, Outcome: "ok", Figures: map[string]any{
		"bytes": r.Bytes, "plaintext_bytes": r.PlaintextBytes, "rows": r.Rows, "tables": r.Tables,
		"seconds": r.Seconds}}
	if r.Suite != "" {
		// As figures.role is: {"sm": 1}; the report's 8.1.10.9 reads it.
		e.Figures["suite"] = map[string]any{r.Suite: 1}
	}
	// Figures hold counts only; the key goes in the detail.
	e.Detail = r.Key
	if r.Status != "ok" {
		e.Outcome, e.Detail = "fail", r.Error
	}
	return e
}
