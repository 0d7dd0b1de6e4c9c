package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestPostgres(t *testing.T) {
	pg := Postgres(t)
	db := pg.CreateDatabase(t, "envt")
	pg.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'x')")
	var n int
	if err := pg.Connect(t, db).QueryRow(context.Background(), "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count %d, %v", n, err)
	}
	f := filepath.Join(t.TempDir(), "s.sql")
	os.WriteFile(f, []byte("INSERT INTO t VALUES (2, 'y');\n"), 0o644)
	pg.Psql(t, db, f)
	second := SecondPostgres(t)
	if second.Port == pg.Port {
		t.Fatal("the second server is the first")
	}
}
