package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/atrest/atrest/engine"
)

// dumpData writes the rows of tables, one table per snapshot connection at
// a time, and returns their results in the order of tables.
func dumpData(ctx context.Context, conns []*sql.Conn, tables []*table, out *engine.Output, stmtBytes int) ([]TableResult, error) {
	results := make([]TableResult, len(tables))
	bufs := make([][]byte, len(conns))
	err := eachTable(ctx, tables, len(conns), func(ctx context.Context, w, i int) error {
		if bufs[w] == nil {
			bufs[w] = make([]byte, 0, stmtBytes+stmtBytes/4)
		}
		r, buf, err := dumpTable(ctx, conns[w], tables[i], out, bufs[w], stmtBytes)
		bufs[w] = buf
		if err != nil {
			return fmt.Errorf("table %s: %w", quoteIdent(tables[i].name), err)
		}
		results[i] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, out.Err()
}

// dumpTable streams one table into INSERT statements of about stmtBytes,
// digesting each row as it is written.
func dumpTable(ctx context.Context, c *sql.Conn, t *table, out *engine.Output, buf []byte, stmtBytes int) (TableResult, []byte, error) {
	prefix := []byte("INSERT INTO " + quoteIdent(t.name) + " (")
	for i, col := range t.cols {
		if i > 0 {
			prefix = append(prefix, ',')
		}
		prefix = appendIdent(prefix, col.name)
	}
	prefix = append(prefix, ") VALUES\n"...)
	var dg digester
	buf = buf[:0]
	err := scanTable(ctx, c, t.db, t.name, t.cols, func(vals []driver.Value, kinds []colKind) error {
		if err := dg.add(vals); err != nil {
			return err
		}
		if len(buf) == 0 {
			buf = append(buf, prefix...)
		} else {
			buf = append(buf, ",\n"...)
		}
		buf = append(buf, '(')
		var err error
		for i, v := range vals {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendLiteral(buf, v, kinds[i]); err != nil {
				return err
			}
		}
		buf = append(buf, ')')
		if len(buf) >= stmtBytes {
			buf = append(buf, ";\n"...)
			if err := out.Put(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		return nil
	})
	if err == nil && len(buf) > 0 {
		buf = append(buf, ";\n"...)
		err = out.Put(buf)
	}
	if err != nil {
		return TableResult{}, buf, err
	}
	return TableResult{Database: t.db, Name: t.name, Rows: dg.Rows, Digest: dg.Hex(), DDLHash: DDLHash(t.ddl)}, buf, nil
}
