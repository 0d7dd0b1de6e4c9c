package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"filippo.io/age"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/internal/testenv"
)

// backupEnv is an installation with a MariaDB source, a versitygw bucket
// with object lock (30-day default retention) and one without, age keys,
// and a config naming them all, after atrest init.
type backupEnv struct {
	dir      string
	cfg      string
	db       *testenv.DB
	database string
	srv      *testenv.S3Server
	vals     cfgVals
}

type cfgVals struct {
	Database, Endpoint, Bucket, PlainBucket, Recipient string
	Schedule                                           string // yb-nightly's, for serve; "" = none
	Listen                                             string // http.listen, for serve; "" = none
}

const cfgTemplate = `state_dir: state
journal:
  signing_key_file: keys/journal.key
fingerprint_key_file: keys/fingerprint.key
sources:
  - name: yb-prod
    dsn_env: ATREST_T_DSN
    databases: [{{.Database}}]
storage:
  - name: s3
    endpoint: {{.Endpoint}}
    access_key_env: ATREST_T_S3_ACCESS
    secret_key_env: ATREST_T_S3_SECRET
backups:
  - name: yb-nightly
    source: yb-prod
    storage: s3
    bucket: {{.Bucket}}
    prefix: yb/
    recipients: [{{.Recipient}}]
    rpo: 26h
    retention: 30d
{{- if .Schedule}}
    schedule: "{{.Schedule}}"
{{- end}}
  - name: yb-plain
    source: yb-prod
    storage: s3
    bucket: {{.PlainBucket}}
    prefix: yb/
    recipients: [{{.Recipient}}]
    rpo: 26h
    retention: 30d
drills:
  - name: yb-drill
    backup: yb-nightly
    identity_file: keys/backup.agekey
    target_dsn_env: ATREST_T_DRILL_DSN
{{- if .Listen}}
http:
  listen: {{.Listen}}
{{- end}}
`

