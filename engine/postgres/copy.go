package postgres

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atrest/atrest/engine"
)

// DigestAlgorithm names the table digest of PostgreSQL backups: the
// engine.RowSum of a table's rows as COPY … TO STDOUT writes them (text
// format, one line a row, without its newline) in a session with
// TimeZone UTC, DateStyle ISO, IntervalStyle postgres, extra_float_digits
// 1, bytea_output hex and lc_monetary C. A change to any of these must
// change the name.
const DigestAlgorithm = "atrest-pg-copytext-sha256-v1"

// copyTo runs COPY table TO STDOUT on conn and hands every row line
// (without its newline) to row.
func copyTo(ctx context.Context, conn *pgconn.PgConn, t *table, row func(line []byte) error) error {
	lw := &lineWriter{row: row}
	_, err := conn.CopyTo(ctx, lw, fmt.Sprintf("COPY %s (%s) TO STDOUT", t.qualified(), t.copyColumns()))
	if err == nil && len(lw.part) > 0 {
		err = fmt.Errorf("COPY output ends inside a row")
	}
	return err
}

// lineWriter cuts what COPY writes into lines. The server sends one row a
// message, which pgx writes at once; a row split over writes is joined
// all the same.
type lineWriter struct {
	part []byte
	row  func([]byte) error
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.part = append(w.part, p...)
			break
		}
		line := p[:i]
		if len(w.part) > 0 {
			w.part = append(w.part, line...)
			line = w.part
		}
		if err := w.row(line); err != nil {
			return 0, err
		}
		w.part = w.part[:0]
		p = p[i+1:]
	}
	return n, nil
}

// digestTable is the row count and digest of one table.
func digestTable(ctx context.Context, conn *pgconn.PgConn, t *table) (engine.RowSum, error) {
	var sum engine.RowSum
	err := copyTo(ctx, conn, t, func(line []byte) error { sum.Add(line); return nil })
	return sum, err
}

// dumpTable copies one table into COPY blocks of about blockBytes each,
// digesting each row as it is written: a table's rows may come in several
// blocks, and blocks of tables read at once interleave, whole.
func dumpTable(ctx context.Context, conn *pgconn.PgConn, t *table, out *engine.Output, buf []byte, blockBytes int) (engine.RowSum, []byte, error) {
	head := fmt.Sprintf("COPY %s (%s) FROM stdin;\n", t.qualified(), t.copyColumns())
	var sum engine.RowSum
	buf = buf[:0]
	flush := func() error {
		buf = append(buf, "\\.\n"...)
		err := out.Put(buf)
		buf = buf[:0]
		return err
	}
	err := copyTo(ctx, conn, t, func(line []byte) error {
		sum.Add(line)
		if len(buf) == 0 {
			buf = append(buf, head...)
		}
		buf = append(append(buf, line...), '\n')
		if len(buf) >= blockBytes {
			return flush()
		}
		return nil
	})
	if err == nil && len(buf) > 0 {
		err = flush()
	}
	return sum, buf, err
}
