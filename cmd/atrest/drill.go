package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
	"github.com/atrest/atrest/internal/output"
)

func newDrillCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Prove that backups restore: restore into a scratch database, verify every table, run probes",
	}
	cmd.AddCommand(newDrillRunCmd())
	return cmd
}

type drillRunOptions struct {
	commonFlags
	req jobs.DrillRequest
}

func newDrillRunCmd() *cobra.Command {
	var o drillRunOptions
	cmd := &cobra.Command{
		Use:   "run --config FILE --job NAME [--backup KEY] [--keep] [--allow-source-server] [--identity FILE]",
		Short: "Restore one backup into a scratch database on the drill server and verify it",
		Long: `run restores one backup of a job and proves it whole:

  1. picks the backup: --backup KEY, else the newest complete one (a data object
     with a manifest signed by this installation's key), or with select: random a
     random complete one stored within select_window;
  2. streams it from object storage through SHA-256, age or SM4 (identity_file) and zstd
     straight into a fresh database atrest_drill_<job>_<UTC time> on the drill server
     (target_dsn_env), loading in --parallel connections; memory stays bounded;
  3. recomputes every table's row count, content digest and DDL hash and compares
     them with the manifest, then runs the drill's probes (read-only; each must
     return a true value: not NULL, not 0, not empty, at least one row);
  4. drops the scratch database, also on failure, unless --keep.

--job names a drills[] entry, or a backups[] job (with its drills[] entry if it has
exactly one; without one give --identity and --target-dsn-env).

The drill server is of the source's family: MySQL/MariaDB or PostgreSQL
(target_dsn_env postgres://…; a scratch database holds the dump's schemas).

Safety: a target that is the backup's source server (same @@server_uuid or
PostgreSQL system identifier, or the same host and port, as the manifest records or
the source DSN reaches) is refused unless --allow-source-server; even then the drill
writes only to its own atrest_drill_* databases. It drops only databases it created:
at the start, leftovers of crashed drills of the same job, proven by their marker
(an _atrest_drill table's comment on MySQL, the database's comment on PostgreSQL) and
free of any running drill's lock; at the end, its own. On MySQL the drill server's
user needs nothing beyond GRANT ALL ON ` + "`atrest\\_drill\\_%`" + `.*; on PostgreSQL,
CREATEDB. Whatever a backup's SQL says stays inside the scratch databases.

Third-party dumps (format: mysqldump or pg_dump, plain or custom format) are loaded
by their key's suffixes (.gz, .zst, .age), tables and rows counted and probes run;
their digests are reported as unsupported: there is nothing signed to compare them
with.

It prints one drill record: status pass or fail, the failure class (transport after
one retry, integrity, restore, probe, key, no_backup), rto_seconds (start to verified
restore), rpo_seconds (start minus the snapshot), and every table with rows and
digest_match. The run is journaled (kind drill.run) with its figures.

Targets (drills[].rto, rpo): the record says rto and rpo met or missed beside the
figures (the RPO only when the newest backup was drilled). A drill that restored and
verified but missed a target keeps status pass and exits 1.
Canaries: a probe with expect_sha256 passes only when the SHA-256 of the value it
returns (first column of the first row, as text) is that hex; a changed one fails
the drill as "canary NAME changed", saying nothing of the value.
Subsets (drills[].tables or exclude_tables; db.table, or table where that names one
table of the backup): only those tables are loaded and verified, the rest are
not_run (never pass), views, triggers and routines are not loaded; a name that is
no table of the backup means the drill cannot run.
--format junit writes JUnit XML: restore, each table, probe and target a test case;
a drill that could not run is an <error>, never a pass.
A drill that cannot run (no identity file or one that cannot be read, the target DSN's
variable unset, the drill server unreachable) exits 2 and is journaled as an error,
never as a failed drill.

` + exitHelp,
		Example: `  atrest drill run --config /etc/atrest/atrest.yaml --job yb-nightly-drill
  atrest drill run --config atrest.yaml --job yb-nightly-drill --backup yb/yb-nightly/2026/11/24/yb-nightly-20261124T013000Z.sql.zst.age --keep
  atrest drill run --config atrest.yaml --job yb-nightly --identity backup.agekey --target-dsn-env DRILL_DSN --format json`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDrillRun(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	f.StringVar(&o.format, "format", "", "output format: table, json, jsonl or junit (default: table on a terminal, jsonl otherwise)")
	f.StringVar(&o.req.Name, "job", "", "the drills[] entry, or backups[] job, to drill (required)")
	f.StringVar(&o.req.BackupKey, "backup", "", "drill this backup (object key of the data object or its manifest) instead of choosing one")
	f.BoolVar(&o.req.Keep, "keep", false, "leave the scratch database on the drill server (the next drill of the job drops it)")
	f.BoolVar(&o.req.AllowSource, "allow-source-server", false, "allow a drill server that is the backup's source (restores beside the source databases, never into them)")
	f.StringVar(&o.req.Identity, "identity", "", "identity file: age, or an SM2 private key in PEM (default: the drill's identity_file)")
	f.StringVar(&o.req.TargetDSNEnv, "target-dsn-env", "", "environment variable holding the drill server's DSN (default: the drill's target_dsn_env)")
	f.IntVar(&o.req.Parallel, "parallel", 2, "connections that load and verify at once")
	cmd.MarkFlagRequired("job")
	return cmd
}

func runDrillRun(cmd *cobra.Command, o drillRunOptions) error {
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	w, err := o.writer(cmd)
	if err != nil {
		return err
	}
	rec, entry, err := jobs.Drill(cmd.Context(), cfg, o.req)
	if jerr := record(cfg, entry); jerr != nil && err == nil {
		err = jerr
	}
	var werr error
	switch {
	case rec != nil && rec.Status != drill.StatusError:
		werr = w.Write(rec)
	case err != nil && o.outFormat(cmd) == "junit":
		// Could not run: an <error>, never an empty (passing) document.
		werr = w.Write(output.CouldNotRun{Suite: o.req.Name, Name: "drill", Err: cantRun(o.req.Name, rec, err)})
	}
	if cerr := w.Close(); werr == nil {
		werr = cerr
	}
	var f *drill.Failure
	switch {
	case errors.As(err, &f):
		if werr != nil {
			return werr
		}
		return errFound{fmt.Sprintf("drill %s failed (%s): %s", o.req.Name, f.Class, f.Detail)}
	case err != nil:
		return cantRun(o.req.Name, rec, err)
	case werr != nil:
		return werr
	}
	if missed := rec.Missed(); len(missed) > 0 {
		// Restored and verified, and still short of what was promised:
		// exit 1, so that cron and CI notice.
		return errFound{fmt.Sprintf("drill %s restored and verified %s, but missed its targets: %s", o.req.Name, rec.Backup, strings.Join(missed, "; "))}
	}
	return nil
}

// cantRun words a drill that could not run in one line, without
// drill.Run's own "drill <job>:" prefix.
func cantRun(name string, rec *drill.Record, err error) error {
	msg := oneLine(err.Error())
	if rec != nil {
		msg = strings.TrimPrefix(msg, "drill "+rec.Job+": ")
	}
	return fmt.Errorf("drill run %s: %s", name, msg)
}
