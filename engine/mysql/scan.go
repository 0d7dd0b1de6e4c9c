package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/atrest/atrest/engine"
)

// scanner is engine.Scanner on MySQL and MariaDB: information_schema for
// the tables, SHOW VARIABLES for the server, and readers that seek random
// points of an integer key, each statement bounded by the server
// (max_statement_time on MariaDB, a MAX_EXECUTION_TIME hint on MySQL).
type scanner struct {
	opts   engine.ScanOptions
	db     *sql.DB
	red    engine.Redactor
	addr   string
	user   string
	dbName string // the DSN's database
	server *serverInfo
	// What Tables learnt beside the engine's values, read by the readers.
	tables map[*engine.Table]*scanTableInfo
	cols   map[*engine.Column]*scanColumn
}

// Scan connects, checks the server answers and reads its settings.
func (Engine) Scan(ctx context.Context, dsn string, opts engine.ScanOptions) (engine.Scanner, error) {
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return nil, dsnError(err) // names the problem, not the values
	}
	s := &scanner{opts: opts, red: engine.NewRedactor(cfg.Passwd), addr: cfg.Addr, user: cfg.User, dbName: cfg.DBName,
		tables: map[*engine.Table]*scanTableInfo{}, cols: map[*engine.Column]*scanColumn{}}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ReadTimeout == 0 {
		// A network that stops answering must not hang the scan for ever;
		// the server ends slow statements itself (max_statement_time).
		cfg.ReadTimeout = opts.StatementTimeout + time.Minute
	}
	conn, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return nil, s.red.Err(err)
	}
	s.db = sql.OpenDB(conn)
	s.db.SetMaxOpenConns(max(1, opts.Parallel))
	s.db.SetMaxIdleConns(max(1, opts.Parallel))
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, s.red.Err(fmt.Errorf("connect %s: %w", s.Where(), err))
	}
	if s.server, err = s.readServer(ctx); err != nil {
		s.db.Close()
		return nil, s.red.Err(fmt.Errorf("server %s: %w", s.Where(), err))
	}
	return s, nil
}

func (s *scanner) Where() string             { return s.user + "@" + s.addr }
func (s *scanner) Redactor() engine.Redactor { return s.red }
func (s *scanner) Close() error              { return s.db.Close() }
func (s *scanner) Refused(err error) bool    { return refused(err) }
func (s *scanner) Server(context.Context) (*engine.ServerRecord, error) {
	return s.server.record(s.addr, s.user), nil
}

// refused reports whether err is the server refusing or aborting one
// statement (no privilege, statement timeout, a missing table), after
// which the connection is still good; anything else (the connection is
// gone) is not.
func refused(err error) bool {
	var me *mysqldrv.MySQLError
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

// reader owns one connection, set up once for sampling.
type reader struct {
	s    *scanner
	conn *sql.Conn
	tx   *sql.Tx
}

func (s *scanner) Reader(ctx context.Context) (engine.Reader, error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if s.server.mariadb {
		// MySQL has no such variable; it gets a MAX_EXECUTION_TIME hint on
		// each SELECT instead.
		// 0 would mean no limit: never round a tiny timeout down to it.
		secs := max(s.opts.StatementTimeout.Seconds(), 0.001)
		q := fmt.Sprintf("SET SESSION max_statement_time = %.3f", secs)
		if _, err := c.ExecContext(ctx, q); err != nil {
			c.Close()
			return nil, err
		}
	}
	return &reader{s: s, conn: c}, nil
}

func (r *reader) Close() { r.End(); r.conn.Close() }

// Begin opens the read-only transaction a table is sampled in.
func (r *reader) Begin(ctx context.Context) error {
	tx, err := r.conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // START TRANSACTION READ ONLY
	if err != nil {
		return err
	}
	r.tx = tx
	return nil
}

func (r *reader) End() {
	if r.tx != nil {
		r.tx.Rollback() // nothing to commit: read-only
		r.tx = nil
	}
}

func (r *reader) exprs(cols []*engine.Column) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = r.s.cols[c].expr(c.Name)
	}
	return strings.Join(out, ", ")
}

func from(t *engine.Table) string { return quoteIdent(t.Database) + "." + quoteIdent(t.Name) }

// Head reads the first rows. No ORDER BY: sorting on anything but an
// index would read the whole table.
func (r *reader) Head(ctx context.Context, t *engine.Table, cols []*engine.Column, limit int, row engine.Row) (int, error) {
	q := fmt.Sprintf("SELECT %s%s FROM %s LIMIT %d", r.hint(), r.exprs(cols), from(t), limit)
	n, _, err := r.read(ctx, q, len(cols), false, row)
	return n, err
}

// Bounds reads MIN and MAX of the key: two index seeks.
func (r *reader) Bounds(ctx context.Context, t *engine.Table) (string, string, error) {
	key := quoteIdent(t.Key.Name)
	var lo, hi sql.NullString
	q := fmt.Sprintf("SELECT %sMIN(%s), MAX(%s) FROM %s", r.hint(), key, key, from(t))
	err := r.tx.QueryRowContext(ctx, q).Scan(&lo, &hi)
	return lo.String, hi.String, err // "" for an empty table
}

// Range reads a short range of the key from an index seek.
func (r *reader) Range(ctx context.Context, t *engine.Table, cols []*engine.Column, lo, hi *big.Int, limit int, row engine.Row) (int, string, error) {
	key := quoteIdent(t.Key.Name)
	cond := fmt.Sprintf("%s >= %s", key, lo)
	if hi != nil {
		cond += fmt.Sprintf(" AND %s < %s", key, hi)
	}
	q := fmt.Sprintf("SELECT %s%s, %s FROM %s FORCE INDEX (%s) WHERE %s ORDER BY %s LIMIT %d",
		r.hint(), key, r.exprs(cols), from(t), quoteIdent(t.KeyIndex), cond, key, limit)
	return r.read(ctx, q, len(cols), true, row)
}

// hint is MySQL's per-statement time limit; MariaDB has max_statement_time
// set on the session instead.
func (r *reader) hint() string {
	if r.s.server.mariadb {
		return ""
	}
	return fmt.Sprintf("/*+ MAX_EXECUTION_TIME(%d) */ ", r.s.opts.StatementTimeout.Milliseconds())
}

// read runs q and hands each row to row; with keyed, the first column is
// the key and last returns its value in the last row.
func (r *reader) read(ctx context.Context, q string, ncols int, keyed bool, row engine.Row) (got int, last string, err error) {
	rows, err := r.tx.QueryContext(ctx, q)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	off := 0
	if keyed {
		off = 1
	}
	vals := make([]sql.RawBytes, ncols+off)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	values := make([][]byte, ncols)
	var lastKey []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return got, "", err
		}
		// RawBytes point into the driver's buffer until the next row: each
		// value is judged now and never kept.
		for i := range values {
			values[i] = vals[i+off]
		}
		row(values)
		if keyed {
			lastKey = append(lastKey[:0], vals[0]...)
		}
		got++
	}
	return got, string(lastKey), rows.Err()
}
