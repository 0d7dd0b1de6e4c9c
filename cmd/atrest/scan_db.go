package main

import (
	"fmt"
	"os"
	"time"

	"github.com/atrest/atrest/engine/pick"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
	"github.com/spf13/cobra"
)

type scanDBOptions struct {
	commonFlags
	onlyFlag
	dsn       string
	dsnEnv    string
	source    string
	databases []string
	sample    int
	parallel  int
	timeout   time.Duration
}

func newScanDBCmd() *cobra.Command {
	var o scanDBOptions
	cmd := &cobra.Command{
		Use:   "db --dsn DSN [--database NAME]... [--sample N] [flags]",
		Short: "Sample MySQL/MariaDB or PostgreSQL columns and say which hold identifiers in plaintext",
		Long: `scan db samples every column that can hold an identifier (character, text, JSON,
enum/set, binary and blob, integer and decimal) and gives each a state:
plaintext, masked, hashed, encrypted or none, with the identifier type, how many
sampled values matched, a masked example and a confidence. Per table it reports
whether the storage is encrypted at rest; a server record gives the encryption
and transport settings. A plaintext column in a table that is not encrypted at
rest is the worst case (severity high).

It does not load the server: at most --sample rows per table, read from random
points of an integer primary key (tables without one: the first rows, and the
table record says so), never ORDER BY RAND(), never a full scan, in read-only
transactions with a per-statement time limit, on at most --parallel connections.
A user with only SELECT is enough. The DSN's password is never printed.

The DSN is go-sql-driver's for MySQL (user:password@tcp(host:3306)/) or a
postgres:// URL for PostgreSQL (postgres://user:password@host:5432/db: every
schema of that database; --database names schemas). To keep the password out of
the process list, use --dsn-env NAME or --config with --source.

` + exitHelp,
		Example: `  atrest scan db --dsn 'audit@tcp(db1:3306)/' --database yb
  YB_DSN='audit:…@tcp(db1:3306)/' atrest scan db --dsn-env YB_DSN --format jsonl > yb.jsonl
  atrest scan db --config /etc/atrest/atrest.yaml --source yb-prod`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runScanDB(cmd, o) },
	}
	o.commonFlags.add(cmd, "table, json or jsonl")
	o.onlyFlag.add(cmd)
	cmd.Flags().StringVar(&o.dsn, "dsn", "", "go-sql-driver DSN (user:pass@tcp(127.0.0.1:3306)/) or postgres:// URL")
	cmd.Flags().StringVar(&o.dsnEnv, "dsn-env", "", "name of an environment variable holding the DSN")
	cmd.Flags().StringVar(&o.source, "source", "", "with --config: the sources[] entry to scan")
	cmd.Flags().StringArrayVar(&o.databases, "database", nil, "database to scan (repeatable; default: all but the system schemas)")
	cmd.Flags().IntVar(&o.sample, "sample", 1000, "rows sampled per table")
	cmd.Flags().IntVar(&o.parallel, "parallel", 2, "connections, hence tables sampled at once")
	cmd.Flags().DurationVar(&o.timeout, "statement-timeout", 30*time.Second, "server-side limit for each statement")
	return cmd
}

func runScanDB(cmd *cobra.Command, o scanDBOptions) error {
	if err := o.check(cmd); err != nil {
		return err
	}
	cfg, err := o.loadConfig()
	if err != nil {
		return err
	}
	spec, err := o.resolveDSN(cfg)
	if err != nil {
		return err
	}
	spec.Sample, spec.Parallel, spec.Timeout = o.sample, o.parallel, o.timeout
	fp, err := jobs.Fingerprinter(cfg)
	if err != nil {
		return err
	}
	w, err := o.writer(cmd)
	if err != nil {
		return err
	}
	run := jobs.NewDBRun(spec)
	stopProgress := startProgress(cmd.ErrOrStderr(), run.Progress)
	sum, entry, err := run.Run(cmd.Context(), fp, func(rec any) error {
		if !o.keep(rec) {
			return nil
		}
		return w.Write(rec)
	})
	stopProgress()
	if jerr := record(cfg, entry); jerr != nil && err == nil {
		err = jerr
	}
	if err == nil {
		err = w.Write(sum)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err // dbsrc's errors already say "scan db: …" and carry no password
	}
	if sum.PlaintextColumns > 0 {
		return errFound{fmt.Sprintf("%d columns hold identifiers in plaintext", sum.PlaintextColumns)}
	}
	if sum.TableErrors > 0 {
		return errPartial{fmt.Sprintf("%d table(s) could not be sampled (their table records say why): their columns are not known to be clean", sum.TableErrors)}
	}
	return nil
}

// resolveDSN picks the DSN from --dsn, --dsn-env or the config's source,
// and its engine, with a subject for the journal that carries no password.
func (o scanDBOptions) resolveDSN(cfg *config.Config) (jobs.DBScan, error) {
	var dsn string
	switch {
	case o.dsn != "":
		dsn = o.dsn
	case o.dsnEnv != "":
		var err error
		if dsn, err = config.Env("scan db: --dsn-env", o.dsnEnv); err != nil {
			return jobs.DBScan{}, err
		}
	case o.source != "" && cfg != nil:
		src, ok := cfg.Source(o.source)
		if !ok {
			return jobs.DBScan{}, fmt.Errorf("scan db: --source %q is not a sources[] entry in %s", o.source, cfg.Path)
		}
		spec, err := jobs.SourceScan(src)
		if len(o.databases) > 0 {
			spec.Databases = o.databases
		}
		return spec, err
	case o.source != "":
		return jobs.DBScan{}, fmt.Errorf("scan db: --source needs --config")
	default:
		if dsn = os.Getenv("ATREST_DSN"); dsn == "" {
			return jobs.DBScan{}, fmt.Errorf("scan db: give --dsn, --dsn-env or --config with --source")
		}
	}
	eng, err := pick.Engine("", dsn)
	if err != nil {
		return jobs.DBScan{}, fmt.Errorf("scan db: %w", err)
	}
	d, _ := eng.DSN(dsn)
	return jobs.DBScan{Subject: d.Redacted, Engine: eng, DSN: dsn, Databases: o.databases}, nil
}
