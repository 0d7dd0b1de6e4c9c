package drill_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/postgres"
	"github.com/atrest/atrest/internal/testenv"
)

// pgFixture is a PostgreSQL source with one atrest backup in a bucket and
// a second PostgreSQL server to drill on.
type pgFixture struct {
	src, target *testenv.PG
	database    string
	store       backup.ObjectStore
	id          *age.X25519Identity
	sign        ed25519.PrivateKey
	m           *backup.Manifest
	job         string
}

func newPGFixture(t *testing.T, job string) *pgFixture {
	t.Helper()
	f := &pgFixture{src: testenv.Postgres(t), target: testenv.SecondPostgres(t), job: job}
	f.database = f.src.CreateDatabase(t, "drillpg")
	f.src.Exec(t, f.database,
		"CREATE SCHEMA yb",
		`CREATE TABLE yb.cb_ryxx (id serial PRIMARY KEY, psn_name varchar(40) UNIQUE, certno char(18), born date,
			balance numeric(12,2), note text, photo bytea, updated timestamptz, meta jsonb)`,
		`INSERT INTO yb.cb_ryxx (psn_name, certno, born, balance, note, photo, updated, meta)
			SELECT '张三' || g, lpad(g::text, 18, '1'), DATE '1980-01-01' + g, g * 1.25,
				CASE WHEN g % 7 = 0 THEN NULL ELSE repeat(E'备注\t', g % 13) END,
				CASE WHEN g % 5 = 0 THEN NULL ELSE sha256(g::text::bytea) END,
				TIMESTAMPTZ '2026-01-01 00:00:00.123456+00' + g * INTERVAL '1 second', jsonb_build_object('k', g)
			FROM generate_series(1, 3000) g`,
		"CREATE TABLE yb.js_jsmx (setl_id varchar(30) PRIMARY KEY, psn_id int REFERENCES yb.cb_ryxx (id), amt float8)",
		"INSERT INTO yb.js_jsmx SELECT '420100' || g, g % 3000 + 1, g / 3.0 FROM generate_series(1, 2000) g",
		"CREATE TABLE public.empty_t (id int)",
		"CREATE VIEW yb.v_ryxx AS SELECT id, psn_name FROM yb.cb_ryxx",
	)
	srv := testenv.S3(t)
	f.store = s3Store(t, srv, srv.Bucket(t, "drillpg", false))
	var err error
	if f.id, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	if _, f.sign, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	f.m, err = backup.Run(ctxT(t), backup.RunOptions{Job: f.job, Engine: postgres.Engine{},
		DSN: crypto.NewSecret(f.sourceDSN()), Parallel: 2, Store: f.store, Prefix: "his/",
		Recipients: []suite.Recipient{ageRecipient(f.id)}, SigningKey: f.sign, ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *pgFixture) sourceDSN() string { return f.src.DSNFor(f.src.User, f.src.Password, f.database) }

func (f *pgFixture) opts() drill.Options {
	return drill.Options{
		Job:       drill.Job{Name: f.job, Prefix: "his/"},
		Drill:     f.job + "-drill",
		Engine:    postgres.Engine{},
		Store:     f.store,
		Identity:  ageIdentity(f.id),
		TargetDSN: crypto.NewSecret(f.target.DSNFor(f.target.User, f.target.Password, "postgres")),
		SourceDSN: crypto.NewSecret(f.sourceDSN()),
		Keys:      backup.Keys{f.sign.Public()},
		Probes: []drill.Probe{
			{Name: "settlements present", SQL: "SELECT count(*) > 0 FROM yb.js_jsmx"},
			{Name: "no negative balance", SQL: "SELECT NOT EXISTS (SELECT 1 FROM yb.cb_ryxx WHERE balance < 0)"},
		},
	}
}

// pgScratchLeft lists the job's scratch databases on pg.
func pgScratchLeft(t *testing.T, pg *testenv.PG, job string) []string {
	t.Helper()
	rows, err := pg.Connect(t, "postgres").Query(context.Background(), "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1",
		drill.ScratchPrefix+strings.ReplaceAll(job, "-", "_")+"_")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

// TestPostgresBackupCheckDrill: a PostgreSQL backup in the one pipeline
// (zstd, age, S3, signed manifest) passes check --read and drills onto a
// second server with every table's digest and definition matching.
func TestPostgresBackupCheckDrill(t *testing.T) {
	f := newPGFixture(t, "his-good")
	if f.m.Source.Engine != "postgres" || f.m.DigestAlgorithm != postgres.DigestAlgorithm || f.m.Position.LSN == "" || len(f.m.Tables) != 3 {
		t.Fatalf("manifest source %+v, digests %s, position %+v, %d tables", f.m.Source, f.m.DigestAlgorithm, f.m.Position, len(f.m.Tables))
	}
	res, err := check.Run(ctxT(t), check.Options{Job: check.Job{Name: f.job, Prefix: "his/", RPO: time.Hour, Retention: 24 * time.Hour},
		Store: f.store, Read: true, Identities: []suite.Identity{ageIdentity(f.id)}, Keys: backup.Keys{f.sign.Public()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Check == check.Integrity && r.Status != check.Pass {
			t.Errorf("check --read: %+v", r)
		}
	}
	rec, err := drill.Run(ctxT(t), f.opts())
	if err != nil {
		t.Fatalf("drill: %v; record %+v", err, rec)
	}
	if rec.Status != drill.StatusPass || rec.Digests != "verified" || rec.TablesMatched != 3 || rec.Rows != 5000 {
		t.Fatalf("record %+v", rec)
	}
	for _, tb := range rec.Tables {
		if tb.Check != "match" || tb.DDLMatch == nil || !*tb.DDLMatch {
			t.Errorf("table %+v", tb)
		}
	}
	if len(rec.Probes) != 2 || rec.Probes[0].Status != drill.StatusPass || rec.Probes[1].Status != drill.StatusPass {
		t.Errorf("probes %+v", rec.Probes)
	}
	if !rec.Dropped || len(pgScratchLeft(t, f.target, f.job)) != 0 {
		t.Errorf("scratch left: dropped %v, %v", rec.Dropped, pgScratchLeft(t, f.target, f.job))
	}

	// A subset cannot be loaded on PostgreSQL yet: the drill could not
	// run, it does not load everything and call it a subset; nothing is
	// created on the drill server.
	o := f.opts()
	o.Tables = []string{"yb.cb_ryxx"}
	rec, err = drill.Run(ctxT(t), o)
	var fl *drill.Failure
	if err == nil || errors.As(err, &fl) || rec.Status != drill.StatusError || !strings.Contains(err.Error(), "cannot load a subset") || len(rec.Scratch) != 0 {
		t.Errorf("subset on PostgreSQL: %v, status %s, scratch %v", err, rec.Status, rec.Scratch)
	}
}

// TestPostgresDrillDamage: a flipped byte and a truncated object are
// integrity failures, a probe that is false a probe failure, and each
// drill drops its scratch database.
func TestPostgresDrillDamage(t *testing.T) {
	f := newPGFixture(t, "his-damage")
	rc, _, err := f.store.Get(ctxT(t), f.m.Object.Key)
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := io.ReadAll(rc)
	rc.Close()
	for _, tc := range []struct {
		name   string
		change func([]byte) []byte
	}{
		{"flipped byte", func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }},
		{"truncated object", func(b []byte) []byte { return b[:len(b)*2/3] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.change(bytes.Clone(orig))
			if _, err := f.store.Put(ctxT(t), f.m.Object.Key, bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			rec, err := drill.Run(ctxT(t), f.opts())
			wantFailure(t, rec, err, drill.FailIntegrity)
			if left := pgScratchLeft(t, f.target, f.job); len(left) != 0 || !rec.Dropped {
				t.Errorf("scratch left %v", left)
			}
		})
	}
	if _, err := f.store.Put(ctxT(t), f.m.Object.Key, bytes.NewReader(orig), int64(len(orig)), backup.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	o := f.opts()
	o.Probes = []drill.Probe{{Name: "false", SQL: "SELECT count(*) > 1000000 FROM yb.js_jsmx"}}
	rec, err := drill.Run(ctxT(t), o)
	fl := wantFailure(t, rec, err, drill.FailProbe)
	if !strings.Contains(fl.Detail, "returned 0") {
		t.Errorf("a false boolean: %s", fl.Detail)
	}
}

// TestPostgresDrillSafety: the source server is refused; a leftover of a
// crashed drill is dropped only when its marker names the job and no
// drill holds its lock.
func TestPostgresDrillSafety(t *testing.T) {
	f := newPGFixture(t, "his-safe")
	o := f.opts()
	o.TargetDSN = crypto.NewSecret(f.sourceDSN())
	rec, err := drill.Run(ctxT(t), o)
	if err == nil || !strings.Contains(err.Error(), drill.ErrSourceServer.Error()) || rec.Status != drill.StatusError {
		t.Fatalf("drill onto the source: %v, record %+v", err, rec)
	}
	if !strings.Contains(err.Error(), "system identifier") {
		t.Errorf("refused without naming the system identifier: %v", err)
	}

	tgt := f.target
	marker := func(name, comment string) {
		tgt.Exec(t, "postgres", `CREATE DATABASE "`+name+`"`)
		if comment != "" {
			tgt.Exec(t, "postgres", `COMMENT ON DATABASE "`+name+`" IS '`+comment+`'`)
		}
		t.Cleanup(func() { tgt.Exec(t, "postgres", `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`) })
	}
	crashed := drill.ScratchPrefix + "his_safe_20200101000000"
	unmarked := drill.ScratchPrefix + "his_safe_20200101000001"
	running := drill.ScratchPrefix + "his_safe_20200101000002"
	otherJob := drill.ScratchPrefix + "his_safe_20200101000003"
	marker(crashed, "atrest drill scratch; run=0011223344556677; job=his-safe")
	marker(unmarked, "")
	marker(running, "atrest drill scratch; run=8899aabbccddeeff; job=his-safe")
	marker(otherJob, "atrest drill scratch; run=0123012301230123; job=his-other")
	// A drill "still running": a session holding its run's lock.
	holder, err := postgres.Engine{}.Target(ctxT(t), tgt.DSNFor(tgt.User, tgt.Password, "postgres"),
		testRun("8899aabbccddeeff"))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()

	rec, err = drill.Run(ctxT(t), f.opts())
	if err != nil {
		t.Fatalf("drill: %v", err)
	}
	if len(rec.Cleaned) != 1 || rec.Cleaned[0] != crashed {
		t.Errorf("cleaned %v, want [%s]; notes %q", rec.Cleaned, crashed, rec.Notes)
	}
	left := pgScratchLeft(t, tgt, f.job)
	if strings.Join(left, ",") != unmarked+","+running+","+otherJob {
		t.Errorf("left %v", left)
	}
}

func testRun(id string) engine.Run {
	return engine.Run{ID: id, Job: "his-safe", Marker: "atrest drill scratch; run=" + id + "; job=his-safe", Note: func(string, ...any) {}}
}

// TestPostgresPgDump: pg_dump's own dumps, plain (gzipped) and custom
// format, uploaded by another tool: check --read reads each to its end,
// and a drill restores each (tables and rows counted, digests unsupported:
// a third-party dump carries none); a cut plain dump fails both.
func TestPostgresPgDump(t *testing.T) {
	f := newPGFixture(t, "his-pgdump")
	plain := f.src.Program(t, "pg_dump", "-d", f.database)
	custom := f.src.Program(t, "pg_dump", "-d", f.database, "-Fc")
	cut := gzipped(plain[:len(plain)*3/4])
	for _, tc := range []struct {
		key     string
		data    []byte
		whole   bool
		summary string
	}{
		{"his/pgdump/his-20260101.sql.gz", gzipped(plain), true, "PostgreSQL database dump complete"},
		{"his/pgdump/his-20260102.dump", custom, true, "a pg_dump custom archive"},
		{"his/pgdump/his-20260103.sql.gz", cut, false, "the dump stopped early"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			if _, err := f.store.Put(ctxT(t), tc.key, bytes.NewReader(tc.data), int64(len(tc.data)), backup.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			res, err := check.Run(ctxT(t), check.Options{Job: check.Job{Name: "his-pgdump", Format: "pg_dump", KeyPattern: tc.key,
				Engine: postgres.Engine{}, RPO: 24 * time.Hour, Retention: 24 * time.Hour}, Store: f.store, Read: true})
			if err != nil {
				t.Fatal(err)
			}
			var integrity *check.Result
			for i := range res {
				if res[i].Check == check.Integrity {
					integrity = &res[i]
				}
			}
			if integrity == nil || (integrity.Status == check.Pass) != tc.whole || !strings.Contains(integrity.Detail, tc.summary) {
				t.Fatalf("check --read: %+v", integrity)
			}
			o := f.opts()
			o.Job = drill.Job{Name: "his-pgdump", Format: "pg_dump", KeyPattern: tc.key}
			o.Probes = []drill.Probe{{Name: "rows", SQL: "SELECT count(*) = 2000 FROM yb.js_jsmx"}}
			rec, err := drill.Run(ctxT(t), o)
			if !tc.whole {
				wantFailure(t, rec, err, drill.FailIntegrity)
				return
			}
			if err != nil {
				t.Fatalf("drill: %v; record %+v", err, rec)
			}
			if rec.Digests != "unsupported" || len(rec.Tables) != 3 || rec.Rows != 5000 || rec.Probes[0].Status != drill.StatusPass {
				t.Errorf("record %+v", rec)
			}
		})
	}
}
