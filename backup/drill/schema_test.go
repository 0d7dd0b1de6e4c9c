package drill_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

// afterLoad is a fault injection at the seam, beside the real server: its
// targets run sabotage on the first scratch database once the real load
// is done, as if the restore had lost or changed an object.
type afterLoad struct {
	engine.Engine
	sabotage func(ctx context.Context, scratch string) error
}

func (e afterLoad) Target(ctx context.Context, dsn string, run engine.Run) (engine.Target, error) {
	t, err := e.Engine.Target(ctx, dsn, run)
	if err != nil {
		return nil, err
	}
	return &afterLoadTarget{Target: t, sabotage: e.sabotage}, nil
}

type afterLoadTarget struct {
	engine.Target
	sabotage func(ctx context.Context, scratch string) error
}

func (t *afterLoadTarget) Load(ctx context.Context, r io.Reader, o engine.LoadOptions) (*engine.LoadResult, error) {
	res, err := t.Target.Load(ctx, r, o)
	if err == nil {
		err = t.sabotage(ctx, t.Created()[0])
	}
	return res, err
}

// mysqlSabotage runs stmts in the scratch database on db's server.
func mysqlSabotage(db *testenv.DB, stmts ...string) func(context.Context, string) error {
	return func(ctx context.Context, scratch string) error {
		c, err := sql.Open("mysql", db.DSN+scratch)
		if err != nil {
			return err
		}
		defer c.Close()
		conn, err := c.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		for _, s := range stmts {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("sabotage %q: %w", s, err)
			}
		}
		return nil
	}
}

// addObjects gives the fixture's source every kind of schema object a
// drill checks: a routine of each kind, an event, a foreign key and a
// check constraint (beside the fixture's view, trigger and keys).
func (f *fixture) addObjects(t *testing.T) {
	q := "`" + f.database + "`."
	f.src.Exec(t,
		"CREATE TABLE "+q+"js_fk (id INT PRIMARY KEY, ryxx_id INT, amt INT, CONSTRAINT fk_ryxx FOREIGN KEY (ryxx_id) REFERENCES "+q+"cb_ryxx (id), CONSTRAINT chk_amt CHECK (amt >= 0))",
		"CREATE PROCEDURE "+q+"p_count() SELECT COUNT(*) FROM cb_ryxx",
		"CREATE FUNCTION "+q+"f_twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
		"CREATE EVENT "+q+"ev_purge ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DO DELETE FROM "+q+"audit_n WHERE n < 0",
	)
}

// A restore that loses or changes a view, trigger, routine, event, index
// or constraint fails the drill, which names it.
func TestDrillSchemaObjects(t *testing.T) {
	f := newFixture(t, "yb-schema")
	f.addObjects(t)
	f.m = f.backup(t, f.m.Snapshot.Add(time.Minute))
	db := f.database
	byType := map[string]int{}
	for _, o := range f.m.Objects {
		byType[o.Type]++
		if o.Digest == "" {
			t.Errorf("manifest object %+v has no digest", o)
		}
	}
	for _, typ := range []string{"VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "PRIMARY KEY", "UNIQUE", "INDEX", "FOREIGN KEY", "CHECK"} {
		if byType[typ] == 0 {
			t.Errorf("the manifest lists no %s: %v", typ, byType)
		}
	}

	rec, err := drill.Run(ctxT(t), f.opts())
	if err != nil {
		t.Fatalf("good drill: %v", err)
	}
	if rec.SchemaObjects != "verified" || rec.SchemaObjectsChecked != len(f.m.Objects) || len(rec.Findings) != 0 {
		t.Errorf("schema objects %s, checked %d of %d, findings %q", rec.SchemaObjects, rec.SchemaObjectsChecked, len(f.m.Objects), rec.Findings)
	}
	if !strings.Contains(strings.Join(rec.Notes, " "), "events created DISABLEd") {
		t.Errorf("notes %q", rec.Notes)
	}

	for _, c := range []struct {
		name, stmt, want string
	}{
		{"trigger dropped", "DROP TRIGGER js_ai", "trigger " + db + ".js_ai missing on the target"},
		{"view changed", "CREATE OR REPLACE VIEW v_ryxx AS SELECT id FROM cb_ryxx", "view " + db + ".v_ryxx differs from the manifest"},
		{"procedure dropped", "DROP PROCEDURE p_count", "procedure " + db + ".p_count missing on the target"},
		{"function dropped", "DROP FUNCTION f_twice", "function " + db + ".f_twice missing on the target"},
		{"event dropped", "DROP EVENT ev_purge", "event " + db + ".ev_purge missing on the target"},
		{"index dropped", "ALTER TABLE cb_ryxx DROP INDEX born_certno", "index " + db + ".cb_ryxx.born_certno missing on the target"},
		{"check dropped", "ALTER TABLE js_fk DROP CONSTRAINT chk_amt", "check " + db + ".js_fk.chk_amt missing on the target"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := f.opts()
			o.Engine = afterLoad{Engine: mysql.Engine{}, sabotage: mysqlSabotage(f.target, c.stmt)}
			wantSchemaFailure(t, o, c.want)
		})
	}
}