func newBackupEnv(t *testing.T, srv *testenv.S3Server) *backupEnv {
	t.Helper()
	db := testenv.MariaDB(t)
	database := db.CreateDatabase(t, "cli")
	db.Exec(t, "CREATE TABLE `"+database+"`.cb_ryxx (id INT PRIMARY KEY, psn_name VARCHAR(40))",
		"INSERT INTO `"+database+"`.cb_ryxx SELECT seq, CONCAT('王五', seq) FROM `"+database+"`.seq_1_to_1234")
	bucket := srv.Bucket(t, "cli", true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := s3store.New(ctx, srv.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetDefaultRetention(ctx, backup.Governance, 30); err != nil {
		t.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "keys"), 0o700)
	if err := os.WriteFile(filepath.Join(dir, "keys/backup.agekey"), []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ATREST_T_DSN", db.DSN)
	t.Setenv("ATREST_T_S3_ACCESS", srv.AccessKey)
	t.Setenv("ATREST_T_S3_SECRET", srv.SecretKey)
	e := &backupEnv{dir: dir, cfg: filepath.Join(dir, "atrest.yaml"), db: db, database: database, srv: srv,
		vals: cfgVals{Database: database, Endpoint: srv.Endpoint, Bucket: bucket,
			PlainBucket: srv.Bucket(t, "plain", false), Recipient: id.Recipient().String()}}
	e.write(t, e.vals)
	if _, stderr, code := atrest(t, "init", "--config", e.cfg); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	return e
}

func (e *backupEnv) write(t *testing.T, v cfgVals) {
	t.Helper()
	f, err := os.Create(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := template.Must(template.New("cfg").Parse(cfgTemplate)).Execute(f, v); err != nil {
		t.Fatal(err)
	}
}

// records parses jsonl output.
func records(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	return recs
}

func checkStatuses(recs []map[string]any, job string) map[string]string {
	st := map[string]string{}
	for _, r := range recs {
		if r["record"] == "check" && r["job"] == job {
			st[r["check"].(string)] = r["status"].(string)
		}
	}
	return st
}

func TestBackupRunAndCheck(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	out, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("backup run: exit %d: %s", code, stderr)
	}
	recs := records(t, out)
	if len(recs) != 1 {
		t.Fatalf("backup run printed %d records: %s", len(recs), out)
	}
	r := recs[0]
	t.Logf("%s", out)
	if r["record"] != "backup" || r["job"] != "yb-nightly" || r["status"] != "ok" || r["rows"] != float64(1234) ||
		r["tables"] != float64(1) || r["bytes"].(float64) <= 0 || !strings.HasPrefix(r["key"].(string), "yb/yb-nightly/") {
		t.Errorf("backup record: %v", r)
	}

	// Check every job: the good one passes (reading with the drill's
	// identity), the one never run on a bucket without lock fails: exit 1.
	out, stderr, code = atrest(t, "backup", "check", "--config", e.cfg, "--read", "--format", "jsonl")
	recs = records(t, out)
	for _, r := range recs {
		t.Logf("%v %v %v %v", r["job"], r["check"], r["status"], r["detail"])
	}
	if code != exitFound || !strings.Contains(stderr, "yb-plain/freshness") || strings.Contains(stderr, "yb-nightly/") {
		t.Errorf("check all: exit %d, stderr %q", code, stderr)
	}
	good := checkStatuses(recs, "yb-nightly")
	for _, c := range []string{"freshness", "completeness", "manifest", "object", "trend", "integrity", "versioning", "object_lock", "encryption"} {
		if good[c] != "pass" {
			t.Errorf("yb-nightly %s: %q", c, good[c])
		}
	}
	if good["lifecycle"] != "unsupported" {
		t.Errorf("yb-nightly lifecycle on versitygw: %q", good["lifecycle"])
	}
	plain := checkStatuses(recs, "yb-plain")
	for _, c := range []string{"freshness", "versioning", "object_lock"} {
		if plain[c] != "fail" {
			t.Errorf("yb-plain %s: %q", c, plain[c])
		}
	}
	for _, r := range recs {
		if r["job"] == "yb-nightly" && r["check"] == "integrity" && !strings.Contains(r["detail"].(string), "age authenticated every chunk") {
			t.Errorf("the drill identity was not used: %v", r["detail"])
		}
	}
	// The check journals which backup it read back whole.
	var read []string
	for _, en := range e.entries(t, "backup.check") {
		if en.Subject == "yb-nightly" {
			read = append(read, en.Backups(journal.BackupRead)...)
		}
	}
	if len(read) != 1 || read[0] != r["key"] {
		t.Errorf("backup.check read items %v, want the backup %v", read, r["key"])
	}
	sum := recs[len(recs)-1]
	if sum["record"] != "summary" || sum["jobs"] != float64(2) || sum["fail"].(float64) < 3 {
		t.Errorf("summary %v", sum)
	}

	// One job, without reading, with an explicit identity: exit 0.
	if _, stderr, code := atrest(t, "backup", "check", "--config", e.cfg, "--job", "yb-nightly", "--canary",
		"--identity", filepath.Join(e.dir, "keys/backup.agekey"), "--format", "jsonl"); code != exitOK {
		t.Errorf("check yb-nightly: exit %d: %s", code, stderr)
	}
	out, _, _ = atrest(t, "backup", "check", "--config", e.cfg, "--job", "yb-nightly", "--format", "table")
	if !strings.Contains(out, "freshness") || !strings.Contains(out, "SUMMARY") {
		t.Errorf("table output:\n%s", out)
	}

	// The journal has the run and each check, with their figures.
	out, stderr, code = atrest(t, "audit", "log", "--config", e.cfg, "--kind", "backup", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("audit log: %d %s", code, stderr)
	}
	var runs, checks int
	for _, r := range records(t, out) {
		figs, _ := r["figures"].(map[string]any)
		switch r["kind"] {
		case "backup.run":
			runs++
			if r["outcome"] != "ok" || figs["rows"] != float64(1234) || figs["bytes"] == nil || figs["seconds"] == nil {
				t.Errorf("backup.run entry %v", r)
			}
		case "backup.check":
			checks++
			if figs["pass"] == nil || figs["fail"] == nil {
				t.Errorf("backup.check entry %v", r)
			}
			if r["subject"] == "yb-plain" && r["outcome"] != "fail" {
				t.Errorf("yb-plain check journaled as %v", r["outcome"])
			}
		}
	}
	if runs != 1 || checks != 4 {
		t.Errorf("journal: %d backup.run, %d backup.check entries; want 1 and 4", runs, checks)
	}
}

// Errors that stop a run are one line on stderr, exit 2, and name the job;
// credentials never show.
func TestBackupErrors(t *testing.T) {
	e := newBackupEnv(t, testenv.S3(t))
	const badSecret = "Wr0ngS3cretValue"
	cases := []struct {
		name  string
		setup func(t *testing.T, v *cfgVals)
		want  []string
	}{
		{"wrong credentials", func(t *testing.T, v *cfgVals) { t.Setenv("ATREST_T_S3_SECRET", badSecret) }, []string{"access denied"}},
		{"missing bucket", func(t *testing.T, v *cfgVals) { v.Bucket = "no-such-bucket-atrest" }, []string{"bucket does not exist", "no-such-bucket-atrest"}},
		{"unreachable endpoint", func(t *testing.T, v *cfgVals) { v.Endpoint = "127.0.0.1:1" }, []string{"endpoint unreachable", "127.0.0.1:1"}},
		{"no credentials", func(t *testing.T, v *cfgVals) { t.Setenv("ATREST_T_S3_ACCESS", "") }, []string{"ATREST_T_S3_ACCESS is not set"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := e.vals
			c.setup(t, &v)
			e.write(t, v)
			defer e.write(t, e.vals)
			for _, args := range [][]string{
				{"backup", "run", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl"},
				{"backup", "check", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl"},
			} {
				out, stderr, code := atrest(t, args...)
				line := strings.TrimSpace(stderr)
				t.Logf("%s: %s", args[1], line)
				if code != exitCantRun || strings.Contains(line, "\n") || !strings.Contains(line, args[1]+" yb-nightly: ") {
					t.Errorf("%s: exit %d, stderr %q: want exit 2 and one line naming the job", args[1], code, stderr)
				}
				for _, w := range c.want {
					if !strings.Contains(line, w) {
						t.Errorf("%s: %q lacks %q", args[1], line, w)
					}
				}
				if strings.Contains(stderr+out, badSecret) || strings.Contains(stderr+out, e.srv.SecretKey) {
					t.Errorf("a secret was printed: %s %s", stderr, out)
				}
			}
		})
	}

	t.Run("wrong recipient", func(t *testing.T) {
		v := e.vals
		v.Recipient = "age1notarecipient"
		e.write(t, v)
		defer e.write(t, e.vals)
		_, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly")
		if code != exitCantRun || !strings.Contains(stderr, e.cfg+":") || !strings.Contains(stderr, `"yb-nightly": recipient 1 is not an age public key`) {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("no such job", func(t *testing.T) {
		_, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-weekly")
		if code != exitCantRun || !strings.Contains(stderr, `--job "yb-weekly" is not a backups[] entry`) {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("no dsn", func(t *testing.T) {
		t.Setenv("ATREST_T_DSN", "")
		_, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly")
		if code != exitCantRun || !strings.Contains(stderr, "backup run yb-nightly: source yb-prod: dsn_env: environment variable ATREST_T_DSN is not set") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("missing flags", func(t *testing.T) {
		if _, stderr, code := atrest(t, "backup", "run", "--config", e.cfg); code != exitCantRun || !strings.Contains(stderr, "required flag") {
			t.Errorf("backup run without --job: exit %d, %q", code, stderr)
		}
		// Without --config: $ATREST_CONFIG, which names what is missing.
		missing := filepath.Join(t.TempDir(), "atrest.yaml")
		t.Setenv("ATREST_CONFIG", missing)
		for _, args := range [][]string{{"backup", "check"}, {"drill", "run", "--job", "yb-drill"}} {
			if _, stderr, code := atrest(t, args...); code != exitCantRun || !strings.Contains(stderr, missing) {
				t.Errorf("%v: exit %d, %q", args, code, stderr)
			}
		}
		t.Setenv("ATREST_CONFIG", e.cfg)
		// No backup yet: the checks ran on this config and found that.
		if _, stderr, code := atrest(t, "backup", "check", "--job", "yb-nightly", "--format", "jsonl"); code != exitFound || !strings.Contains(stderr, "yb-nightly/freshness") {
			t.Errorf("backup check with $ATREST_CONFIG: exit %d, %q", code, stderr)
		}
	})

	// Failed runs are journaled too.
	out, _, _ := atrest(t, "audit", "log", "--config", e.cfg, "--kind", "backup.run", "--outcome", "fail", "--format", "jsonl")
	if n := len(records(t, out)); n < 5 {
		t.Errorf("%d failed runs journaled, want at least 5", n)
	}
}

// The S3 server is killed while the backup uploads: one line naming the
// job, exit 2, a fail record; afterwards no manifest, and check fails.
func TestBackupRunS3Killed(t *testing.T) {
	srv := testenv.S3Private(t)
	e := newBackupEnv(t, srv)
	e.db.Exec(t, "CREATE TABLE `"+e.database+"`.blobs (id INT PRIMARY KEY, b VARBINARY(1024))",
		"INSERT INTO `"+e.database+"`.blobs SELECT seq, RANDOM_BYTES(1024) FROM `"+e.database+"`.seq_1_to_40000")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, err := s3store.New(ctx, srv.Config(e.vals.Bucket))
	if err != nil {
		t.Fatal(err)
	}
	// Kill the server once the backup's multipart upload has begun.
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for ctx.Err() == nil {
			if ups, _ := store.ListIncompleteUploads(ctx, "yb/"); len(ups) > 0 {
				time.Sleep(300 * time.Millisecond)
				srv.Kill(t)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	out, stderr, code := atrest(t, "backup", "run", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl")
	<-killed
	line := strings.TrimSpace(stderr)
	t.Logf("exit %d: %s", code, line)
	if code != exitCantRun || strings.Contains(line, "\n") || !strings.HasPrefix(line, "atrest: backup run yb-nightly: upload: ") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if recs := records(t, out); len(recs) != 1 || recs[0]["status"] != "fail" || recs[0]["error"] == nil {
		t.Errorf("record: %s", out)
	}

	srv.Restart(t)
	out, _, code = atrest(t, "backup", "check", "--config", e.cfg, "--job", "yb-nightly", "--format", "jsonl")
	st := checkStatuses(records(t, out), "yb-nightly")
	if code != exitFound || st["freshness"] != "fail" {
		t.Errorf("check after the failed run: exit %d, %v", code, st)
	}
	for oi, err := range store.List(ctx, "") {
		if err == nil && strings.HasSuffix(oi.Key, backup.ManifestSuffix) {
			t.Errorf("manifest left: %s", oi.Key)
		}
	}
}
