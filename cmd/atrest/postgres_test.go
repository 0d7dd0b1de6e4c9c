package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/atrest/atrest/internal/testenv"
)

// A PostgreSQL source through the config: driver postgres on a
// keyword=value DSN, a drill server named by a postgres:// URL.
const pgCfg = `state_dir: state
journal:
  signing_key_file: keys/journal.key
fingerprint_key_file: keys/fingerprint.key
sources:
  - name: his-pg
    driver: postgres
    dsn_env: ATREST_T_PG_DSN
storage:
  - name: s3
    endpoint: ENDPOINT
    access_key_env: ATREST_T_S3_ACCESS
    secret_key_env: ATREST_T_S3_SECRET
backups:
  - name: his-nightly
    source: his-pg
    storage: s3
    bucket: BUCKET
    prefix: his/
    recipients: [RECIPIENT]
drills:
  - name: his-drill
    backup: his-nightly
    identity_file: keys/backup.agekey
    target_dsn_env: ATREST_T_PG_DRILL_DSN
    probes:
      - {name: persons, sql: "SELECT count(*) = 500 FROM his.patient"}
`

// TestPostgresCLI: scan db, backup run, backup check --read and drill run
// on PostgreSQL through the config and the CLI, journaled as for MySQL.
func TestPostgresCLI(t *testing.T) {
	pg, target := testenv.Postgres(t), testenv.SecondPostgres(t)
	db := pg.CreateDatabase(t, "cli")
	pg.Exec(t, db, "CREATE SCHEMA his",
		"CREATE TABLE his.patient (id bigint PRIMARY KEY, zjhm char(18), phone varchar(20))",
		"INSERT INTO his.patient SELECT g, '11010519491231002X', '1381234' || lpad(g::text, 4, '0') FROM generate_series(1, 500) g")
	srv := testenv.S3(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "keys"), 0o700)
	os.WriteFile(filepath.Join(dir, "keys/backup.agekey"), []byte(id.String()+"\n"), 0o600)
	cfg := filepath.Join(dir, "atrest.yaml")
	text := strings.NewReplacer("ENDPOINT", srv.Endpoint, "BUCKET", srv.Bucket(t, "clipg", false), "RECIPIENT", id.Recipient().String()).Replace(pgCfg)
	os.WriteFile(cfg, []byte(text), 0o600)
	t.Setenv("ATREST_T_PG_DSN", "host="+pg.Host+" port="+strconv.Itoa(pg.Port)+" user="+pg.User+" password="+pg.Password+" dbname="+db+" sslmode=disable")
	t.Setenv("ATREST_T_PG_DRILL_DSN", target.DSNFor(target.User, target.Password, "postgres"))
	t.Setenv("ATREST_T_S3_ACCESS", srv.AccessKey)
	t.Setenv("ATREST_T_S3_SECRET", srv.SecretKey)
	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	out, stderr, code := atrest(t, "scan", "db", "--config", cfg, "--source", "his-pg", "--format", "jsonl")
	if code != exitFound || !strings.Contains(out, `"table":"patient"`) || strings.Contains(out+stderr, pg.Password) {
		t.Fatalf("scan db: exit %d: %s %s", code, out, stderr)
	}
	if _, stderr, code := atrest(t, "backup", "run", "--config", cfg, "--job", "his-nightly"); code != 0 {
		t.Fatalf("backup run: exit %d: %s", code, stderr)
	}
	out, stderr, code = atrest(t, "backup", "check", "--config", cfg, "--job", "his-nightly", "--read", "--identity", filepath.Join(dir, "keys/backup.agekey"), "--format", "jsonl")
	if st := checkStatuses(records(t, out), "his-nightly"); st["integrity"] != "pass" {
		t.Fatalf("backup check: exit %d: %v %s", code, st, stderr)
	}
	out, stderr, code = atrest(t, "drill", "run", "--config", cfg, "--job", "his-drill", "--format", "jsonl")
	if code != 0 || !strings.Contains(out, `"status":"pass"`) || !strings.Contains(out, `"digests":"verified"`) {
		t.Fatalf("drill run: exit %d: %s %s", code, out, stderr)
	}
	log, _, _ := atrest(t, "audit", "log", "--config", cfg, "--format", "jsonl")
	for _, kind := range []string{"scan.db", "backup.run", "backup.check", "drill.run"} {
		if !strings.Contains(log, `"kind":"`+kind+`"`) {
			t.Errorf("no %s in the journal", kind)
		}
	}
}
