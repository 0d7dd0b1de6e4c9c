package dbsrc

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// rangePoints is how many random points of the key a table is sampled at.
// More points spread the sample wider; each costs one index seek.
const rangePoints = 10

// scanTable samples one table and returns its records: the column verdicts,
// then the table record. fatal is set when the connection, not the table,
// failed; the scan then stops.
func (s *scanner) scanTable(ctx context.Context, w *worker, t *table, n uint64) (recs []any, fatal error) {
	start := time.Now()
	rec := &TableRecord{Record: "table", Database: t.db, Table: t.name, Engine: t.engine,
		RowsEstimate: t.rows, EncryptedAtRest: t.encrypted, Encryption: t.encryption}
	var cols []*column
	for _, c := range t.cols {
		if c.kind != kindSkip {
			cols = append(cols, c)
		}
	}
	rec.Columns = len(cols)
	stats := make([]*colStats, len(cols))
	for i, c := range cols {
		stats[i] = newColStats(c, s.opts.Fingerprint)
	}
	var err error
	if len(cols) > 0 {
		err = s.sampleTable(ctx, w, t, cols, stats, rec, n)
	} else {
		rec.Reason = "no column that can hold an identifier"
	}
	rec.Seconds = time.Since(start).Seconds()
	if err != nil {
		rec.Error = s.redactString(err.Error())
		if !tableLevel(err) {
			w.drop()
			return []any{rec}, fmt.Errorf("scan db: sample %s.%s: %w", t.db, t.name, err)
		}
		if rec.Sampled == 0 {
			return []any{rec}, nil
		}
		rec.Error = "partial sample: " + rec.Error
	}
	for i, c := range cols {
		v := stats[i].verdict()
		v.Record, v.Database, v.Table, v.Column, v.DataType = "column", t.db, t.name, c.name, c.columnType
		v.TableEncrypted = t.encrypted
		v.Severity = severity(v.State, t.encrypted, v)
		if v.State == StatePlaintext {
			rec.PlaintextColumns++
		}
		rec.Severity = worse(rec.Severity, v.Severity)
		recs = append(recs, v)
	}
	return append(recs, rec), nil
}

// sampleTable reads at most opts.Sample rows in one read-only transaction and
// feeds every value to its column's stats.
func (s *scanner) sampleTable(ctx context.Context, w *worker, t *table, cols []*column, stats []*colStats, rec *TableRecord, n uint64) error {
	conn, err := w.get(ctx)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // START TRANSACTION READ ONLY
	if err != nil {
		return err
	}
	defer tx.Rollback() // nothing to commit: read-only

	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = c.expr()
	}
	from := quote(t.db) + "." + quote(t.name)
	sample := s.opts.Sample

	if t.key == nil || t.rows <= int64(sample) {
		rec.Method = "head"
		rec.Reason = t.keyWhyNot
		if t.key != nil {
			rec.Reason = fmt.Sprintf("rows_estimate %d ≤ sample %d: read the first rows", t.rows, sample)
		}
		// No ORDER BY: sorting on anything but an index would read the whole table.
		q := fmt.Sprintf("SELECT %s%s FROM %s LIMIT %d", s.hint(), strings.Join(exprs, ", "), from, sample)
		_, _, err := s.read(ctx, tx, q, stats, rec, false)
		return err
	}

	rec.Method, rec.Key = "key_ranges", t.key.name
	return s.sampleRanges(ctx, tx, t, exprs, stats, rec, n)
}

