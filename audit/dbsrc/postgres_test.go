package dbsrc

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine/postgres"
	"github.com/atrest/atrest/internal/testenv"
)

// pgScan scans database db of pg through the PostgreSQL engine.
func pgScan(t testing.TB, dsn string, opts Options) ([]any, error) {
	t.Helper()
	opts.Engine, opts.DSN = postgres.Engine{}, crypto.NewSecret(dsn)
	return scan(t, opts)
}

// pgInsert fills table with n rows made by row (SQL literals, comma-joined).
func pgInsert(t testing.TB, pg *testenv.PG, db, table string, n int, row func(i int) string) {
	t.Helper()
	c := pg.Connect(t, db)
	for i := 0; i < n; i += 500 {
		var vals []string
		for j := i; j < min(n, i+500); j++ {
			vals = append(vals, "("+row(j)+")")
		}
		if _, err := c.Exec(context.Background(), "INSERT INTO "+table+" VALUES "+strings.Join(vals, ",")); err != nil {
			t.Fatalf("insert into %s: %v", table, err)
		}
	}
}

// TestPostgresSchemaTypes: every schema of the database, and the column
// types a PostgreSQL schema keeps identifiers in — text, varchar, char,
// numeric, bigint, json, jsonb, bytea, text[] and a domain — judged as on
// MySQL; short strings, dates and amounts are not sampled.
func TestPostgresSchemaTypes(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.CreateDatabase(t, "types")
	pg.Exec(t, db,
		"CREATE SCHEMA yb",
		"CREATE SCHEMA his",
		"CREATE DOMAIN his.certno AS varchar(18)",
		`CREATE TABLE yb.js_jsmx (jsid bigint PRIMARY KEY, jslsh char(18), gmsfhm varchar(18), lxdh bigint,
			beizhu text, meta jsonb, raw json, yhkh numeric(19,0), je numeric(12,2), sex char(1), born date)`,
		`COMMENT ON COLUMN yb.js_jsmx.jslsh IS '结算流水号'`,
		`CREATE TABLE his.patient (id int PRIMARY KEY, zjhm his.certno, phones text[], photo bytea)`)
	r := mrand.New(mrand.NewPCG(21, 21))
	pgInsert(t, pg, db, "yb.js_jsmx", 3000, func(i int) string {
		remark := "无"
		if r.Float64() < 0.4 {
			remark = "患者本人 " + genID(r) + " 已核验"
		}
		return fmt.Sprintf("%d,%s,%s,%s,%s,%s,%s,%s,%d.%02d,'1','1980-01-02'", 1e15+uint64(i)*977, q(genSerial(r)), q(genID(r)),
			genMobile(r), q(remark), q(`{"sfzh": "`+genID(r)+`"}`), q(`{"n": 1}`), genCard(r), r.IntN(9999), r.IntN(100))
	})
	pgInsert(t, pg, db, "his.patient", 300, func(i int) string {
		return fmt.Sprintf("%d,%s,%s,'\\x%s'", i, q(genID(r)), q("{"+genMobile(r)+","+genMobile(r)+"}"), randHex(16))
	})
	pg.Exec(t, db, "ANALYZE")
	recs, err := pgScan(t, pg.DSNFor(pg.User, pg.Password, db), Options{Sample: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"yb.js_jsmx.jslsh":   "none",
		"yb.js_jsmx.gmsfhm":  "plaintext/cn_resident_id",
		"yb.js_jsmx.lxdh":    "plaintext/cn_mobile",
		"yb.js_jsmx.beizhu":  "plaintext/cn_resident_id",
		"yb.js_jsmx.meta":    "plaintext/cn_resident_id",
		"yb.js_jsmx.raw":     "none",
		"yb.js_jsmx.yhkh":    "plaintext/bank_card",
		"yb.js_jsmx.jsid":    "none",
		"his.patient.zjhm":   "plaintext/cn_resident_id",
		"his.patient.phones": "plaintext/cn_mobile",
		"his.patient.photo":  "encrypted/", // 16 random bytes: one AES block, as far as anyone can tell
	}
	cols := columns(recs)
	for col, w := range want {
		v := cols[col]
		if v == nil {
			t.Errorf("%s: no verdict", col)
			continue
		}
		got := v.State
		if v.State != StateNone {
			got += "/" + string(v.Type)
		}
		if got != w {
			t.Errorf("%s: %s, want %s (%s)", col, got, w, v.Reason)
		}
	}
	for _, c := range []string{"yb.js_jsmx.je", "yb.js_jsmx.sex", "yb.js_jsmx.born", "his.patient.id"} {
		if _, ok := cols[c]; ok {
			t.Errorf("%s was sampled", c)
		}
	}
	tb := tablesOf(recs)["yb.js_jsmx"]
	if tb == nil || tb.Method != "key_ranges" || tb.Sampled != 1000 || tb.Encryption != "unknown" || tb.EncryptedAtRest {
		t.Fatalf("table record %+v", tb)
	}
	if v := cols["yb.js_jsmx.gmsfhm"]; v.Severity != SeverityHigh {
		t.Errorf("plaintext with encryption at rest unknown: severity %s, want high", v.Severity)
	}
	srv := recs[0].(*ServerRecord)
	if srv.Flavor != "postgres" || srv.Catalog != db || strings.Join(srv.Databases, ",") != "his,yb" || srv.Tables != 2 {
		t.Errorf("server record %+v", srv)
	}
	assertNoLeak(t, jsonl(t, recs))
}

// TestPostgresSelectOnlyRole: a role with SELECT on some tables scans
// those, reports the others' refusal per table, reads every server setting
// it reports, and its password appears nowhere.
func TestPostgresSelectOnlyRole(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.CreateDatabase(t, "priv")
	role, pass := "sel_"+randHex(3), "Sel-"+randHex(8)
	pg.Exec(t, db,
		"CREATE TABLE a_readable (id int PRIMARY KEY, sjhm varchar(11))",
		"CREATE TABLE b_locked (id int PRIMARY KEY, sjhm varchar(11))",
		"CREATE ROLE "+role+" LOGIN PASSWORD '"+pass+"'",
		"GRANT SELECT ON a_readable TO "+role)
	t.Cleanup(func() {
		pg.Exec(t, db, "DROP OWNED BY "+role)
		pg.Exec(t, "postgres", "DROP ROLE "+role)
	})
	r := mrand.New(mrand.NewPCG(9, 9))
	for _, tb := range []string{"a_readable", "b_locked"} {
		pgInsert(t, pg, db, tb, 100, func(i int) string { return fmt.Sprintf("%d,%s", i, q(genMobile(r))) })
	}
	recs, err := pgScan(t, pg.DSNFor(role, pass, db), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tables := tablesOf(recs)
	if tb := tables["public.b_locked"]; tb == nil || !strings.Contains(tb.Error, "permission denied") {
		t.Errorf("unreadable table not reported: %+v", tb)
	}
	if v := columns(recs)["public.a_readable.sjhm"]; v == nil || v.State != StatePlaintext {
		t.Errorf("a_readable: %+v", v)
	}
	srv := recs[0].(*ServerRecord)
	if srv.PasswordEncryption == "" || srv.LogStatement == "" || srv.SSL == "" || srv.User != role {
		t.Errorf("server record as a SELECT-only role: %+v", srv)
	}
	out := string(jsonl(t, recs))
	if strings.Contains(out, pass) {
		t.Error("password in output")
	}
	// A wrong password: the error names the server, never the password.
	_, err = pgScan(t, pg.DSNFor(role, pass+"x", db), Options{})
	if err == nil || strings.Contains(err.Error(), pass) || !strings.Contains(err.Error(), "scan db: connect "+role+"@") {
		t.Errorf("connect error %v", err)
	}
}

// blocksRead is the heap and index pages PostgreSQL counts for table,
// once the counts settle: sessions publish theirs as they end.
func blocksRead(t testing.TB, pg *testenv.PG, db, table string) int64 {
	t.Helper()
	c := pg.Connect(t, db)
	last := int64(-1)
	for range 50 {
		var n int64
		if err := c.QueryRow(context.Background(), `SELECT pg_stat_clear_snapshot(), COALESCE(heap_blks_read + heap_blks_hit, 0) + COALESCE(idx_blks_read + idx_blks_hit, 0)
			FROM pg_statio_user_tables WHERE relname = $1`, table).Scan(nil, &n); err != nil {
			t.Fatal(err)
		}
		if n == last {
			return n
		}
		last = n
		time.Sleep(300 * time.Millisecond)
	}
	return last
}

// TestPostgresSampleCost: sampling a table of a million rows reads about
// as many pages as sampling one of ten thousand, by key ranges and by
// random pages (a table without an integer key) alike.
func TestPostgresSampleCost(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.CreateDatabase(t, "cost")
	const sample = 500
	for _, n := range []int{10_000, 1_000_000} {
		pg.Exec(t, db,
			fmt.Sprintf("CREATE TABLE keyed_%d (id bigint PRIMARY KEY, sjhm char(11), note varchar(32))", n),
			fmt.Sprintf("INSERT INTO keyed_%d SELECT g, '138' || lpad(g::text, 8, '0'), 'x' FROM generate_series(1, %d) g", n, n),
			fmt.Sprintf("CREATE TABLE nokey_%d AS SELECT * FROM keyed_%d", n, n),
			fmt.Sprintf("ANALYZE keyed_%d, nokey_%d", n, n))
	}
	blocks := map[string]int64{}
	for _, table := range []string{"keyed_10000", "keyed_1000000", "nokey_10000", "nokey_1000000"} {
		before := blocksRead(t, pg, db, table)
		recs, err := pgScan(t, pg.DSNFor(pg.User, pg.Password, db), Options{Sample: sample, Parallel: 1})
		if err != nil {
			t.Fatal(err)
		}
		tb := tablesOf(recs)["public."+table]
		method := "key_ranges"
		if strings.HasPrefix(table, "nokey") {
			method = "tablesample"
		}
		if tb == nil || tb.Method != method || tb.Sampled < sample*9/10 {
			t.Fatalf("%s: table record %+v", table, tb)
		}
		// Every table of the database was sampled by that scan: only
		// this one's pages count.
		if blocks[table] = blocksRead(t, pg, db, table) - before; blocks[table] <= 0 {
			t.Fatalf("%s: the server counted no pages read", table)
		}
	}
	t.Logf("pages read: keyed 10k %d, 1M %d; no key 10k %d, 1M %d",
		blocks["keyed_10000"], blocks["keyed_1000000"], blocks["nokey_10000"], blocks["nokey_1000000"])
	// The small tables have ~80 pages in all; the big ones ~7,400.
	if blocks["keyed_1000000"] > 3*blocks["keyed_10000"]+100 || blocks["nokey_1000000"] > 3*blocks["nokey_10000"]+100 {
		t.Fatalf("a million rows cost more pages than ten thousand: %v", blocks)
	}
}
