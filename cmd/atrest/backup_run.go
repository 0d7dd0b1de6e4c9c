package main

import (
	"errors"
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/internal/jobs"
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
	rec, err := jobs.Backup(cmd.Context(), cfg, job, jobs.BackupOptions{Parallel: o.parallel, Progress: prog, Record: recorder(cfg), Version: version})
	stop()
	if !rec.Unrecordable {
		switch jerr := record(cfg, jobs.BackupEntry(rec)); {
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