// sampleRanges reads rows from random points of the table's integer key:
// each point is one index seek and a short range, so the cost is the same
// for ten thousand rows and for a billion.
func (s *scanner) sampleRanges(ctx context.Context, tx *sql.Tx, t *table, exprs []string, stats []*colStats, rec *TableRecord, n uint64) error {
	tbl := quote(t.db) + "." + quote(t.name)
	sample := s.opts.Sample
	key := quote(t.key.name)
	var lo, hi sql.NullString
	q := fmt.Sprintf("SELECT %sMIN(%s), MAX(%s) FROM %s", s.hint(), key, key, tbl)
	if err := tx.QueryRowContext(ctx, q).Scan(&lo, &hi); err != nil {
		return err
	}
	if !lo.Valid || !hi.Valid {
		return nil // empty table
	}
	points, err := s.points(lo.String, hi.String, n)
	if err != nil {
		return err
	}
	per := (sample + len(points) - 1) / len(points)
	rangeQ := func(from, to *big.Int, limit int) (int, *big.Int, error) {
		cond := fmt.Sprintf("%s >= %s", key, from)
		if to != nil {
			cond += fmt.Sprintf(" AND %s < %s", key, to)
		}
		q := fmt.Sprintf("SELECT %s%s, %s FROM %s FORCE INDEX (%s) WHERE %s ORDER BY %s LIMIT %d",
			s.hint(), key, strings.Join(exprs, ", "), tbl, quote(t.keyIndex), cond, key, limit)
		return s.read(ctx, tx, q, stats, rec, true)
	}
	// First pass: a short range at each random point. spans records what
	// was read, [from, to), so no row is read twice.
	type span struct{ from, to *big.Int }
	var spans []span
	var next *big.Int
	for _, p := range points {
		if next != nil && p.Cmp(next) < 0 {
			p = next
		}
		limit := min(per, sample-rec.Sampled)
		if limit <= 0 {
			break
		}
		got, last, err := rangeQ(p, nil, limit)
		if err != nil {
			return err
		}
		if got == 0 {
			break
		}
		next = new(big.Int).Add(last, big.NewInt(1))
		spans = append(spans, span{p, next})
		if got < limit {
			break // the key ran out: later points lie beyond it
		}
	}
	// Points near the top of the key run off its end, and a sparse key
	// leaves short ranges. Spend what is left of the budget on the
	// stretches no range has read — below the first, then between ranges —
	// so a table with more rows than the sample always gives a full sample.
	lowest, _ := new(big.Int).SetString(lo.String, 10)
	gapFrom := lowest
	for i := 0; i <= len(spans) && rec.Sampled < sample; i++ {
		var gapTo *big.Int
		if i < len(spans) {
			gapTo = spans[i].from
		}
		if gapTo == nil || gapFrom.Cmp(gapTo) < 0 {
			if _, _, err := rangeQ(gapFrom, gapTo, sample-rec.Sampled); err != nil {
				return err
			}
		}
		if i < len(spans) {
			gapFrom = spans[i].to
		}
	}
	return nil
}

// points returns rangePoints random points in [lo, hi], ascending. The seed
// depends on the scan's seed and the table's position only, so a scan with a
// fixed seed reads the same rows whatever the parallelism.
func (s *scanner) points(lo, hi string, n uint64) ([]*big.Int, error) {
	a, ok1 := new(big.Int).SetString(lo, 10)
	b, ok2 := new(big.Int).SetString(hi, 10)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("key range %q..%q is not integer", lo, hi)
	}
	r := rand.New(rand.NewPCG(s.opts.Seed, n))
	span := new(big.Int).Sub(b, a)
	span.Add(span, big.NewInt(1))
	pts := make([]*big.Int, rangePoints)
	for i := range pts {
		// A 128-bit random number mod the span is uniform enough for sampling.
		x := new(big.Int).Lsh(new(big.Int).SetUint64(r.Uint64()), 64)
		x.Or(x, new(big.Int).SetUint64(r.Uint64()))
		pts[i] = x.Mod(x, span).Add(x, a)
	}
	slices.SortFunc(pts, func(x, y *big.Int) int { return x.Cmp(y) })
	return pts, nil
}

// hint is MySQL's per-statement time limit; MariaDB has max_statement_time
// set on the session instead.
func (s *scanner) hint() string {
	if s.server.mariadb {
		return ""
	}
	return fmt.Sprintf("/*+ MAX_EXECUTION_TIME(%d) */ ", s.opts.StatementTimeout.Milliseconds())
}

// read runs q and feeds each row to stats; with keyed, the first column is the
// key and last returns its value in the last row.
func (s *scanner) read(ctx context.Context, tx *sql.Tx, q string, stats []*colStats, rec *TableRecord, keyed bool) (got int, last *big.Int, err error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	off := 0
	if keyed {
		off = 1
	}
	vals := make([]sql.RawBytes, len(stats)+off)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var lastKey []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return got, nil, err
		}
		// RawBytes point into the driver's buffer until the next row: each
		// value is judged now and never kept.
		for i, st := range stats {
			st.add(vals[i+off])
		}
		if keyed {
			lastKey = append(lastKey[:0], vals[0]...)
		}
		got++
		rec.Sampled++
	}
	if err := rows.Err(); err != nil {
		return got, nil, err
	}
	if keyed && got > 0 {
		last, ok := new(big.Int).SetString(string(lastKey), 10)
		if !ok {
			return got, nil, fmt.Errorf("key value is not an integer")
		}
		return got, last, nil
	}
	return got, nil, nil
}
