package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/postgres"
	"github.com/atrest/atrest/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// createSource makes a database shaped like a 医保 system on PostgreSQL:
// two schemas, the types such a schema uses (NULLs, strings that need
// COPY's escapes, timestamps with zones, floats, bytea, json, arrays, an
// enum), serial and identity keys, a generated column, constraints,
// indexes, a foreign key, a partitioned table, a view, a materialized
// view, a function, a trigger, a sequence of its own, comments and an
// empty table.
func createSource(t testing.TB, pg *testenv.PG) string {
	t.Helper()
	db := pg.CreateDatabase(t, "pgsrc")
	pg.Exec(t, db,
		"CREATE SCHEMA yb",
		"CREATE TYPE yb.cert_type AS ENUM ('01', '02', '03')",
		`CREATE TABLE yb.cb_ryxx (id serial PRIMARY KEY, psn_name varchar(40) UNIQUE, certno char(18), cert yb.cert_type,
			born date, balance numeric(12,2), note text, photo bytea, updated timestamptz, local_ts timestamp(6),
			span interval, flag boolean, score real, ratio double precision, meta jsonb, raw json, tags text[],
			uid uuid, upper_name text GENERATED ALWAYS AS (upper(psn_name)) STORED)`,
		"COMMENT ON COLUMN yb.cb_ryxx.certno IS '证件号码'",
		`INSERT INTO yb.cb_ryxx (psn_name, certno, cert, born, balance, note, photo, updated, local_ts, span, flag, score, ratio, meta, raw, tags, uid)
			SELECT '张三' || g, lpad(g::text, 18, '1'), (ARRAY['01','02','03'])[g % 3 + 1]::yb.cert_type, DATE '1980-01-01' + g,
				g * 1.25, CASE WHEN g % 7 = 0 THEN NULL ELSE repeat(E'备注\t\\ "x"\n', g % 5) END,
				CASE WHEN g % 5 = 0 THEN NULL ELSE sha256(g::text::bytea) END,
				TIMESTAMPTZ '2026-01-01 00:00:00.123456+08' + g * INTERVAL '1 second', TIMESTAMP '2026-01-01 00:00:00' + g * INTERVAL '1 ms',
				g * INTERVAL '1 minute', g % 2 = 0, g / 7.0, g / 3.0, jsonb_build_object('k', g, 's', 'x"y'), '{"a": 1}',
				ARRAY['a' || g, 'b,c'], md5(g::text)::uuid
			FROM generate_series(1, 3000) g`,
		`CREATE TABLE yb.js_jsmx (setl_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, psn_id int REFERENCES yb.cb_ryxx (id),
			amt double precision CHECK (amt >= 0), created_ms bigint)`,
		"CREATE INDEX js_jsmx_psn ON yb.js_jsmx (psn_id, created_ms)",
		"INSERT INTO yb.js_jsmx (psn_id, amt, created_ms) SELECT g % 3000 + 1, g / 3.0, 1700000000000 + g FROM generate_series(1, 2000) g",
		"CREATE TABLE yb.audit_n (n int)",
		`CREATE FUNCTION yb.js_ai() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO yb.audit_n VALUES (NEW.psn_id); RETURN NEW; END$$`,
		"CREATE TRIGGER js_ai AFTER INSERT ON yb.js_jsmx FOR EACH ROW EXECUTE FUNCTION yb.js_ai()",
		"CREATE VIEW yb.v_ryxx AS SELECT id, psn_name FROM yb.cb_ryxx",
		"CREATE MATERIALIZED VIEW yb.mv_count AS SELECT count(*) AS n FROM yb.js_jsmx",
		"CREATE SEQUENCE yb.ticket START 500",
		"SELECT nextval('yb.ticket')",
		"CREATE TABLE public.empty_t (id int)",
		"CREATE TABLE public.events (id bigint, at date NOT NULL, what text) PARTITION BY RANGE (at)",
		"CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
		"CREATE TABLE public.events_old PARTITION OF public.events DEFAULT",
		"INSERT INTO public.events SELECT g, DATE '2025-12-01' + g, 'e' || g FROM generate_series(1, 100) g",
	)
	return db
}

func dumpTo(t testing.TB, pg *testenv.PG, db string, opts engine.DumpOptions) (string, *engine.DumpResult) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dump.sql")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := postgres.Engine{}.Dump(ctxT(t), pg.DSNFor(pg.User, pg.Password, db), opts, f)
	if err != nil {
		t.Fatal(err)
	}
	return path, res
}

