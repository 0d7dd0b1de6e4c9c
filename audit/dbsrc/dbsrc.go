// Package dbsrc samples MySQL and MariaDB columns through database/sql and
// says, per column, whether it holds identifiers in plaintext, masked, hashed
// or encrypted form, and per table whether its storage is encrypted at rest.
//
// It must never load the server: it reads at most Options.Sample rows per
// table from random points of an integer key (never ORDER BY RAND(), never a
// full scan), in read-only transactions, with a per-statement time limit, on
// at most Options.Parallel connections. It must never print or return a raw
// value or the DSN's password: records carry masks and keyed fingerprints
// only, and errors are scrubbed of the password.
package dbsrc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/atrest/atrest/crypto"
	"github.com/go-sql-driver/mysql"
)

// Options for Scan. Zero values take the defaults.
type Options struct {
	DSN       crypto.Secret // go-sql-driver DSN; never printed
	Databases []string      // empty: the DSN's database, else every database but the system ones
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

// RedactDSN returns dsn with its password replaced by ***, for messages.
func RedactDSN(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "***"
	}
	return cfg.FormatDSN()
}

// Scan samples the tables of the server in opts.DSN and calls emit, serially
// and in table order, with a *ServerRecord first, then for each table its
// *ColumnVerdict records and a *TableRecord. A table that cannot be read is
// reported in its TableRecord's Error and the scan goes on; when the server
// goes away the records already emitted stand and the error names the table
// (`scan db: sample yb.cb_ryxx: …`).
func Scan(ctx context.Context, opts Options, emit func(any)) error {
	opts.defaults()
	cfg, err := mysql.ParseDSN(opts.DSN.Reveal())
	if err != nil {
		// The driver's parse errors name the problem, not the values.
		return fmt.Errorf("scan db: invalid DSN: %w", err)
	}
	if len(opts.Databases) == 0 && cfg.DBName != "" {
		// A DSN that names a database means that one.
		opts.Databases = []string{cfg.DBName}
	}
	s := &scanner{opts: opts, secret: cfg.Passwd}
	return s.redact(s.run(ctx, cfg, emit))
}

type scanner struct {
	opts   Options
	secret string // the DSN's password, scrubbed from every error
	db     *sql.DB
	server *serverInfo
}

func (s *scanner) run(ctx context.Context, cfg *mysql.Config, emit func(any)) error {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		// A network that stops answering must not hang the scan for ever;
		// the server ends slow statements itself (max_statement_time).
		cfg.ReadTimeout = s.opts.StatementTimeout + time.Minute
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("scan db: %w", err)
	}
	s.db = sql.OpenDB(conn)
	defer s.db.Close()
	s.db.SetMaxOpenConns(s.opts.Parallel)
	s.db.SetMaxIdleConns(s.opts.Parallel)

	where := cfg.User + "@" + cfg.Addr
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("scan db: connect %s: %w", where, err)
	}
	s.server, err = s.readServer(ctx)
	if err != nil {
		return fmt.Errorf("scan db: server %s: %w", where, err)
	}
	tables, dbs, err := s.enumerate(ctx)
	if err != nil {
		return fmt.Errorf("scan db: list tables on %s: %w", where, err)
	}
	if err := s.encryption(ctx, tables); err != nil {
		return fmt.Errorf("scan db: encryption status on %s: %w", where, err)
	}
	rec := s.server.record(cfg.Addr, cfg.User)
	rec.Databases, rec.Tables = dbs, len(tables)
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
func (s *scanner) sampleAll(ctx context.Context, tables []*table, emit func(any)) error {
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
			defer wk.close()
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

// worker owns one connection, set up once for sampling.
type worker struct {
	s    *scanner
	conn *sql.Conn
}

func (w *worker) get(ctx context.Context) (*sql.Conn, error) {
	if w.conn != nil {
		return w.conn, nil
	}
	c, err := w.s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if w.s.server.mariadb {
		// MySQL has no such variable; it gets a MAX_EXECUTION_TIME hint on
		// each SELECT instead.
		// 0 would mean no limit: never round a tiny timeout down to it.
		secs := max(w.s.opts.StatementTimeout.Seconds(), 0.001)
		q := fmt.Sprintf("SET SESSION max_statement_time = %.3f", secs)
		if _, err := c.ExecContext(ctx, q); err != nil {
			c.Close()
			return nil, err
		}
	}
	w.conn = c
	return c, nil
}

func (w *worker) drop() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

func (w *worker) close() { w.drop() }

// tableLevel reports whether err is the server refusing or aborting one
// statement (no privilege, statement timeout, a missing table), after which
// the scan goes on; anything else (the connection is gone) ends the scan.
func tableLevel(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1053, // server shutdown in progress
		1927, // connection was killed
		1040, // too many connections
		2006, 2013:
		return false
	}
	return true
}

// redactedError hides the DSN password in any message, whichever layer wrote it.
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, "***")
}
func (e *redactedError) Unwrap() error { return e.err }

// minSecret: shorter passwords are not scrubbed, as replacing every "1" in
// a message would make it unreadable; no layer puts a password in a message
// anyway, and the scrub is a second line of defence.
const minSecret = 4

func (s *scanner) redact(err error) error {
	if err == nil || len(s.secret) < minSecret {
		return err
	}
	return &redactedError{err: err, secret: s.secret}
}

func (s *scanner) redactString(msg string) string {
	if len(s.secret) < minSecret {
		return msg
	}
	return strings.ReplaceAll(msg, s.secret, "***")
}

// quote quotes a MySQL identifier.
func quote(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
