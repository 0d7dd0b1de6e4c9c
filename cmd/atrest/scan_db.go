package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/atrest/atrest/audit/dbsrc"
	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/pick"
	"github.com/atrest/atrest/internal/config"
	"github.com/spf13/cobra"
)

type scanDBOptions struct {
	commonFlags
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
	o.add(cmd, "table, json or jsonl")
	cmd.Flags().StringVar(&o.dsn, "dsn", "", "go-sql-driver DSN (user:pass@tcp(127.0.0.1:3306)/) or postgres:// URL")
	cmd.Flags().StringVar(&o.dsnEnv, "dsn-env", "", "name of an environment variable holding the DSN")
	cmd.Flags().StringVar(&o.source, "source", "", "with --config: the sources[] entry to scan")
	cmd.Flags().StringArrayVar(&o.databases, "database", nil, "database to scan (repeatable; default: all but the system schemas)")
	cmd.Flags().IntVar(&o.sample, "sample", 1000, "rows sampled per table")
	cmd.Flags().IntVar(&o.parallel, "parallel", 2, "connections, hence tables sampled at once")
	cmd.Flags().DurationVar(&o.timeout, "statement-timeout", 30*time.Second, "server-side limit for each statement")
	return cmd
}

// dbSummary closes a database scan's output.
type dbSummary struct {
	Record           string         `json:"record"` // always "summary"
	Tables           int            `json:"tables"`
	TablesEncrypted  int            `json:"tables_encrypted_at_rest"`
	TableErrors      int            `json:"table_errors"`
	Columns          int            `json:"columns_sampled"`
	PlaintextColumns int            `json:"plaintext_columns"`
	ByState          map[string]int `json:"by_state"`
	PlaintextByType  map[string]int `json:"plaintext_by_type"`
	Seconds          float64        `json:"seconds"`
}

func runScanDB(cmd *cobra.Command, o scanDBOptions) error {
	cfg, err := o.loadConfig()
	if err != nil {
		return err
	}
	eng, dsn, subject, databases, err := o.resolveDSN(cfg)
	if err != nil {
		return err
	}
	fp, err := fingerprinter(cfg)
	if err != nil {
		return err
	}
	w, err := o.writer(cmd)
	if err != nil {
		return err
	}
	sum := dbSummary{Record: "summary", ByState: map[string]int{}, PlaintextByType: map[string]int{}}
	start := time.Now()
	var writeErr error
	var mu sync.Mutex // the progress line reads sum while records arrive
	stopProgress := startProgress(cmd.ErrOrStderr(), func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("%d tables  %d columns  %d plaintext", sum.Tables, sum.Columns, sum.PlaintextColumns)
	})
	err = dbsrc.Scan(cmd.Context(), dbsrc.Options{Engine: eng, DSN: crypto.NewSecret(dsn), Databases: databases,
		Sample: o.sample, Parallel: o.parallel, StatementTimeout: o.timeout, Fingerprint: fp},
		func(rec any) {
			mu.Lock()
			defer mu.Unlock()
			tallyDB(&sum, rec)
			if writeErr == nil {
				writeErr = w.Write(rec)
			}
		})
	stopProgress()
	sum.Seconds = time.Since(start).Seconds()
	if jerr := record(cfg, scanDBEntry(subject, sum, err)); jerr != nil && err == nil {
		err = jerr
	}
	if err == nil {
		err = writeErr
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

// tallyDB adds one scan db record to the summary (scan db and serve).
func tallyDB(sum *dbSummary, rec any) {
	switch r := rec.(type) {
	case *dbsrc.ColumnVerdict:
		sum.Columns++
		sum.ByState[r.State]++
		if r.State == dbsrc.StatePlaintext {
			sum.PlaintextColumns++
			sum.PlaintextByType[string(r.Type)]++
		}
	case *dbsrc.TableRecord:
		sum.Tables++
		if r.EncryptedAtRest {
			sum.TablesEncrypted++
		}
		if r.Error != "" {
			sum.TableErrors++
		}
	}
}

// resolveDSN picks the DSN from --dsn, --dsn-env or the config's source,
// and its engine, and returns a subject for the journal that carries no
// password.
func (o scanDBOptions) resolveDSN(cfg *config.Config) (eng engine.Engine, dsn, subject string, databases []string, err error) {
	databases = o.databases
	switch {
	case o.dsn != "":
		dsn = o.dsn
	case o.dsnEnv != "":
		if dsn, err = config.Env("scan db: --dsn-env", o.dsnEnv); err != nil {
			return
		}
	case o.source != "" && cfg != nil:
		src, ok := cfg.Source(o.source)
		if !ok {
			err = fmt.Errorf("scan db: --source %q is not a sources[] entry in %s", o.source, cfg.Path)
			return
		}
		if eng, dsn, err = sourceEngine(src); err != nil {
			return
		}
		if len(databases) == 0 {
			databases = src.Databases
		}
		return eng, dsn, src.Name, databases, nil
	case o.source != "":
		err = fmt.Errorf("scan db: --source needs --config")
		return
	default:
		if dsn = os.Getenv("ATREST_DSN"); dsn == "" {
			err = fmt.Errorf("scan db: give --dsn, --dsn-env or --config with --source")
			return
		}
	}
	if eng, err = pick.Engine("", dsn); err != nil {
		err = fmt.Errorf("scan db: %w", err)
		return
	}
	d, _ := eng.DSN(dsn)
	return eng, dsn, d.Redacted, databases, nil
}

// sourceEngine resolves a sources[] entry's DSN and its engine.
func sourceEngine(src *config.Source) (engine.Engine, string, error) {
	dsn, err := src.DSN()
	if err != nil {
		return nil, "", err
	}
	eng, err := pick.Engine(src.Driver, dsn)
	if err != nil {
		return nil, "", fmt.Errorf("source %s: %w", src.Name, err)
	}
	return eng, dsn, nil
}

func scanDBEntry(subject string, sum dbSummary, err error) journal.Entry {
	byType := map[string]any{}
	for t, n := range sum.PlaintextByType {
		byType[t] = n
	}
	byState := map[string]any{}
	for s, n := range sum.ByState {
		byState[s] = n
	}
	e := journal.Entry{Kind: "scan.db", Subject: subject, Outcome: "ok", Figures: map[string]any{
		"tables": sum.Tables, "tables_encrypted_at_rest": sum.TablesEncrypted, "table_errors": sum.TableErrors,
		"columns_sampled": sum.Columns, "plaintext_columns": sum.PlaintextColumns,
		"plaintext_by_type": byType, "by_state": byState, "seconds": sum.Seconds}}
	switch {
	case err != nil:
		e.Outcome, e.Detail = "error", oneLine(err.Error())
	case sum.PlaintextColumns > 0:
		e.Outcome = "findings"
	case sum.TableErrors > 0:
		// Not "ok": the columns of the tables not read are not known to
		// be clean, and the metrics take only ok and findings as a
		// completed scan's count.
		e.Outcome = "incomplete"
		e.Detail = fmt.Sprintf("%d table(s) could not be sampled", sum.TableErrors)
	}
	return e
}
