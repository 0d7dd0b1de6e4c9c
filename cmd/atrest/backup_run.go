package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/config"
)

type backupRunOptions struct {
	commonFlags
	job      string
	parallel int
}

func newBackupRunCmd() *cobra.Command {
	var o backupRunOptions
	cmd := &cobra.Command{
		Use:   "run --config FILE --job NAME",
		Short: "Back up one job's databases to object storage: SQL → zstd → age or SM4 → S3, signed manifest last",
		Long: `run makes one backup of a backups[] job (format atrest):

  1. connects to the job's source (sources[].dsn_env or dsn_file) and opens one
     consistent snapshot of its databases (START TRANSACTION WITH CONSISTENT
     SNAPSHOT; with --parallel > 1 a brief global read lock lines the connections up);
  2. streams tables, views, triggers and routines as SQL that the mariadb/mysql client
     loads, counting every table's rows and an order-independent digest of its content;
  3. compresses (zstd level 3), encrypts to the job's recipients (age; or SM4 with the
     data key wrapped to SM2 public keys for suite sm) and uploads in 16 MiB parts,
     hashing the SQL and the ciphertext on the way: memory stays bounded whatever the
     size of the database;
  4. uploads the manifest, signed with the job's signing_key_file (by default the
     journal's key; Ed25519, or SM2 for suite sm), last.

Any failure (the database, the storage, Ctrl-C) aborts the upload: no manifest is
written and nothing is left that a check would call a backup. Storage credentials come
from the storage's access_key_env and secret_key_env; they and the DSN's password are
never printed.

The key is the run's own: runs of a job never share one (a per-job lock in state_dir,
milliseconds, a random tag), and both uploads are creates that cannot replace
(If-None-Match: *). Before any work the journal must be able to take entries (space,
inodes, permissions, its lock, a whole tail), else exit 2 and nothing is uploaded. The
run journals backup.start with its key before the upload and backup.run with its
figures after; backups an earlier run left unrecorded (killed, disk full) are
journaled as backup.found, never as ok runs.

It prints one backup record: job, status (ok|fail), key, bytes (stored), rows,
tables, seconds.

` + exitHelp,
		Example: `  atrest backup run --config /etc/atrest/atrest.yaml --job yb-nightly
  atrest backup run --config atrest.yaml --job yb-nightly --format json`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBackupRun(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringVar(&o.format, "format", "", "output format: table, json or jsonl (default: table on a terminal, jsonl otherwise)")
	cmd.Flags().StringVar(&o.job, "job", "", "the backups[] job to run (required)")
	cmd.Flags().IntVar(&o.parallel, "parallel", 1, "connections that dump tables at once (more than 1 needs RELOAD for the global read lock)")
	cmd.MarkFlagRequired("config")
	cmd.MarkFlagRequired("job")
	return cmd
}

// backupRecord is what backup run prints.
type backupRecord struct {
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

	// unrecordable: the journal could not take the run's start, so nothing
	// was done and there is no end to journal either.
	unrecordable bool
}

func runBackupRun(cmd *cobra.Command, o backupRunOptions) error {
	verb := "backup run"
	cfg, job, err := loadJob(verb, o.configPath, o.job)
	if err != nil {
		return err
	}
	w, err := o.writer(cmd)
	if err != nil {
		return err
	}
	prog := &backup.Progress{}
	stop := startProgress(cmd.ErrOrStderr(), func() string {
		return fmt.Sprintf("%s  SQL %s → stored %s", job.Name, humanize.IBytes(uint64(prog.PlaintextBytes())), humanize.IBytes(uint64(prog.CiphertextBytes())))
	})
	rec, err := backupJobRecord(cmd.Context(), cfg, job, o.parallel, prog)
	stop()
	if !rec.unrecordable {
		switch jerr := record(cfg, backupRunEntry(rec)); {
		case jerr == nil || err != nil:
			// Journaled, or the run's own error is the one to tell.
		case stored(jerr):
			// The end is journaled; only its signature lags.
			err = fmt.Errorf("%s %s: %w", verb, job.Name, jerr)
		default:
			// The backup is stored and its start journaled, but not its
			// end: not a run to call ok. The next reconcile journals it
			// as found.
			rec.Status = "fail"
			rec.Error = fmt.Sprintf("%s %s: backup stored at %s, but the journal could not record it: %s; the next backup run, backup check or serve start journals it as found",
				verb, job.Name, rec.Key, oneLine(jerr.Error()))
			err = errors.New(rec.Error)
		}
	}
	if werr := w.Write(rec); werr != nil && err == nil {
		err = werr
	}
	if cerr := w.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// backupJobRecord makes one backup of job and returns the record that
// `backup run` prints and journals; `atrest serve` calls it too. The error
// is one line that names the job.
func backupJobRecord(ctx context.Context, cfg *config.Config, job *config.Backup, parallel int, prog *backup.Progress) (backupRecord, error) {
	start := time.Now()
	rec := backupRecord{Record: "backup", Job: job.Name, Suite: job.Suite, Status: "fail"}
	m, err := makeBackup(ctx, cfg, job, parallel, prog, &rec)
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
func makeBackup(ctx context.Context, cfg *config.Config, job *config.Backup, parallel int, prog *backup.Progress, rec *backupRecord) (*backup.Manifest, error) {
	if job.Format != "atrest" {
		return nil, fmt.Errorf("job has format %s: atrest checks backups made by another tool (backup check) but does not make them", job.Format)
	}
	src, ok := cfg.Source(job.Source)
	if !ok {
		return nil, fmt.Errorf("source %q is not a sources[] entry", job.Source)
	}
	eng, dsn, err := sourceEngine(src)
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
	keys, err := manifestKeys(cfg)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, cfg, job)
	if err != nil {
		return nil, err
	}
	if err := journal.Preflight(cfg.JournalDir()); err != nil {
		rec.unrecordable = true
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
	if err := record(cfg, append(found, backupStartEntry(job.Name, objKey))...); err != nil && !errors.Is(err, journal.ErrAnchor) {
		rec.unrecordable = true
		return nil, fmt.Errorf("%w; nothing was backed up", err)
	}
	rec.Key = objKey
	databases := job.Databases
	if len(databases) == 0 {
		databases = src.Databases
	}
	return backup.Run(ctx, backup.RunOptions{
		Job: job.Name, Engine: eng, DSN: crypto.NewSecret(dsn), Databases: databases, Parallel: parallel,
		Store: store, Prefix: job.Prefix, Suite: s, Recipients: recipients, SigningKey: key, Key: objKey,
		ToolVersion: "atrest " + version, Progress: prog,
	})
}

func backupRunEntry(r backupRecord) journal.Entry {
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
