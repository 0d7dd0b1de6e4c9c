package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atrest/atrest/internal/eval"
	"github.com/atrest/atrest/internal/testenv"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/corpus/db-postgres.sql from db.sql")

// postgresCorpus translates the labeled corpus db.sql (MySQL) into the same
// schema and rows for PostgreSQL: database atrest_dev becomes schema
// atrest_dev, MySQL's types PostgreSQL's (the JSON column jsonb, the blob
// bytea), FROM_BASE64 decode(…, 'base64'). The labels stay the same.
func postgresCorpus(mysql string) string {
	types := strings.NewReplacer("BIGINT", "bigint", "VARCHAR", "varchar", "CHAR(", "char(", "DECIMAL(", "numeric(",
		"BLOB", "bytea", " INT ", " integer ", " TEXT", " text")
	fromBase64 := regexp.MustCompile(`FROM_BASE64\('([^']*)'\)`)
	var out []string
	out = append(out, "-- made from db.sql by cmd/atrest's eval_pg_test.go (go test -run TestCorpusPostgresCopy ./cmd/atrest/ -args -update-corpus): do not edit",
		"-- load with: psql -v ON_ERROR_STOP=1 -d DATABASE -f db-postgres.sql")
	for _, l := range strings.Split(strings.TrimSpace(mysql), "\n") {
		switch {
		case strings.HasPrefix(l, "DROP DATABASE"):
			l = "DROP SCHEMA IF EXISTS atrest_dev CASCADE;"
		case strings.HasPrefix(l, "CREATE DATABASE"):
			l = "CREATE SCHEMA atrest_dev;"
		case strings.HasPrefix(l, "USE "):
			l = "SET search_path = atrest_dev;"
		case strings.HasPrefix(l, "CREATE TABLE"):
			l = strings.ReplaceAll(l, "`", "")
			l = strings.Replace(l, "profile_json TEXT", "profile_json jsonb", 1)
			l = strings.TrimSuffix(l, " ENGINE=InnoDB;") + ";"
			l = types.Replace(l)
		case strings.HasPrefix(l, "INSERT INTO"):
			head, rows, _ := strings.Cut(l, " VALUES ")
			l = strings.ReplaceAll(head, "`", "") + " VALUES " + fromBase64.ReplaceAllString(rows, "decode('$1', 'base64')")
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}

// TestCorpusPostgresCopy keeps db-postgres.sql the translation of db.sql.
func TestCorpusPostgresCopy(t *testing.T) {
	c := corpusDir(t)
	src, err := os.ReadFile(filepath.Join(c, "db.sql"))
	if err != nil {
		t.Fatal(err)
	}
	want := postgresCorpus(string(src))
	path := filepath.Join(c, "db-postgres.sql")
	if *updateCorpus {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("%s is not the translation of db.sql (%v): run go test -run TestCorpusPostgresCopy ./cmd/atrest/ -args -update-corpus", path, err)
	}
}

// TestEvalDBCorpusPostgres is issue 14's acceptance check: the labeled
// corpus loaded into a throwaway PostgreSQL with psql, scanned through the
// CLI as a SELECT-only role, scored by internal/eval with the same labels
// as on MariaDB.
func TestEvalDBCorpusPostgres(t *testing.T) {
	c := corpusDir(t)
	pg := testenv.Postgres(t)
	db := pg.CreateDatabase(t, "corpus")
	pg.Psql(t, db, filepath.Join(c, "db-postgres.sql"))
	pg.Exec(t, db, "CREATE ROLE corpus_reader_"+db+" LOGIN PASSWORD 'Reader-pw-1'",
		"GRANT USAGE ON SCHEMA atrest_dev TO corpus_reader_"+db,
		"GRANT SELECT ON ALL TABLES IN SCHEMA atrest_dev TO corpus_reader_"+db)
	t.Cleanup(func() {
		pg.Exec(t, db, "DROP OWNED BY corpus_reader_"+db)
		pg.Exec(t, "postgres", "DROP ROLE corpus_reader_"+db)
	})
	dsn := pg.DSNFor("corpus_reader_"+db, "Reader-pw-1", db)
	out, stderr, code := atrest(t, "scan", "db", "--dsn", dsn, "--format", "jsonl")
	if code != exitFound {
		t.Fatalf("exit %d, want %d (plaintext columns); stderr: %s", code, exitFound, stderr)
	}
	if strings.Contains(out+stderr, "Reader-pw-1") {
		t.Fatal("the password is in the output")
	}
	labels, err := eval.ReadColumnLabels(filepath.Join(c, "db-labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := eval.ScoreDB(labels, out)
	t.Logf("database scorer, PostgreSQL:\n%s", res)
	if testing.Verbose() {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, `"record":"server"`) || strings.Contains(l, `"record":"table"`) {
				t.Log(l)
			}
		}
	}
	if !res.OK() {
		t.Fatal("database scorer failed on PostgreSQL (above)")
	}
	for _, want := range []string{`"flavor":"postgres"`, `"catalog":"` + db + `"`, `"password_encryption":"scram-sha-256"`, `"encryption":"unknown"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in the output", want)
		}
	}
}
