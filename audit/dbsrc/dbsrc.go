// Package dbsrc samples the columns of a database and says, per column,
// whether it holds identifiers in plaintext, masked, hashed or encrypted
// form, and per table whether its storage is encrypted at rest. It reaches
// the database through an engine.Scanner and knows no database family:
// engine/mysql and engine/postgres say how to list and read tables.
//
// It must never load the server: it reads at most Options.Sample rows per
// table from random points of an integer key, or random pages where the
// engine can read them (never ORDER BY RAND(), never a full scan), in
// read-only transactions, with a per-statement time limit, on at most
// Options.Parallel connections. It must never print or return a raw value
// or the DSN's password: records carry masks and keyed fingerprints only,
// and errors are scrubbed of the password.
package dbsrc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine"
)

// Options for Scan. Zero values take the defaults.
type Options struct {
	// Engine is the database family of DSN (engine/pick chooses it).
	Engine engine.Engine
	DSN    crypto.Secret // never printed
	// Databases to scan; empty: the DSN's database, else every database
	// but the system ones (on PostgreSQL: schemas of the DSN's database).
	Databases []string
	// Sample is the number of rows read per table (default 1000).
	Sample int
	// Parallel is the number of connections, hence tables sampled at once
	// (default 2).
	Parallel int
	// StatementTimeout bounds each statement on the server (default 30s).
	StatementTimeout time.Duration
	// Fingerprint, when set, fingerprints each column's example value so the
	// same identifier can be correlated across sources.
	Fingerprint *crypto.Fingerprinter
	// Seed fixes the random sampling points (0: a fresh seed per scan).
	Seed uint64
}

func (o *Options) defaults() {
	if o.Sample <= 0 {
		o.Sample = 1000
	}
	if o.Parallel <= 0 {
		o.Parallel = 2
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = 30 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64() // one seed per scan, for every table
	}
}

// Scan samples the tables of the server in opts.DSN and calls emit, serially
// and in table order, with a *ServerRecord first, then for each table its
// *ColumnVerdict records and a *TableRecord. A table that cannot be read is
// reported in its TableRecord's Error and the scan goes on; when the server
// goes away the records already emitted stand and the error names the table
// (`scan db: sample yb.cb_ryxx: …`).
func Scan(ctx context.Context, opts Options, emit func(any)) error {
	opts.defaults()
	if opts.Engine == nil {
		return errors.New("scan db: no database engine")
	}
	sc, err := opts.Engine.Scan(ctx, opts.DSN.Reveal(), engine.ScanOptions{Parallel: opts.Parallel, StatementTimeout: opts.StatementTimeout})
	if err != nil {
		return fmt.Errorf("scan db: %w", err) // the engine scrubbed the password
	}
	defer sc.Close()
	s := &scanner{opts: opts, sc: sc}
	return sc.Redactor().Err(s.run(ctx, emit))
}

type scanner struct {
	opts Options
	sc   engine.Scanner
}

func (s *scanner) run(ctx context.Context, emit func(any)) error {
	where := s.sc.Where()
	tables, dbs, err := s.sc.Tables(ctx, s.opts.Databases)
	if err != nil {
		return fmt.Errorf("scan db: list tables on %s: %w", where, err)
	}
	rec, err := s.sc.Server(ctx)
	if err != nil {
		return fmt.Errorf("scan db: server %s: %w", where, err)
	}
	rec.Record, rec.Databases, rec.Tables = "server", dbs, len(tables)
	emit(rec)
	return s.sampleAll(ctx, tables, emit)
}

// result is what sampling one table produced, emitted in table order.
type result struct {
	done    chan struct{}
	skipped bool
	records []any
	fatal   error
}

// sampleAll runs opts.Parallel workers, each on its own connection, and emits
// results in table order as they become ready.
func (s *scanner) sampleAll(ctx context.Context, tables []*engine.Table, emit func(any)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]*result, len(tables))
	for i := range results {
		results[i] = &result{done: make(chan struct{})}
	}
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := range tables {
			select {
			case jobs <- i:
			case <-ctx.Done():
				for _, r := range results[i:] {
					r.skipped = true
					close(r.done)
				}
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < s.opts.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := &worker{s: s}
			defer wk.drop()
			for i := range jobs {
				r := results[i]
				if ctx.Err() != nil {
					r.skipped = true
				} else {
					r.records, r.fatal = s.scanTable(ctx, wk, tables[i], uint64(i))
				}
				close(r.done)
			}
		}()
	}
	var first error
	for _, r := range results {
		<-r.done
		if r.skipped {
			continue
		}
		for _, rec := range r.records {
			emit(rec)
		}
		if r.fatal != nil && first == nil {
			first = r.fatal
			cancel() // stop handing out tables; finished ones are still emitted
		}
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("scan db: %w", context.Cause(ctx))
	}
	return first
}

// worker owns one reader (one connection), opened at its first table.
type worker struct {
	s *scanner
	r engine.Reader
}

func (w *worker) get(ctx context.Context) (engine.Reader, error) {
	if w.r != nil {
		return w.r, nil
	}
	r, err := w.s.sc.Reader(ctx)
	if err != nil {
		return nil, err
	}
	w.r = r
	return r, nil
}

// drop closes the reader: after a failure its connection is not trusted
// again.
func (w *worker) drop() {
	if w.r != nil {
		w.r.Close()
		w.r = nil
	}
}