// sameTables compares what a dump recorded with the digests of a restored
// copy: every table, with the same rows, digest and definition.
func sameTables(t testing.TB, want, got []engine.TableResult) {
	t.Helper()
	key := func(r engine.TableResult) string { return r.Database + "." + r.Name }
	byName := map[string]engine.TableResult{}
	for _, r := range got {
		byName[key(r)] = r
	}
	for _, w := range want {
		g, ok := byName[key(w)]
		switch {
		case !ok:
			t.Errorf("%s: not restored", key(w))
		case g.Rows != w.Rows || g.Digest != w.Digest:
			t.Errorf("%s: %d rows %s, dumped %d rows %s", key(w), g.Rows, g.Digest[:12], w.Rows, w.Digest[:12])
		case g.DDLHash != w.DDLHash:
			t.Errorf("%s: definition differs", key(w))
		}
		delete(byName, key(w))
	}
	for k := range byName {
		t.Errorf("%s: restored but not dumped", k)
	}
}

func TestDumpLoadRoundTrip(t *testing.T) {
	src := testenv.Postgres(t)
	db := createSource(t, src)
	path, res := dumpTo(t, src, db, engine.DumpOptions{Parallel: 2})
	if res.DigestAlgorithm != postgres.DigestAlgorithm || res.Parallel != 2 || res.LSN == "" || !strings.Contains(res.Consistency, "snapshot") {
		t.Fatalf("result %+v", res)
	}
	if !slices.Equal(res.Databases, []string{"public", "yb"}) {
		t.Errorf("schemas %v", res.Databases)
	}
	var names []string
	for _, r := range res.Tables {
		names = append(names, r.Database+"."+r.Name)
	}
	wantTables := []string{"public.empty_t", "public.events_2026", "public.events_old", "yb.audit_n", "yb.cb_ryxx", "yb.js_jsmx"}
	if !slices.Equal(names, wantTables) {
		t.Fatalf("tables %v, want %v", names, wantTables)
	}
	var objs []string
	for _, o := range res.Objects() {
		objs = append(objs, o.Type+" "+o.Database+"."+o.Name)
	}
	for _, w := range []string{"VIEW yb.v_ryxx", "MATERIALIZED VIEW yb.mv_count", "SEQUENCE yb.ticket", "FUNCTION yb.js_ai()", "TRIGGER yb.js_jsmx.js_ai"} {
		if !slices.Contains(objs, w) {
			t.Errorf("objects %v lack %s", objs, w)
		}
	}
	sql, _ := os.ReadFile(path)
	if !bytes.HasSuffix(bytes.TrimSpace(sql), []byte(postgres.Trailer)) || bytes.Count(sql, []byte(postgres.Trailer)) != 1 {
		t.Error("the dump does not end with the one trailer")
	}
	if bytes.Contains(sql, []byte("OWNER TO")) || bytes.Contains(sql, []byte("GRANT ")) {
		t.Error("the dump names owners or grants")
	}

	// Our loader, into a database on another server.
	dst := testenv.SecondPostgres(t)
	restoredDB := dst.CreateDatabase(t, "pgdst")
	f, _ := os.Open(path)
	defer f.Close()
	lr, err := postgres.Load(ctxT(t), dst.DSNFor(dst.User, dst.Password, restoredDB), f, engine.LoadOptions{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !lr.Complete || lr.Rows != 3000+2000+100 {
		t.Errorf("load result: complete %v, %d rows", lr.Complete, lr.Rows)
	}
	got, err := postgres.Digests(ctxT(t), dst.DSNFor(dst.User, dst.Password, restoredDB), 2)
	if err != nil {
		t.Fatal(err)
	}
	sameTables(t, res.Tables, got)
	var n, ticket int64
	c := dst.Connect(t, restoredDB)
	if err := c.QueryRow(ctxT(t), "SELECT (SELECT n FROM yb.mv_count), nextval('yb.ticket')").Scan(&n, &ticket); err != nil || n != 2000 || ticket != 501 {
		t.Errorf("materialized view %d, next ticket %d, %v", n, ticket, err)
	}
	var audit int64
	if err := c.QueryRow(ctxT(t), "SELECT count(*) FROM yb.audit_n").Scan(&audit); err != nil || audit != 0 {
		t.Errorf("the trigger fired during the load: %d rows in audit_n, %v", audit, err)
	}

	// By hand, as the README says: psql into an empty database.
	byHand := dst.CreateDatabase(t, "pghand")
	dst.Psql(t, byHand, path)
	got, err = postgres.Digests(ctxT(t), dst.DSNFor(dst.User, dst.Password, byHand), 1)
	if err != nil {
		t.Fatal(err)
	}
	sameTables(t, res.Tables, got)
}

// TestDumpSchemas: naming schemas dumps those only, public included
// (pg_dump writes CREATE SCHEMA public then, which every database has).
func TestDumpSchemas(t *testing.T) {
	src := testenv.Postgres(t)
	db := createSource(t, src)
	path, res := dumpTo(t, src, db, engine.DumpOptions{Databases: []string{"public"}})
	if len(res.Tables) != 3 || !slices.Equal(res.Databases, []string{"public"}) {
		t.Fatalf("tables %+v", res.Tables)
	}
	dst := testenv.SecondPostgres(t)
	into := dst.CreateDatabase(t, "pgpub")
	dst.Psql(t, into, path)
	got, err := postgres.Digests(ctxT(t), dst.DSNFor(dst.User, dst.Password, into), 1)
	if err != nil {
		t.Fatal(err)
	}
	sameTables(t, res.Tables, got)
}

// TestDigestSensitivity: one changed value, one more row, a changed
// column type: the digest or the definition hash tells.
func TestDigestSensitivity(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.CreateDatabase(t, "pgsens")
	pg.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v text, f float8)",
		"INSERT INTO t SELECT g, 'v' || g, g / 3.0 FROM generate_series(1, 100) g")
	dsn := pg.DSNFor(pg.User, pg.Password, db)
	before, err := postgres.Digests(ctxT(t), dsn, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, change := range []string{
		"UPDATE t SET v = 'w50' WHERE id = 50",
		"UPDATE t SET f = f + 1e-12 WHERE id = 7",
		"INSERT INTO t VALUES (101, NULL, NULL)",
		"ALTER TABLE t ALTER COLUMN v TYPE varchar(20)",
	} {
		pg.Exec(t, db, change)
		after, err := postgres.Digests(ctxT(t), dsn, 1)
		if err != nil {
			t.Fatal(err)
		}
		if after[0].Digest == before[0].Digest && after[0].DDLHash == before[0].DDLHash {
			t.Errorf("%s: nothing changed", change)
		}
		before = after
	}
}

// TestLoadPgDump: pg_dump's own output, plain and custom format, loads,
// and the restored tables are the source's, digest for digest.
func TestLoadPgDump(t *testing.T) {
	src := testenv.Postgres(t)
	db := createSource(t, src)
	want, err := postgres.Digests(ctxT(t), src.DSNFor(src.User, src.Password, db), 2)
	if err != nil {
		t.Fatal(err)
	}
	dst := testenv.SecondPostgres(t)
	for _, format := range []string{"plain", "custom"} {
		t.Run(format, func(t *testing.T) {
			// With owners and grants: the load skips them, as the drill
			// restores as its own user.
			dump := src.Program(t, "pg_dump", "-d", db, "-F", format[:1])
			tgt, err := postgres.Engine{}.Target(ctxT(t), dst.DSNFor(dst.User, dst.Password, "postgres"),
				engine.Run{ID: "0123456789abcdef", Job: "t", Marker: "m", Note: func(string, ...any) {}})
			if err != nil {
				t.Fatal(err)
			}
			defer tgt.Close()
			scratch := "atrest_drill_t_" + format
			if err := tgt.Create(ctxT(t), scratch); err != nil {
				t.Fatal(err)
			}
			defer tgt.DropCreated(context.Background())
			lr, err := tgt.Load(ctxT(t), bytes.NewReader(dump), engine.LoadOptions{Parallel: 2})
			if err != nil {
				t.Fatal(err)
			}
			if !lr.Complete {
				t.Error("a whole pg_dump was not complete")
			}
			got, err := tgt.Digests(ctxT(t), 2)
			if err != nil {
				t.Fatal(err)
			}
			sameTables(t, want, got)
			if format == "plain" && lr.Skipped["ALTER … OWNER TO"] == 0 {
				t.Errorf("no owner statement skipped: %v", lr.Skipped)
			}
			// The same dump cut short is not complete, or fails to load.
			cut := dump[:len(dump)*2/3]
			if err := tgt.DropCreated(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if err := tgt.Create(ctxT(t), scratch); err != nil {
				t.Fatal(err)
			}
			lr, err = tgt.Load(ctxT(t), bytes.NewReader(cut), engine.LoadOptions{Parallel: 2})
			var le *engine.LoadError
			if err == nil && lr.Complete || err != nil && !(errors.As(err, &le) && le.Truncated()) {
				t.Errorf("a truncated %s dump: %v, complete %v", format, err, lr != nil && lr.Complete)
			}
		})
	}
}
