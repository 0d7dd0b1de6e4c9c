package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/atrest/atrest/engine"
)

// target is engine.Target on a PostgreSQL drill server: one scratch
// database holds the whole load (a dump's schemas keep their names in
// it), marked by its comment; the run's lock is an advisory lock held by
// the administrative session, on the database the DSN names.
type target struct {
	cfg    *pgx.ConnConfig // the DSN's database
	admin  *pgx.Conn
	server engine.Server
	run    engine.Run

	mu   sync.Mutex
	made []string
}

var _ engine.Target = (*target)(nil)

// lockKey is the advisory lock of drill run runID.
func lockKey(runID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("atrest_drill_" + runID))
	return int64(h.Sum64())
}

// Target connects to the drill server and takes the run's lock. The user
// needs CREATEDB.
func (Engine) Target(ctx context.Context, dsn string, run engine.Run) (engine.Target, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, invalidDSN(err)
	}
	c, err := connectConfig(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	t := &target{cfg: cfg, admin: c, run: run}
	if t.server, err = identify(ctx, c); err != nil {
		t.Close()
		return nil, err
	}
	var got bool
	if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey(run.ID)).Scan(&got); err != nil || !got {
		t.Close()
		if err == nil {
			err = errors.New("lock taken")
		}
		return nil, fmt.Errorf("take the drill lock: %w", err)
	}
	return t, nil
}

func (t *target) Server() engine.Server   { return t.server }
func (t *target) DigestAlgorithm() string { return DigestAlgorithm }
func (t *target) Refused(err error) bool  { return refused(err) }

func (t *target) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t.admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockKey(t.run.ID))
	t.admin.Close(ctx)
}

func (t *target) Created() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.made...)
}

// Create creates the scratch database from template0 (nothing of
// template1's comes along) and writes the run's marker as its comment.
func (t *target) Create(ctx context.Context, name string) error {
	_, err := t.admin.Exec(ctx, "CREATE DATABASE "+quoteIdent(name)+" TEMPLATE template0 ENCODING 'UTF8'")
	if pe := pgError(err); pe != nil && pe.Code == "42P04" { // duplicate_database
		return fmt.Errorf("scratch database %s: %w", quoteIdent(name), engine.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create scratch database %s: %w", quoteIdent(name), err)
	}
	t.mu.Lock()
	t.made = append(t.made, name)
	t.mu.Unlock()
	if _, err := t.admin.Exec(ctx, "COMMENT ON DATABASE "+quoteIdent(name)+" IS "+quoteString(t.run.Marker)); err != nil {
		return fmt.Errorf("mark scratch database %s: %w", quoteIdent(name), err)
	}
	return nil
}

// DropCreated drops the databases this run created, and only those;
// sessions still in them (a load's, cut short) are ended.
func (t *target) DropCreated(ctx context.Context) error {
	made := t.Created()
	var left []string
	var first error
	for i := len(made) - 1; i >= 0; i-- {
		if err := t.Drop(ctx, made[i]); err != nil {
			left = append(left, made[i])
			if first == nil {
				first = err
			}
		}
	}
	t.mu.Lock()
	t.made = left
	t.mu.Unlock()
	if first != nil {
		return fmt.Errorf("drop %v: %w", left, first)
	}
	return nil
}

// Drop drops database name, ending the sessions still in it (a load's,
// cut short); before PostgreSQL 13, which cannot, it tries without.
func (t *target) Drop(ctx context.Context, name string) error {
	_, err := t.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)")
	if pe := pgError(err); pe != nil && pe.Code == "42601" { // syntax error: no WITH (FORCE)
		_, err = t.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name))
	}
	return err
}

