package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/atrest/atrest/audit/dbsrc"
	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/pick"
	"github.com/atrest/atrest/internal/config"
)

// DBScan is what one database scan covers.
type DBScan struct {
	Subject   string // the source's name, or the DSN without its password
	Engine    engine.Engine
	DSN       string
	Databases []string
	Sample    int
	Parallel  int
	Timeout   time.Duration // per statement; 0: the scanner's default
}

// SourceScan is the scan of a sources[] entry: its DSN and its engine.
func SourceScan(src *config.Source) (DBScan, error) {
	dsn, err := src.DSN()
	if err != nil {
		return DBScan{}, err
	}
	eng, err := pick.Engine(src.Driver, dsn)
	if err != nil {
		return DBScan{}, fmt.Errorf("source %s: %w", src.Name, err)
	}
	return DBScan{Subject: src.Name, Engine: eng, DSN: dsn, Databases: src.Databases, Sample: src.Sample}, nil
}

// DBSummary closes a database scan's output.
type DBSummary struct {
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

// DBRun is one database scan, whose progress can be read while it runs.
type DBRun struct {
	spec DBScan
	mu   sync.Mutex
	sum  DBSummary
}

// NewDBRun prepares a database scan.
func NewDBRun(spec DBScan) *DBRun {
	return &DBRun{spec: spec, sum: DBSummary{Record: "summary", ByState: map[string]int{}, PlaintextByType: map[string]int{}}}
}

// Progress is the scan so far, in a few words.
func (r *DBRun) Progress() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%d tables  %d columns  %d plaintext", r.sum.Tables, r.sum.Columns, r.sum.PlaintextColumns)
}

// Run scans with the fingerprint key fp, handing every record to emit
// (one at a time), and returns the summary and the run's journal entry,
// which names the columns that hold identifiers. An error emit returns
// stops nothing; the first is returned.
func (r *DBRun) Run(ctx context.Context, fp *crypto.Fingerprinter, emit func(any) error) (DBSummary, journal.Entry, error) {
	start := time.Now()
	var items itemCollector
	var emitErr error
	err := dbsrc.Scan(ctx, dbsrc.Options{Engine: r.spec.Engine, DSN: crypto.NewSecret(r.spec.DSN), Databases: r.spec.Databases,
		Sample: r.spec.Sample, Parallel: r.spec.Parallel, StatementTimeout: r.spec.Timeout, Fingerprint: fp},
		func(rec any) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.tally(rec)
			items.add(rec)
			if emitErr == nil {
				emitErr = emit(rec)
			}
		})
	r.mu.Lock()
	r.sum.Seconds = time.Since(start).Seconds()
	sum := r.sum
	r.mu.Unlock()
	e := DBEntry(r.spec.Subject, sum, err)
	e.Items, e.Figures["items_total"] = items.items()
	if err == nil {
		err = emitErr
	}
	return sum, e, err
}

func (r *DBRun) tally(rec any) {
	switch x := rec.(type) {
	case *dbsrc.ColumnVerdict:
		r.sum.Columns++
		r.sum.ByState[x.State]++
		if x.State == dbsrc.StatePlaintext {
			r.sum.PlaintextColumns++
			r.sum.PlaintextByType[string(x.Type)]++
		}
	case *dbsrc.TableRecord:
		r.sum.Tables++
		if x.EncryptedAtRest {
			r.sum.TablesEncrypted++
		}
		if x.Error != "" {
			r.sum.TableErrors++
		}
	}
}

// DBEntry is the journal's account of a database scan: counts by state and
// type (the caller adds the items).
func DBEntry(subject string, sum DBSummary, err error) journal.Entry {
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
