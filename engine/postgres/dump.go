package postgres

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atrest/atrest/engine"
)

// blockBytes is the size at which a COPY block is ended: blocks of tables
// read at once interleave in the output, and a loader runs blocks on
// several connections.
const blockBytes = 1 << 20

// Trailer is the last line of a complete dump: pg_dump's own, which
// checks of third-party dumps look for too.
const Trailer = "-- PostgreSQL database dump complete"

// Dump writes a consistent snapshot of the schemas (opts.Databases; none:
// every schema of the DSN's database) to w as a psql script, and returns
// what it dumped with every table's row count, digest and DDL hash. The
// user needs SELECT on the tables and sequences (pg_read_all_data will
// do); pg_dump must be installed, of the server's major version or newer.
func (Engine) Dump(ctx context.Context, dsn string, opts engine.DumpOptions, w io.Writer) (*engine.DumpResult, error) {
	res := &engine.DumpResult{Started: time.Now().UTC(), DigestAlgorithm: DigestAlgorithm, Parallel: max(1, opts.Parallel)}
	pgDump, err := findPgDump()
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c0, err := connect(ctx, dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	defer c0.Close(context.WithoutCancel(ctx))
	if res.Server, err = identify(ctx, c0); err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	snap, err := exportSnapshot(ctx, c0, res)
	if err != nil {
		return nil, fmt.Errorf("dump: snapshot: %w", err)
	}
	schemas := opts.Databases
	if len(schemas) == 0 {
		if schemas, err = userSchemas(ctx, c0); err != nil {
			return nil, fmt.Errorf("dump: list schemas: %w", err)
		}
	}
	res.Databases = schemas
	tables, err := listTables(ctx, c0, schemas)
	if err != nil {
		return nil, fmt.Errorf("dump: list tables: %w", err)
	}
	if err := lockTables(ctx, c0, tables); err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	ddl, err := ddlHashes(ctx, c0, tables)
	if err != nil {
		return nil, fmt.Errorf("dump: table definitions: %w", err)
	}
	objs, err := objects(ctx, c0, schemas)
	if err != nil {
		return nil, fmt.Errorf("dump: list objects: %w", err)
	}
	splitObjects(res, objs)

	out := engine.NewOutput(w)
	header(out, res, snap)
	dumpArgs := pgDumpArgs{bin: pgDump, dsn: dsn, snapshot: snap, schemas: opts.Databases}
	if err := dumpArgs.section(ctx, "pre-data", out); err != nil {
		return nil, fmt.Errorf("dump: schema: %w", err)
	}
	out.Printf("\n--\n-- Data (atrest: COPY in blocks of about %d bytes, several per table)\n--\n\n", blockBytes)
	results, err := dumpData(ctx, dsn, snap, tables, out, res.Parallel)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	for i, t := range tables {
		results[i].DDLHash = ddl[t.oid]
	}
	res.Tables = results
	setvals, err := sequenceValues(ctx, c0, schemas)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	for _, v := range setvals {
		out.Printf("%s\n", v.setval())
	}
	setValues(res.Sequences, setvals)
	if err := dumpArgs.section(ctx, "post-data", out); err != nil {
		return nil, fmt.Errorf("dump: indexes and constraints: %w", err)
	}
	out.Printf("\n%s\n\n", Trailer)
	if err := out.Flush(); err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	c0.Exec(ctx, "COMMIT")
	res.Bytes = out.Bytes()
	res.Finished = time.Now().UTC()
	return res, nil
}

// exportSnapshot opens the dump's transaction (REPEATABLE READ, read
// only) and exports its snapshot, which the data connections and pg_dump
// import: they all read the database as of this moment. The WAL position
// is read just after, in the same transaction: near the snapshot, not at
// it (an exact one needs a replication slot, and its privilege).
func exportSnapshot(ctx context.Context, c *pgx.Conn, res *engine.DumpResult) (string, error) {
	if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return "", err
	}
	var snap string
	if err := c.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snap); err != nil {
		return "", err
	}
	res.SnapshotTime = time.Now().UTC()
	var lsn *string
	err := c.QueryRow(ctx, "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text").Scan(&lsn)
	switch {
	case err != nil && !refused(err):
		return "", err
	case err != nil:
		res.Notes = append(res.Notes, "WAL position not readable ("+oneLine(err)+")")
	case lsn != nil:
		res.LSN = *lsn
		res.Notes = append(res.Notes, "WAL position read just after the snapshot was taken: approximate")
	}
	res.Consistency = "snapshot " + snap + " exported by a REPEATABLE READ transaction and imported by every connection and by pg_dump"
	return snap, nil
}

// lockTables takes ACCESS SHARE locks, as pg_dump does, so that no table
// is dropped or rewritten while it waits to be read; writes go on.
func lockTables(ctx context.Context, c *pgx.Conn, tables []*table) error {
	for i := 0; i < len(tables); i += 500 {
		names := make([]string, 0, 500)
		for _, t := range tables[i:min(len(tables), i+500)] {
			names = append(names, t.qualified())
		}
		if _, err := c.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN ACCESS SHARE MODE"); err != nil {
			return fmt.Errorf("lock tables: %w", err)
		}
	}
	return nil
}

func header(out *engine.Output, res *engine.DumpResult, snap string) {
	pos := "unknown"
	if res.LSN != "" {
		pos = res.LSN
	}
	out.Printf("-- atrest dump, format atrest-pgsql/1, digests %s\n", DigestAlgorithm)
	out.Printf("-- Server version %s, host %s:%d\n", oneLine(res.Server.Version), oneLine(res.Server.Host), res.Server.Port)
	out.Printf("-- Snapshot %s (%s), WAL position %s\n", res.SnapshotTime.Format(time.RFC3339Nano), snap, pos)
	out.Printf("-- Load with `psql -v ON_ERROR_STOP=1 -d DATABASE -f FILE` into an empty database: schemas keep their names.\n\n")
}

// dumpData copies the tables on n connections that import the snapshot,
// and returns their results in the order of tables.
func dumpData(ctx context.Context, dsn, snap string, tables []*table, out *engine.Output, n int) ([]engine.TableResult, error) {
	n = max(1, min(n, len(tables)))
	conns := make([]*pgx.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	for i := range conns {
		c, err := connect(ctx, dsn, nil)
		if err != nil {
			return nil, err
		}
		conns[i] = c
		if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
			return nil, err
		}
		if _, err := c.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteString(snap)); err != nil {
			return nil, fmt.Errorf("import snapshot: %w", err)
		}
	}
	results := make([]engine.TableResult, len(tables))
	bufs := make([][]byte, n)
	sizes := make([]int64, len(tables))
	for i, t := range tables {
		sizes[i] = t.size
	}
	err := engine.EachBySize(ctx, sizes, n, func(ctx context.Context, w, i int) error {
		t := tables[i]
		if bufs[w] == nil {
			bufs[w] = make([]byte, 0, blockBytes+blockBytes/4)
		}
		sum, buf, err := dumpTable(ctx, conns[w].PgConn(), t, out, bufs[w], blockBytes)
		bufs[w] = buf
		if err != nil {
			return fmt.Errorf("table %s: %w", t.qualified(), err)
		}
		results[i] = engine.TableResult{Database: t.schema, Name: t.name, Rows: sum.Rows, Digest: sum.Hex()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, out.Err()
}

// oneLine keeps a name from ending a -- comment early.
func oneLine(v any) string {
	s := fmt.Sprint(v)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