func (t *target) List(ctx context.Context, prefix string) ([]string, error) {
	rows, err := t.admin.Query(ctx, "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1", prefix)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (t *target) Marker(ctx context.Context, name string) (string, bool, error) {
	var m *string
	err := t.admin.QueryRow(ctx, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name).Scan(&m)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && m == nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return *m, true, nil
}

// Running: the run's advisory lock is held (by its session, in this
// database).
func (t *target) Running(ctx context.Context, runID string) (bool, error) {
	k := uint64(lockKey(runID))
	var held bool
	err := t.admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = $1 AND objid = $2 AND objsubid = 1)`, uint32(k>>32), uint32(k)).Scan(&held)
	return held, err
}

// scratch is the configuration for the run's first scratch database.
func (t *target) scratch() (*pgx.ConnConfig, error) {
	made := t.Created()
	if len(made) == 0 {
		return nil, errors.New("no scratch database created")
	}
	cfg := t.cfg.Copy()
	cfg.Database = made[0]
	return cfg, nil
}

// Load restores a psql script, or a pg_dump custom-format archive (read
// as the script pg_restore would print), into the scratch database.
func (t *target) Load(ctx context.Context, r io.Reader, opts engine.LoadOptions) (*engine.LoadResult, error) {
	cfg, err := t.scratch()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(len(customMagic)); string(magic) == customMagic {
		return loadCustom(ctx, cfg, br, opts)
	}
	return load(ctx, cfg, br, opts)
}

// openRestored connects to the database cfg names and lists its tables:
// what a load restored there.
func openRestored(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, []*table, error) {
	c, err := connectConfig(ctx, cfg, nil)
	if err != nil {
		return nil, nil, err
	}
	schemas, err := userSchemas(ctx, c)
	var tables []*table
	if err == nil {
		tables, err = listTables(ctx, c, schemas)
	}
	if err != nil {
		c.Close(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	return c, tables, nil
}

// Digests recomputes every restored table's rows, digest and DDL hash on
// parallel connections.
func (t *target) Digests(ctx context.Context, parallel int) ([]engine.TableResult, error) {
	cfg, err := t.scratch()
	if err != nil {
		return nil, err
	}
	return digests(ctx, cfg, parallel)
}

// Digests recomputes the rows, digest and DDL hash of every table of the
// database dsn names, as a backup of it records them. Tables are read one
// by one without a common snapshot: meant for a restored copy that
// nothing else writes to.
func Digests(ctx context.Context, dsn string, parallel int) ([]engine.TableResult, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, invalidDSN(err)
	}
	return digests(ctx, cfg, parallel)
}

func digests(ctx context.Context, cfg *pgx.ConnConfig, parallel int) ([]engine.TableResult, error) {
	c, tables, err := openRestored(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	ddl, err := ddlHashes(ctx, c, tables)
	if err != nil {
		return nil, err
	}
	n := max(1, min(parallel, len(tables)))
	conns := make([]*pgx.Conn, n)
	conns[0] = c
	for i := 1; i < n; i++ {
		if conns[i], err = connectConfig(ctx, cfg, nil); err != nil {
			return nil, err
		}
		defer conns[i].Close(context.WithoutCancel(ctx))
	}
	out := make([]engine.TableResult, len(tables))
	sizes := make([]int64, len(tables))
	for i, tb := range tables {
		sizes[i] = tb.size
	}
	err = engine.EachBySize(ctx, sizes, n, func(ctx context.Context, w, i int) error {
		tb := tables[i]
		sum, err := digestTable(ctx, conns[w].PgConn(), tb)
		if err != nil {
			return fmt.Errorf("digest %s: %w", tb.qualified(), err)
		}
		out[i] = engine.TableResult{Database: tb.schema, Name: tb.name, Rows: sum.Rows, Digest: sum.Hex(), DDLHash: ddl[tb.oid]}
		return nil
	})
	return out, err
}

// Count counts the rows of every restored table.
func (t *target) Count(ctx context.Context) ([]engine.TableResult, error) {
	cfg, err := t.scratch()
	if err != nil {
		return nil, err
	}
	c, tables, err := openRestored(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	var out []engine.TableResult
	for _, tb := range tables {
		var n int64
		if err := c.QueryRow(ctx, "SELECT count(*) FROM "+tb.qualified()).Scan(&n); err != nil {
			return nil, fmt.Errorf("count rows of %s: %w", tb.qualified(), err)
		}
		out = append(out, engine.TableResult{Database: tb.schema, Name: tb.name, Rows: n})
	}
	return out, nil
}

// Probe runs query in the scratch database in a read-only transaction
// and returns the first column of its first row as text; a boolean comes
// back as 1 or 0, as MySQL returns one, so that false is false.
func (t *target) Probe(ctx context.Context, query string) ([]byte, bool, error) {
	cfg, err := t.scratch()
	if err != nil {
		return nil, false, err
	}
	c, err := connectConfig(ctx, cfg, nil)
	if err != nil {
		return nil, false, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "BEGIN READ ONLY"); err != nil {
		return nil, false, err
	}
	rr := c.PgConn().ExecParams(ctx, query, nil, nil, nil, nil)
	var v []byte
	found := false
	if rr.NextRow() {
		found = true
		if vals := rr.Values(); len(vals) > 0 && vals[0] != nil {
			v = append([]byte{}, vals[0]...)
			if fd := rr.FieldDescriptions(); len(fd) > 0 && fd[0].DataTypeOID == pgtype.BoolOID {
				v = boolValue(v)
			}
		}
	}
	if _, err := rr.Close(); err != nil {
		return nil, false, err
	}
	return v, found, nil
}

func boolValue(v []byte) []byte {
	if string(v) == "t" {
		return []byte("1")
	}
	return []byte("0")
}

// Objects reads back the schema objects of the scratch database (its
// schemas keep the source's names) as a dump lists them, with the
// sequences' current values.
func (t *target) Objects(ctx context.Context) ([]engine.Object, error) {
	cfg, err := t.scratch()
	if err != nil {
		return nil, err
	}
	c, err := connectConfig(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	schemas, err := userSchemas(ctx, c)
	if err != nil {
		return nil, err
	}
	objs, err := objects(ctx, c, schemas)
	if err != nil {
		return nil, err
	}
	vals, err := sequenceValues(ctx, c, schemas)
	if err != nil {
		return nil, err
	}
	setValues(objs, vals)
	return objs, nil
}

// MissingAccounts returns the roles among accounts that the server lacks;
// pg_roles is readable by every user.
func (t *target) MissingAccounts(ctx context.Context, accounts []string) ([]string, string, error) {
	const why = "a restore that keeps owners (psql -v ON_ERROR_STOP=1, pg_restore without --no-owner) fails with \"role does not exist\""
	rows, err := t.admin.Query(ctx, "SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1)", accounts)
	if err != nil {
		return nil, "", err
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, "", err
	}
	var missing []string
	for _, a := range accounts {
		if !slices.Contains(have, a) {
			missing = append(missing, a)
		}
	}
	return missing, why, nil
}
