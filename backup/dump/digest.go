package dump

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sort"
	"sync"
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
	return d.rows, d.hex(), nil
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
	parallel = max(1, min(parallel, len(info.tables)))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]TableResult, len(info.tables))
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	fail := func(err error) { once.Do(func() { firstErr = err; cancel() }) }
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := db.Conn(ctx)
			if err != nil {
				fail(err)
				for range jobs {
				}
				return
			}
			defer c.Close()
			if _, err := c.ExecContext(ctx, "USE "+quoteIdent(database)); err != nil {
				fail(err)
			}
			for i := range jobs {
				t := info.tables[i]
				ddl, _, err := showCreate(ctx, c, "TABLE", t.name, "Create Table")
				if err != nil {
					fail(fmt.Errorf("digest %s.%s: %w", quoteIdent(database), quoteIdent(t.name), err))
					continue
				}
				d, err := digestTable(ctx, c, database, t.name, t.cols)
				if err != nil {
					fail(fmt.Errorf("digest %s.%s: %w", quoteIdent(database), quoteIdent(t.name), err))
					continue
				}
				out[i] = TableResult{Database: database, Name: t.name, Rows: d.rows, Digest: d.hex(), DDLHash: DDLHash(ddl)}
			}
		}()
	}
	order := make([]int, len(info.tables))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return info.tables[order[a]].size > info.tables[order[b]].size })
feed:
	for _, i := range order {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, ctx.Err()
}
