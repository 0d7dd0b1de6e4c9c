package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/pick"
	"github.com/atrest/atrest/internal/config"
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

// drillRequest is what a drill run asks for beyond the configuration: the
// CLI's flags, or nothing for a scheduled drill.
type drillRequest struct {
	// Name is a drills[] entry, or a backups[] job (then its one drills[]
	// entry, if it has one, gives identity, target and probes).
	Name         string
	BackupKey    string
	Identity     string // overrides identity_file
	TargetDSNEnv string // overrides target_dsn_env
	Keep         bool
	AllowSource  bool
	Parallel     int
}

type drillRunOptions struct {
	commonFlags
	req drillRequest
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
	f.StringVar(&o.configPath, "config", "", "configuration file (required)")
	f.StringVar(&o.format, "format", "", "output format: table, json, jsonl or junit (default: table on a terminal, jsonl otherwise)")
	f.StringVar(&o.req.Name, "job", "", "the drills[] entry, or backups[] job, to drill (required)")
	f.StringVar(&o.req.BackupKey, "backup", "", "drill this backup (object key of the data object or its manifest) instead of choosing one")
	f.BoolVar(&o.req.Keep, "keep", false, "leave the scratch database on the drill server (the next drill of the job drops it)")
	f.BoolVar(&o.req.AllowSource, "allow-source-server", false, "allow a drill server that is the backup's source (restores beside the source databases, never into them)")
	f.StringVar(&o.req.Identity, "identity", "", "identity file: age, or an SM2 private key in PEM (default: the drill's identity_file)")
	f.StringVar(&o.req.TargetDSNEnv, "target-dsn-env", "", "environment variable holding the drill server's DSN (default: the drill's target_dsn_env)")
	f.IntVar(&o.req.Parallel, "parallel", 2, "connections that load and verify at once")
	cmd.MarkFlagRequired("config")
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
	rec, entry, err := runDrill(cmd.Context(), cfg, o.req)
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

// runDrill runs the drill the request names and returns its record (nil
// when it could not start), the journal entry for it, and the error:
// a *drill.Failure for a drill that ran and failed, another error for one
// that could not run. atrest serve runs scheduled drills through it too.
func runDrill(ctx context.Context, cfg *config.Config, req drillRequest) (*drill.Record, journal.Entry, error) {
	opts, notes, err := drillOptions(ctx, cfg, req)
	if err != nil {
		return nil, drillEntry(req.Name, nil, err), err
	}
	rec, err := drill.Run(ctx, opts)
	if rec != nil {
		rec.Notes = append(rec.Notes, notes...)
	}
	return rec, drillEntry(req.Name, rec, err), err
}

// drillOptions resolves the request against the configuration: the job's
// bucket and prefix, the drill's identity, target and probes, the source
// to refuse, the key that signs manifests.
func drillOptions(ctx context.Context, cfg *config.Config, req drillRequest) (drill.Options, []string, error) {
	var o drill.Options
	var notes []string
	d, job, err := resolveDrill(cfg, req.Name)
	if err != nil {
		return o, nil, err
	}
	o = drill.Options{
		Job: drill.Job{Name: job.Name, Prefix: job.Prefix, Format: job.Format, KeyPattern: job.KeyPattern,
			Databases: job.Databases},
		BackupKey: req.BackupKey, Keep: req.Keep, AllowSourceServer: req.AllowSource, Parallel: req.Parallel,
	}
	targetEnv := req.TargetDSNEnv
	if d != nil {
		o.Drill, o.Select, o.SelectWindow, o.IdentityFile = d.Name, d.Select, d.SelectWindow, d.IdentityFile
		o.RTOTarget, o.RPOTarget, o.Tables, o.ExcludeTables = d.RTO, d.RPO, d.Tables, d.ExcludeTables
		for _, p := range d.Probes {
			o.Probes = append(o.Probes, drill.Probe{Name: p.Name, SQL: p.SQL, ExpectSHA256: p.ExpectSHA256})
		}
		if targetEnv == "" {
			targetEnv = d.TargetDSNEnv
		}
	}
	if req.Identity != "" {
		o.IdentityFile = req.Identity
	}
	if targetEnv == "" {
		return o, nil, fmt.Errorf("no drill server: backup job %s has no drills[] entry; give --target-dsn-env NAME", job.Name)
	}
	dsn, err := config.Env("target_dsn_env", targetEnv)
	if err != nil {
		return o, nil, err
	}
	o.TargetDSN = crypto.NewSecret(dsn)
	// The drill server is of the source's family: the source's engine,
	// else the family of the job's dump format, else the DSN's scheme.
	driver := ""
	var seng engine.Engine
	var sdsn string
	src, hasSource := cfg.Source(job.Source)
	if hasSource {
		if len(o.Job.Databases) == 0 {
			o.Job.Databases = src.Databases
		}
		if seng, sdsn, err = sourceEngine(src); err != nil {
			notes = append(notes, fmt.Sprintf("the source's DSN is not available here (%s): the target was compared with the manifest's record of the source only", oneLine(err.Error())))
			driver = src.Driver
		} else {
			driver = seng.Name()
			o.SourceDSN = crypto.NewSecret(sdsn)
		}
	}
	dumps, thirdParty := pick.Format(job.Format)
	if thirdParty && driver == "" {
		driver = dumps.Name()
	}
	if o.Engine, err = pick.Engine(driver, dsn); err != nil {
		return o, nil, fmt.Errorf("%s: %w", targetEnv, err)
	}
	if thirdParty && dumps.Name() != o.Engine.Name() {
		return o, nil, fmt.Errorf("drill %s: format %s holds %s dumps and the source %s is %s", job.Name, job.Format, dumps.Name(), job.Source, o.Engine.Name())
	}
	if job.Format == "atrest" {
		if o.Keys, err = manifestKeys(cfg); err != nil {
			return o, nil, fmt.Errorf("%w (run atrest init --config %s)", err, cfg.Path)
		}
	}
	if o.Store, err = openStore(ctx, cfg, job); err != nil {
		return o, nil, err
	}
	return o, notes, nil
}

// resolveDrill finds the drills[] entry and its job, or the job and its
// one drills[] entry.
func resolveDrill(cfg *config.Config, name string) (*config.Drill, *config.Backup, error) {
	if d, ok := cfg.Drill(name); ok {
		job, ok := cfg.Backup(d.Backup)
		if !ok {
			return nil, nil, fmt.Errorf("drill %s: backup %q is not a backups[] entry in %s", name, d.Backup, cfg.Path)
		}
		return d, job, nil
	}
	job, ok := cfg.Backup(name)
	if !ok {
		return nil, nil, fmt.Errorf("--job %q is neither a drills[] entry nor a backups[] job in %s", name, cfg.Path)
	}
	var refs []*config.Drill
	for i := range cfg.Drills {
		if cfg.Drills[i].Backup == name {
			refs = append(refs, &cfg.Drills[i])
		}
	}
	switch len(refs) {
	case 0:
		return nil, job, nil
	case 1:
		return refs[0], job, nil
	}
	names := make([]string, len(refs))
	for i, d := range refs {
		names[i] = d.Name
	}
	return nil, nil, fmt.Errorf("backup job %s has %d drills (%s): name one with --job", name, len(refs), strings.Join(names, ", "))
}

// drillEntry is the journal entry of a drill run: figures are counts and
// durations (the failure class as a one-key map), the backup key and the
// failure's words go in the detail.
func drillEntry(subject string, rec *drill.Record, err error) journal.Entry {
	e := journal.Entry{Kind: "drill.run", Subject: subject, Outcome: "ok"}
	var detail []string
	if rec != nil {
		p := rec.Phases
		e.Figures = map[string]any{
			"rpo_seconds": rec.RPOSeconds, "seconds": rec.Seconds,
			"tables": len(rec.Tables), "tables_matched": rec.TablesMatched, "rows": rec.Rows,
			"bytes": rec.Bytes, "sql_bytes": rec.SQLBytes, "probes": len(rec.Probes),
			"digests_verified": rec.Digests == "verified", "retried": rec.Retried,
			"scratch_dropped": rec.Dropped, "leftovers_dropped": len(rec.Cleaned),
			"phases": map[string]any{
				"select_seconds": p.SelectSeconds, "download_seconds": p.DownloadSeconds,
				"decrypt_seconds": p.DecryptSeconds, "decompress_seconds": p.DecompressSeconds,
				"load_seconds": p.LoadSeconds, "verify_seconds": p.VerifySeconds,
				"probe_seconds": p.ProbeSeconds, "cleanup_seconds": p.CleanupSeconds,
			},
		}
		if rec.Status == drill.StatusPass {
			e.Figures["rto_seconds"] = rec.RTOSeconds
		}
		// Targets: the report's 8.1.4.9a and /metrics read them.
		if rec.RTOTargetSeconds > 0 {
			e.Figures["rto_target_seconds"] = rec.RTOTargetSeconds
		}
		if rec.RTO != "" {
			e.Figures["rto_met"] = rec.RTO == drill.TargetMet
		}
		if rec.RPOTargetSeconds > 0 {
			e.Figures["rpo_target_seconds"] = rec.RPOTargetSeconds
		}
		if rec.RPO != "" {
			e.Figures["rpo_met"] = rec.RPO == drill.TargetMet
		}
		if rec.Subset {
			e.Figures["subset"] = true
			e.Figures["tables_not_run"] = rec.TablesNotRun
		}
		if rec.Failure != "" {
			e.Figures["failure"] = map[string]any{rec.Failure: 1}
		}
		if rec.Suite != "" {
			e.Figures["suite"] = map[string]any{rec.Suite: 1} // the backup's; the report's 8.1.10.9 reads it
		}
		if rec.Backup != "" {
			detail = append(detail, "backup "+rec.Backup)
		}
	}
	if rec != nil && err == nil {
		// The outcome stays ok (the backup restored and verified); the
		// missed target is said with its figure.
		if missed := rec.Missed(); len(missed) > 0 {
			detail = append(detail, "targets missed: "+strings.Join(missed, "; "))
		}
	}
	var f *drill.Failure
	switch {
	case errors.As(err, &f):
		e.Outcome = "fail"
		detail = append(detail, f.Class+": "+f.Detail)
	case err != nil:
		e.Outcome = "error"
		detail = append(detail, oneLine(err.Error()))
	}
	e.Detail = strings.Join(detail, "; ")
	return e
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
