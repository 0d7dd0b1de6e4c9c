package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// TableDigest recomputes the row count and digest of a live table with the
// encoding Dump uses, so that after a restore it equals the TableResult the
// dump recorded exactly when the stored content is the same (whatever the
// row order).
func TableDigest(ctx context.Context, dsn, database, table string) (rows int64, digest string, err error) {
	db, err := openDB(dsn, readParams, nil)
	if err != nil {
		return 0, "", fmt.Errorf("digest: %w", err)
	}
	defer db.Close()
	c, err := db.Conn(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("digest: %w", err)
	}
	defer c.Close()
	cols, err := storedColumns(ctx, c, database, table)
	if err != nil {
		return 0, "", fmt.Errorf("digest %s.%s: %w", quoteIdent(database), quoteIdent(table), err)
	}
	if len(cols[table]) == 0 {
		return 0, "", fmt.Errorf("digest %s.%s: no such table", quoteIdent(database), quoteIdent(table))
	}
	d, err := digestTable(ctx, c, database, table, cols[table])
	if err != nil {
		return 0, "", fmt.Errorf("digest %s.%s: %w", quoteIdent(database), quoteIdent(table), err)
	}
	return d.Rows, d.Hex(), nil
}

func digestTable(ctx context.Context, c *sql.Conn, database, table string, cols []column) (*digester, error) {
	var d digester
	err := scanTable(ctx, c, database, table, cols, func(vals []driver.Value, _ []colKind) error {
		return d.add(vals)
	})
	return &d, err
}

// Digests recomputes rows, digest and DDL hash of every table of database
// (views excluded), reading up to parallel tables at once. Tables are read
// one by one without a common snapshot: meant for a restored copy that
// nothing else writes to.
func Digests(ctx context.Context, dsn, database string, parallel int) ([]TableResult, error) {
	db, err := openDB(dsn, readParams, nil)
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	defer db.Close()
	info, err := readSchema(ctx, db, database)
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", quoteIdent(database), err)
	}
	conns := make([]*sql.Conn, max(1, min(parallel, len(info.tables))))
	for i := range conns {
		if conns[i], err = db.Conn(ctx); err != nil {
			return nil, fmt.Errorf("digest: %w", err)
		}
		defer conns[i].Close()
		if _, err := conns[i].ExecContext(ctx, "USE "+quoteIdent(database)); err != nil {
			return nil, fmt.Errorf("digest %s: %w", quoteIdent(database), err)
		}
	}
	out := make([]TableResult, len(info.tables))
	err = eachTable(ctx, info.tables, len(conns), func(ctx context.Context, w, i int) error {
		t, c := info.tables[i], conns[w]
		ddl, _, err := showCreate(ctx, c, "TABLE", t.name, "Create Table")
		if err != nil {
			return fmt.Errorf("digest %s.%s: %w", quoteIdent(database), quoteIdent(t.name), err)
		}
		d, err := digestTable(ctx, c, database, t.name, t.cols)
		if err != nil {
			return fmt.Errorf("digest %s.%s: %w", quoteIdent(database), quoteIdent(t.name), err)
		}
		out[i] = TableResult{Database: database, Name: t.name, Rows: d.Rows, Digest: d.Hex(), DDLHash: DDLHash(ddl)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
