package drill_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine/postgres"
	"github.com/atrest/atrest/internal/testenv"
)

// pgSabotage runs stmts in the scratch database on pg.
func pgSabotage(pg *testenv.PG, stmts ...string) func(context.Context, string) error {
	return func(ctx context.Context, scratch string) error {
		c, err := pgx.Connect(ctx, pg.DSNFor(pg.User, pg.Password, scratch))
		if err != nil {
			return err
		}
		defer c.Close(context.WithoutCancel(ctx))
		for _, s := range stmts {
			if _, err := c.Exec(ctx, s); err != nil {
				return fmt.Errorf("sabotage %q: %w", s, err)
			}
		}
		return nil
	}
}

// A PostgreSQL restore that loses or changes a trigger, function, view,
// index, or a sequence's value fails the drill, which names it.
func TestPostgresDrillSchemaObjects(t *testing.T) {
	f := newPGFixture(t, "his-schema")
	f.src.Exec(t, f.database,
		"CREATE TABLE yb.audit_n (n int)",
		"CREATE FUNCTION yb.f_audit() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO yb.audit_n VALUES (1); RETURN NEW; END$$",
		"CREATE TRIGGER trg_audit AFTER INSERT ON yb.js_jsmx FOR EACH ROW EXECUTE FUNCTION yb.f_audit()",
		"CREATE FUNCTION yb.f_twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x * 2'",
		"CREATE INDEX ix_born ON yb.cb_ryxx (born)",
		"ALTER TABLE yb.js_jsmx ADD CONSTRAINT chk_amt CHECK (amt >= 0)",
	)
	var err error
	f.m, err = backup.Run(ctxT(t), backup.RunOptions{Job: f.job, Engine: postgres.Engine{},
		DSN: crypto.NewSecret(f.sourceDSN()), Parallel: 2, Store: f.store, Prefix: "his/",
		Recipients: []suite.Recipient{ageRecipient(f.id)}, SigningKey: f.sign, ToolVersion: "test",
		Now: func() time.Time { return f.m.Started.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]int{}
	for _, o := range f.m.Objects {
		byType[o.Type]++
		if o.Digest == "" {
			t.Errorf("manifest object %+v has no digest", o)
		}
		if o.Type == "SEQUENCE" && o.Name == "cb_ryxx_id_seq" && o.Value != "3000" {
			t.Errorf("sequence %+v", o)
		}
	}
	for _, typ := range []string{"VIEW", "TRIGGER", "FUNCTION", "SEQUENCE", "PRIMARY KEY", "UNIQUE", "FOREIGN KEY", "CHECK", "INDEX"} {
		if byType[typ] == 0 {
			t.Errorf("the manifest lists no %s: %v", typ, byType)
		}
	}

	rec, err := drill.Run(ctxT(t), f.opts())
	if err != nil {
		t.Fatalf("good drill: %v; notes %q", err, rec.Notes)
	}
	if rec.SchemaObjects != "verified" || rec.SchemaObjectsChecked != len(f.m.Objects) || len(rec.Findings) != 0 {
		t.Errorf("schema objects %s, checked %d of %d, findings %q", rec.SchemaObjects, rec.SchemaObjectsChecked, len(f.m.Objects), rec.Findings)
	}

	for _, c := range []struct{ name, stmt, want string }{
		{"trigger dropped", "DROP TRIGGER trg_audit ON yb.js_jsmx", "trigger yb.js_jsmx.trg_audit missing on the target"},
		{"sequence moved", "SELECT setval('yb.cb_ryxx_id_seq', 99999)", "sequence yb.cb_ryxx_id_seq at 99999 on the target, 3000 in the manifest"},
		{"function dropped", "DROP FUNCTION yb.f_twice(int)", "function yb.f_twice(x integer) missing on the target"},
		{"view changed", "CREATE OR REPLACE VIEW yb.v_ryxx AS SELECT id, psn_name FROM yb.cb_ryxx WHERE id > 0", "view yb.v_ryxx differs from the manifest"},
		{"index dropped", "DROP INDEX yb.ix_born", "index yb.cb_ryxx.ix_born missing on the target"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := f.opts()
			o.Engine = afterLoad{Engine: postgres.Engine{}, sabotage: pgSabotage(f.target, c.stmt)}
			wantSchemaFailure(t, o, c.want)
		})
	}
}

// definers: keep on PostgreSQL: pg_dump's owners name roles, which a
// restore that keeps owners needs (psql -v ON_ERROR_STOP=1 stops at
// ALTER … OWNER TO a missing role; pg_restore without --no-owner fails
// likewise). The drill, which loads as its own user, names the missing
// role and fails; strip passes and says so.
func TestPostgresDrillOwners(t *testing.T) {
	f := newPGFixture(t, "his-owner")
	f.src.Exec(t, f.database, "DROP ROLE IF EXISTS his_owner", "CREATE ROLE his_owner", "ALTER TABLE yb.js_jsmx OWNER TO his_owner")
	t.Cleanup(func() {
		f.src.Exec(t, f.database, "ALTER TABLE yb.js_jsmx OWNER TO "+f.src.User, "DROP ROLE IF EXISTS his_owner")
	})
	plain := f.src.Program(t, "pg_dump", "-d", f.database)
	custom := f.src.Program(t, "pg_dump", "-d", f.database, "-Fc")
	for key, data := range map[string][]byte{"his/owner/his-1.sql.gz": gzipped(plain), "his/owner/his-2.dump": custom} {
		t.Run(key, func(t *testing.T) {
			if _, err := f.store.Put(ctxT(t), key, bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			o := f.opts()
			o.Job = drill.Job{Name: "his-owner", Format: "pg_dump", KeyPattern: key}
			o.Probes = nil
			rec, err := drill.Run(ctxT(t), o)
			fl := wantFailure(t, rec, err, drill.FailRestore)
			if !strings.Contains(fl.Detail, "definer his_owner missing on the target") || !strings.Contains(fl.Detail, "table yb.js_jsmx") {
				t.Errorf("detail %q", fl.Detail)
			}
			if rec.SchemaObjects != "unsupported" || rec.Rows != 5000 {
				t.Errorf("schema objects %s, rows %d", rec.SchemaObjects, rec.Rows)
			}
			o.Definers = "strip"
			if rec, err = drill.Run(ctxT(t), o); err != nil || !strings.Contains(rec.DefinersDetail, "stripped") {
				t.Fatalf("strip: %v; %q", err, rec.DefinersDetail)
			}
		})
	}
}
