package postgres

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atrest/atrest/engine"
)

// scanner is engine.Scanner on PostgreSQL: the catalogs for the schemas,
// tables, columns and keys of the DSN's database, current_setting for the
// server, and readers that seek random points of an integer key or read
// random pages (TABLESAMPLE SYSTEM), every statement bounded by
// statement_timeout, every transaction read-only.
type scanner struct {
	dsn    string
	opts   engine.ScanOptions
	conn   *pgx.Conn // the catalog connection
	red    engine.Redactor
	where  string
	tables map[*engine.Table]*scanTable
	cols   map[*engine.Column]*scanColumn
}

// scanTable is what the scan keeps of a table beside engine.Table.
type scanTable struct {
	oid   uint32
	pages int64 // the table's size in pages, now
}

// scanColumn is what the scan keeps of a column beside engine.Column.
type scanColumn struct {
	base   string // the type, or a domain's base type (text, int8, jsonb …)
	binary bool   // bytea: read as raw bytes
}

// Scan connects for a scan: a read-only session with a statement timeout.
func (Engine) Scan(ctx context.Context, dsn string, opts engine.ScanOptions) (engine.Scanner, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, invalidDSN(err)
	}
	s := &scanner{dsn: dsn, opts: opts, red: engine.NewRedactor(cfg.Password),
		where:  cfg.User + "@" + address(&cfg.Config),
		tables: map[*engine.Table]*scanTable{}, cols: map[*engine.Column]*scanColumn{}}
	if s.conn, err = s.connect(ctx); err != nil {
		return nil, s.red.Err(err)
	}
	return s, nil
}

func (s *scanner) connect(ctx context.Context) (*pgx.Conn, error) {
	// 0 would mean no limit: never round a tiny timeout down to it.
	ms := max(s.opts.StatementTimeout.Milliseconds(), 1)
	return connect(ctx, s.dsn, map[string]string{
		"statement_timeout":             strconv.FormatInt(ms, 10),
		"default_transaction_read_only": "on",
	})
}

func (s *scanner) Where() string             { return s.where }
func (s *scanner) Redactor() engine.Redactor { return s.red }
func (s *scanner) Refused(err error) bool    { return refused(err) }
func (s *scanner) Close() error              { return s.conn.Close(context.Background()) }

// reader is one connection reading sampled rows.
type reader struct {
	s    *scanner
	conn *pgx.Conn
	inTx bool
}

func (s *scanner) Reader(ctx context.Context) (engine.Reader, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	return &reader{s: s, conn: c}, nil
}

func (r *reader) Close() {
	r.End()
	r.conn.Close(context.Background())
}

func (r *reader) Begin(ctx context.Context) error {
	if _, err := r.conn.Exec(ctx, "BEGIN READ ONLY"); err != nil {
		return err
	}
	r.inTx = true
	return nil
}

func (r *reader) End() {
	if r.inTx {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r.conn.Exec(ctx, "ROLLBACK")
		cancel()
		r.inTx = false
	}
}

// exprs are the select list and its result formats: every value as text
// capped at engine.ValueCap bytes, bytea as raw bytes.
func (r *reader) exprs(cols []*engine.Column) (string, []int16) {
	out := make([]string, len(cols))
	formats := make([]int16, len(cols))
	for i, c := range cols {
		q := quoteIdent(c.Name)
		switch sc := r.s.cols[c]; {
		case sc.binary:
			out[i], formats[i] = fmt.Sprintf("substring(%s from 1 for %d)", q, valueCap), 1
		case sc.base == "int8" || sc.base == "numeric":
			out[i] = q + "::text"
		default:
			out[i] = fmt.Sprintf("left(%s::text, %d)", q, valueCap)
		}
	}
	return strings.Join(out, ", "), formats
}

func (r *reader) from(t *engine.Table) string { return qualified(t.Database, t.Name) }