// wantSchemaFailure runs a drill that must fail as a schema problem named
// want, in its detail and its findings.
func wantSchemaFailure(t *testing.T, o drill.Options, want string) {
	t.Helper()
	rec, err := drill.Run(ctxT(t), o)
	fl := wantFailure(t, rec, err, drill.FailIntegrity)
	if !strings.HasPrefix(fl.Detail, "schema: ") || !strings.Contains(fl.Detail, want) {
		t.Errorf("detail %q, want %q", fl.Detail, want)
	}
	if !strings.Contains(strings.Join(rec.Findings, "\n"), "schema: "+want) {
		t.Errorf("findings %q", rec.Findings)
	}
}

// A manifest from before object digests (the signed JSON has none) is
// compared by presence only, and the record says so.
func TestDrillSchemaPresenceOnly(t *testing.T) {
	f := newFixture(t, "yb-presence")
	m := *f.m
	m.Objects = nil
	for _, o := range f.m.Objects {
		switch o.Type {
		case "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION":
			m.Objects = append(m.Objects, backup.SchemaObject{Database: o.Database, Name: o.Name, Type: o.Type})
		}
	}
	m.Signature = nil
	if err := m.Sign(f.sign); err != nil {
		t.Fatal(err)
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), `"digest":""`) || strings.Contains(string(data), `"definer"`) {
		t.Fatalf("an old manifest's objects gain fields: %s", data)
	}
	key := backup.ManifestKey(f.m.Object.Key)
	if err := f.store.Delete(ctxT(t), key); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Put(ctxT(t), key, strings.NewReader(string(data)), int64(len(data)), backup.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, err := drill.Run(ctxT(t), f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if rec.SchemaObjects != "presence" || rec.SchemaObjectsChecked != 2 || !strings.Contains(rec.SchemaObjectsDetail, "presence only") {
		t.Errorf("schema objects %s, %d checked, %q", rec.SchemaObjects, rec.SchemaObjectsChecked, rec.SchemaObjectsDetail)
	}
	o := f.opts()
	o.Engine = afterLoad{Engine: mysql.Engine{}, sabotage: mysqlSabotage(f.target, "DROP TRIGGER js_ai")}
	rec, err = drill.Run(ctxT(t), o)
	if fl := wantFailure(t, rec, err, drill.FailIntegrity); !strings.Contains(fl.Detail, "trigger "+f.database+".js_ai missing") {
		t.Errorf("detail %q", fl.Detail)
	}
}

// definers: keep gives the verdict of the README's restore by hand, which
// keeps the definers: with an account missing on the server, `mariadb <
// FILE` stops at a view over a view of that definer (ERROR 1449), and the
// drill fails naming the account; once the account exists both pass. With
// strip the drill passes and says what it did differently.
func TestDrillDefinersByHand(t *testing.T) {
	f := newFixture(t, "yb-definer")
	q := "`" + f.database + "`."
	f.src.Exec(t, "CREATE USER IF NOT EXISTS 'his_app'@'%'", "GRANT ALL ON "+q+"* TO 'his_app'@'%'",
		"CREATE DEFINER='his_app'@'%' VIEW "+q+"v_base AS SELECT id, psn_name FROM "+q+"cb_ryxx",
		"CREATE DEFINER='his_app'@'%' VIEW "+q+"v_top AS SELECT id FROM "+q+"v_base",
		"CREATE DEFINER='his_app'@'%' TRIGGER "+q+"ryxx_bi BEFORE INSERT ON "+q+"cb_ryxx FOR EACH ROW SET NEW.note = 'x'")
	t.Cleanup(func() { f.src.Exec(t, "DROP USER IF EXISTS 'his_app'@'%'") })
	f.m = f.backup(t, f.m.Snapshot.Add(time.Minute))
	var definers []string
	for _, o := range f.m.Objects {
		if o.Definer == "'his_app'@'%'" {
			definers = append(definers, o.Type+" "+o.Name)
		}
	}
	if len(definers) != 3 {
		t.Fatalf("manifest definers: %v", definers)
	}

	// A drill server of its own, which the by-hand restore may fill.
	f.target = testenv.NewMariaDB(t, testenv.Config{})
	obj := f.fetch(t)

	// 1. No account: the README's pipeline fails, and so does the drill.
	out, byHandErr := f.restoreByHand(t, obj, "")
	if byHandErr == nil || !strings.Contains(out, "ERROR 1449") {
		t.Fatalf("by hand without the account: %v: %s", byHandErr, out)
	}
	rec, err := drill.Run(ctxT(t), f.opts())
	fl := wantFailure(t, rec, err, drill.FailRestore)
	want := "definer 'his_app'@'%' missing on the target"
	if !strings.Contains(fl.Detail, want) || !strings.Contains(fl.Detail, "ERROR 1449") || !strings.Contains(fl.Detail, "view "+f.database+".v_base") {
		t.Errorf("detail %q", fl.Detail)
	}
	if len(rec.Findings) != 1 || !strings.HasPrefix(rec.Findings[0], want) || rec.TablesMatched != len(f.m.Tables) {
		t.Errorf("findings %q, tables matched %d", rec.Findings, rec.TablesMatched)
	}
	js, _ := json.Marshal(rec)
	t.Logf("record: %s", js)

	// 2. strip: the README's sed makes the by-hand restore pass, and the
	// drill passes too, saying that the definers were stripped.
	if out, err := f.restoreByHand(t, obj, stripSed); err != nil {
		t.Fatalf("by hand with sed: %v: %s", err, out)
	}
	o := f.opts()
	o.Definers = engine.DefinersStrip
	if rec, err = drill.Run(ctxT(t), o); err != nil || !strings.Contains(rec.DefinersDetail, "stripped") {
		t.Fatalf("strip: %v; %q", err, rec.DefinersDetail)
	}

	// 3. The account exists (with its rights on the database, as the
	// README says to create it): both pass, and the restored view works.
	f.target.Exec(t, "DROP DATABASE IF EXISTS "+q[:len(q)-1], "CREATE USER 'his_app'@'%'", "GRANT ALL ON "+q+"* TO 'his_app'@'%'")
	if out, err := f.restoreByHand(t, obj, ""); err != nil {
		t.Fatalf("by hand with the account: %v: %s", err, out)
	}
	var n int
	if err := f.target.Open(t, f.database).QueryRow("SELECT COUNT(*) FROM v_top").Scan(&n); err != nil || n != 3000 {
		t.Fatalf("the restored view: %d, %v", n, err)
	}
	rec, err = drill.Run(ctxT(t), f.opts())
	if err != nil || len(rec.Findings) != 0 || !strings.Contains(rec.DefinersDetail, "exist on the target") {
		t.Fatalf("keep with the account: %v; findings %q; %q", err, rec.Findings, rec.DefinersDetail)
	}
}

// fetch stores the fixture's backup object in a file, as the README's
// step 1 does with an S3 client.
func (f *fixture) fetch(t *testing.T) string {
	t.Helper()
	rc, _, err := f.store.Get(ctxT(t), f.m.Object.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	path := filepath.Join(t.TempDir(), "x.sql.zst.age")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, rc); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// stripSed is the README's filter that strips definers by hand.
const stripSed = "sed -E 's/DEFINER=`[^`]*`@`[^`]*` //'"

// restoreByHand runs the README's step 2 against the fixture's target:
// age -d -i KEY x.sql.zst.age | zstd -d | mariadb, with filter (the
// README's sed) before mariadb if set.
func (f *fixture) restoreByHand(t *testing.T, obj, filter string) (string, error) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "| zstd -d | "+stripSed+" | mariadb") {
		t.Fatal("README: the by-hand restore that strips definers is not the one tested")
	}
	if filter != "" {
		filter += " | "
	}
	for _, bin := range []string{"age", "zstd", "mariadb"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed (Debian: age, zstd, mariadb-client)", bin)
			}
			t.Skipf("%s not installed", bin)
		}
	}
	key := filepath.Join(t.TempDir(), "backup.agekey")
	if err := os.WriteFile(key, []byte(f.id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-o", "pipefail", "-c",
		fmt.Sprintf("age -d -i %s %s | zstd -d | %smariadb -h 127.0.0.1 -P %d -u root", key, obj, filter, f.target.Port))
	out, err := cmd.CombinedOutput()
	return string(out), err
}
