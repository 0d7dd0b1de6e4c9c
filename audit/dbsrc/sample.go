package dbsrc

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/atrest/atrest/engine"
)

// rangePoints is how many random points of the key a table is sampled at.
// More points spread the sample wider; each costs one index seek.
const rangePoints = 10

// column is a sampled column and what its name and comment suggest.
type column struct {
	*engine.Column
	hint hint
}

// scanTable samples one table and returns its records: the column verdicts,
// then the table record. fatal is set when the connection, not the table,
// failed; the scan then stops.
func (s *scanner) scanTable(ctx context.Context, w *worker, t *engine.Table, n uint64) (recs []any, fatal error) {
	start := time.Now()
	rec := &TableRecord{Record: "table", Database: t.Database, Table: t.Name, Engine: t.Storage,
		RowsEstimate: t.Rows, EncryptedAtRest: t.Encrypted, Encryption: t.Encryption}
	var cols []*engine.Column
	var stats []*colStats
	for _, c := range t.Columns {
		if c.Sampled {
			cols = append(cols, c)
			stats = append(stats, newColStats(&column{Column: c, hint: hintFor(c.Name, c.Comment)}, s.opts.Fingerprint))
		}
	}
	rec.Columns = len(cols)
	var err error
	if len(cols) > 0 {
		err = s.sampleTable(ctx, w, t, cols, stats, rec, n)
	} else {
		rec.Reason = "no column that can hold an identifier"
	}
	rec.Seconds = time.Since(start).Seconds()
	if err != nil {
		rec.Error = s.sc.Redactor().String(err.Error())
		if !s.sc.Refused(err) {
			w.drop()
			return []any{rec}, fmt.Errorf("scan db: sample %s.%s: %w", t.Database, t.Name, err)
		}
		if rec.Sampled == 0 {
			return []any{rec}, nil
		}
		rec.Error = "partial sample: " + rec.Error
	}
	for i, c := range cols {
		v := stats[i].verdict()
		v.Record, v.Database, v.Table, v.Column, v.DataType = "column", t.Database, t.Name, c.Name, c.ColumnType
		v.TableEncrypted = t.Encrypted
		v.Severity = severity(v.State, t.Encrypted, v)
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
func (s *scanner) sampleTable(ctx context.Context, w *worker, t *engine.Table, cols []*engine.Column, stats []*colStats, rec *TableRecord, n uint64) error {
	r, err := w.get(ctx)
	if err != nil {
		return err
	}
	if err := r.Begin(ctx); err != nil {
		return err
	}
	defer r.End()
	row := func(vals [][]byte) {
		for i, st := range stats {
			st.add(vals[i])
		}
		rec.Sampled++
	}
	sample := s.opts.Sample
	// A table whose row count the server does not know (PostgreSQL's
	// before its first ANALYZE: -1) may be large: read it as if it were.
	large := t.Rows < 0 || t.Rows > int64(sample)
	if t.Key != nil && large {
		rec.Method, rec.Key = "key_ranges", t.Key.Name
		return s.sampleRanges(ctx, r, t, cols, rec, n, row)
	}
	if b, ok := r.(engine.BlockSampler); ok && large {
		// No integer key, and too many rows to read the first ones as a
		// fair sample: random pages cost the same whatever the size.
		rec.Method = "tablesample"
		rec.Reason = t.KeyWhyNot + ": random pages"
		_, err := b.Blocks(ctx, t, cols, sample, rand.New(rand.NewPCG(s.opts.Seed, n)).Uint64(), row)
		return err
	}
	rec.Method = "head"
	rec.Reason = t.KeyWhyNot
	if t.Key != nil {
		rec.Reason = fmt.Sprintf("rows_estimate %d ≤ sample %d: read the first rows", t.Rows, sample)
	}
	_, err = r.Head(ctx, t, cols, sample, row)
	return err
}

// sampleRanges reads rows from random points of the table's integer key:
// each point is one index seek and a short range, so the cost is the same
// for ten thousand rows and for a billion.
func (s *scanner) sampleRanges(ctx context.Context, r engine.Reader, t *engine.Table, cols []*engine.Column, rec *TableRecord, n uint64, row engine.Row) error {
	sample := s.opts.Sample
	lo, hi, err := r.Bounds(ctx, t)
	if err != nil || lo == "" || hi == "" {
		return err // nil for an empty table
	}
	lowest, ok1 := new(big.Int).SetString(lo, 10)
	highest, ok2 := new(big.Int).SetString(hi, 10)
	if !ok1 || !ok2 {
		return fmt.Errorf("key range %q..%q is not integer", lo, hi)
	}
	points := s.points(lowest, highest, n)
	per := (sample + len(points) - 1) / len(points)
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
		got, last, err := r.Range(ctx, t, cols, p, nil, limit, row)
		if err != nil {
			return err
		}
		if got == 0 {
			break
		}
		end, ok := new(big.Int).SetString(last, 10)
		if !ok {
			return fmt.Errorf("key value %q is not an integer", last)
		}
		next = end.Add(end, big.NewInt(1))
		spans = append(spans, span{p, next})
		if got < limit {
			break // the key ran out: later points lie beyond it
		}
	}
	// Points near the top of the key run off its end, and a sparse key
	// leaves short ranges. Spend what is left of the budget on the
	// stretches no range has read — below the first, then between ranges —
	// so a table with more rows than the sample always gives a full sample.
	gapFrom := lowest
	for i := 0; i <= len(spans) && rec.Sampled < sample; i++ {
		var gapTo *big.Int
		if i < len(spans) {
			gapTo = spans[i].from
		}
		if gapTo == nil || gapFrom.Cmp(gapTo) < 0 {
			if _, _, err := r.Range(ctx, t, cols, gapFrom, gapTo, sample-rec.Sampled, row); err != nil {
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
func (s *scanner) points(a, b *big.Int, n uint64) []*big.Int {
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
	return pts
}