// Head reads the first rows in whatever order a sequential scan meets
// them: the scan stops at the limit.
func (r *reader) Head(ctx context.Context, t *engine.Table, cols []*engine.Column, limit int, row engine.Row) (int, error) {
	sel, formats := r.exprs(cols)
	n, _, err := r.read(ctx, fmt.Sprintf("SELECT %s FROM %s LIMIT %d", sel, r.from(t), limit), formats, false, row)
	return n, err
}

// Bounds reads min and max of the key: two descents of its btree.
func (r *reader) Bounds(ctx context.Context, t *engine.Table) (string, string, error) {
	key := quoteIdent(t.Key.Name)
	var lo, hi *string
	q := fmt.Sprintf("SELECT min(%s)::text, max(%s)::text FROM %s", key, key, r.from(t))
	if err := r.conn.QueryRow(ctx, q).Scan(&lo, &hi); err != nil || lo == nil || hi == nil {
		return "", "", err // "" for an empty table
	}
	return *lo, *hi, nil
}

// Range reads a short range of the key: an index scan from a seek.
func (r *reader) Range(ctx context.Context, t *engine.Table, cols []*engine.Column, lo, hi *big.Int, limit int, row engine.Row) (int, string, error) {
	// The key qualified by the table's alias: unqualified, ORDER BY would
	// take a sampled column's output of the same name (the key cast to
	// text) and sort text. In the text format an integer is its decimal
	// digits.
	key := "atrest_t." + quoteIdent(t.Key.Name)
	cond := fmt.Sprintf("%s >= %s", key, lo)
	if hi != nil {
		cond += fmt.Sprintf(" AND %s < %s", key, hi)
	}
	sel, formats := r.exprs(cols)
	q := fmt.Sprintf("SELECT %s, %s FROM %s AS atrest_t WHERE %s ORDER BY %s LIMIT %d", key, sel, r.from(t), cond, key, limit)
	return r.read(ctx, q, append([]int16{0}, formats...), true, row)
}

// blockOversample is how many more rows than wanted the pages chosen at
// random should hold: enough that a table with unevenly filled pages still
// gives a full sample, few enough that the cut at the limit drops little.
const blockOversample = 1.5

// Blocks reads rows from pages chosen at random (TABLESAMPLE SYSTEM): the
// share of pages is set so that they hold about the sample, so the cost is
// the same for ten thousand rows and for a billion.
func (r *reader) Blocks(ctx context.Context, t *engine.Table, cols []*engine.Column, limit int, seed uint64, row engine.Row) (int, error) {
	st := r.s.tables[t]
	pct := 100.0
	switch {
	case t.Rows > 0:
		pct = 100 * blockOversample * float64(limit) / float64(t.Rows)
	case st.pages > 0:
		// Never analysed: no row count. At least a row a page, so this
		// many pages hold the sample.
		pct = 100 * blockOversample * float64(limit) / float64(st.pages)
	}
	pct = min(pct, 100)
	sel, formats := r.exprs(cols)
	q := fmt.Sprintf("SELECT %s FROM %s TABLESAMPLE SYSTEM (%g) REPEATABLE (%d) LIMIT %d",
		sel, r.from(t), pct, seed%(1<<31), limit)
	n, _, err := r.read(ctx, q, formats, false, row)
	return n, err
}

// read runs q and hands each row to row; with keyed, the first column is
// the key and last returns its value in the last row.
func (r *reader) read(ctx context.Context, q string, formats []int16, keyed bool, row engine.Row) (int, string, error) {
	rr := r.conn.PgConn().ExecParams(ctx, q, nil, nil, nil, formats)
	got := 0
	var lastKey []byte
	for rr.NextRow() {
		vals := rr.Values() // valid until the next row: judged now, never kept
		if keyed {
			lastKey = append(lastKey[:0], vals[0]...)
			vals = vals[1:]
		}
		row(vals)
		got++
	}
	_, err := rr.Close()
	return got, string(lastKey), err
}
