package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/daemon"
	"github.com/atrest/atrest/internal/testenv"
)

// serveEnv is an installation whose every job runs each second: a file root
// with two resident ID numbers, a MariaDB source with a plaintext ID column,
// and a backup of it (run and check) to a versitygw bucket with object lock.
type serveEnv struct {
	dir, cfg string
	yaml     string // the config with its schedules
}

const serveCfg = `state_dir: state
journal:
  signing_key_file: keys/journal.key
fingerprint_key_file: keys/fingerprint.key
file_roots:
  - name: exports
    paths: [exports]
    scan_schedule: "*/1 * * * * *"
sources:
  - name: yb-prod
    dsn_env: ATREST_SERVE_DSN
    databases: [%[1]s]
    sample: 100
    scan_schedule: "*/1 * * * * *"
storage:
  - name: s3
    endpoint: %[2]s
    access_key_env: ATREST_SERVE_S3_ACCESS
    secret_key_env: ATREST_SERVE_S3_SECRET
backups:
  - name: yb-nightly
    source: yb-prod
    storage: s3
    bucket: %[3]s
    prefix: yb/
    recipients: [%[4]s]
    schedule: "*/1 * * * * *"
    check_schedule: "*/1 * * * * *"
    rpo: 26h
    retention: 30d
drills:
  - name: yb-drill
    backup: yb-nightly
    identity_file: keys/backup.agekey
    target_dsn_env: ATREST_SERVE_DRILL_DSN
    schedule: "*/1 * * * * *"
    probes:
      - {name: people, sql: "SELECT COUNT(*) = 300 FROM cb_ryxx"}
http:
  listen: 127.0.0.1:0
`

// residentID returns a valid 18-digit resident ID number (ISO 7064 MOD 11-2).
func residentID(seq int) string {
	body := fmt.Sprintf("11010519491231%03d", seq%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(body[i]-'0') * w
	}
	return body + string("10X98765432"[sum%11])
}

func newServeEnv(t *testing.T) *serveEnv {
	t.Helper()
	db := testenv.MariaDB(t)
	srv := testenv.S3(t)
	database := db.CreateDatabase(t, "serve")
	var rows []string
	for i := 1; i <= 300; i++ {
		rows = append(rows, fmt.Sprintf("(%d, '%s', '张三%d')", i, residentID(i), i))
	}
	db.Exec(t, "CREATE TABLE `"+database+"`.cb_ryxx (id INT PRIMARY KEY, zjhm CHAR(18), xm VARCHAR(40))",
		"INSERT INTO `"+database+"`.cb_ryxx VALUES "+strings.Join(rows, ","))
	bucket := srv.Bucket(t, "serve", true)
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
	os.MkdirAll(filepath.Join(dir, "exports"), 0o755)
	os.WriteFile(filepath.Join(dir, "exports", "名单.csv"),
		[]byte("姓名,身份证号\n张三,"+residentID(1)+"\n李四,"+residentID(2)+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "exports", "orders.csv"), []byte("order,1706800914516\n"), 0o644)
	t.Setenv("ATREST_SERVE_DSN", db.DSN)
	// Drills restore onto another server: the drill refuses its source.
	t.Setenv("ATREST_SERVE_DRILL_DSN", testenv.EncryptedMariaDB(t).DSN)
	os.MkdirAll(filepath.Join(dir, "keys"), 0o700)
	os.WriteFile(filepath.Join(dir, "keys", "backup.agekey"), []byte(id.String()+"\n"), 0o600)
	t.Setenv("ATREST_SERVE_S3_ACCESS", srv.AccessKey)
	t.Setenv("ATREST_SERVE_S3_SECRET", srv.SecretKey)
	e := &serveEnv{dir: dir, cfg: filepath.Join(dir, "atrest.yaml"),
		yaml: fmt.Sprintf(serveCfg, database, srv.Endpoint, bucket, id.Recipient())}
	e.write(t, e.yaml)
	if _, stderr, code := atrest(t, "init", "--config", e.cfg); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	return e
}

func (e *serveEnv) write(t *testing.T, yaml string) {
	t.Helper()
	if err := os.WriteFile(e.cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a log that tests read while the daemon writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a serve started in-process on the env's config.
type running struct {
	d      *daemon.Daemon
	addr   string
	cancel context.CancelFunc
	done   chan error
	close  func() error
}

func startServe(t *testing.T, cfgPath string, log io.Writer) *running {
	t.Helper()
	cmd := newServeCmd()
	cmd.SetErr(log)
	d, ln, closeJournal, err := newServeDaemon(cmd, serveOptions{configPath: cfgPath, grace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{d: d, addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1), close: closeJournal}
	go func() { r.done <- d.Run(ctx, ln) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("serve did not stop")
	}
	if err := r.close(); err != nil {
		t.Errorf("close journal: %v", err)
	}
}

// metricsOf parses Prometheus text into "name{labels}" → value (atrest_ only).
func metricsOf(t *testing.T, body io.Reader) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "atrest_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *running) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	code, body := r.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	return metricsOf(t, strings.NewReader(body))
}

// TestServeRunsSchedulesAndRestartKeepsMetrics is issue 6's daemon check:
// real per-second schedules run a file scan, a database scan, a backup and
// a backup check against real MariaDB and S3; a broken config on reload
// keeps the jobs; a stop journals serve.stop; a new serve on the same state
// dir shows the same metrics, rebuilt from the journal.
func TestServeRunsSchedulesAndRestartKeepsMetrics(t *testing.T) {
	env := newServeEnv(t)
	log := &syncBuffer{}
	r := startServe(t, env.cfg, log)
	if got := r.d.Jobs(); strings.Join(got, ",") != "backup.check yb-nightly,backup.run yb-nightly,drill.run yb-drill,scan.db yb-prod,scan.files exports" {
		t.Fatalf("jobs: %v", got)
	}

	// Wait for every kind to have run twice: the second scan replaces the
	// first's figures, and the check sees a backup.
	want := []string{
		`atrest_runs_total{kind="scan.files",outcome="findings"}`,
		`atrest_runs_total{kind="scan.db",outcome="findings"}`,
		`atrest_runs_total{kind="backup.run",outcome="ok"}`,
		`atrest_runs_total{kind="backup.check",outcome="ok"}`,
		`atrest_runs_total{kind="drill.run",outcome="ok"}`,
	}
	deadline := time.Now().Add(3 * time.Minute)
	var m map[string]float64
	for {
		m = r.metrics(t)
		ready := true
		for _, k := range want {
			ready = ready && m[k] >= 2
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every job ran twice with success; metrics %v\nlog:\n%s", m, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for k, v := range map[string]float64{
		`atrest_plaintext_findings{root="exports"}`:               2,
		`atrest_plaintext_columns{source="yb-prod"}`:              1,
		`atrest_check_status{check="freshness",job="yb-nightly"}`: 1,
	} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if m[`atrest_drill_rto_seconds{job="yb-drill"}`] <= 0 || m[`atrest_drill_last_success_timestamp_seconds{job="yb-drill"}`] < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("no passing drill in the metrics: %v", m)
	}
	if m[`atrest_backup_last_success_timestamp_seconds{job="yb-nightly"}`] < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("no recent backup in the metrics: %v", m)
	}
	if code, body := r.get(t, "/healthz"); code != 200 || !strings.HasPrefix(body, "ok\nlast tick: ") {
		t.Errorf("/healthz: %d %q", code, body)
	}

	// SIGHUP with a broken config: the jobs stay, the journal says why.
	env.write(t, env.yaml+"bogus_key: 1\n")
	if err := r.d.Reload(); err == nil || !strings.Contains(err.Error(), env.cfg+":") {
		t.Fatalf("reload of a broken config: %v", err)
	}
	if got := r.d.Jobs(); len(got) != 5 {
		t.Fatalf("jobs after a failed reload: %v", got)
	}
	env.write(t, strings.Replace(env.yaml, "127.0.0.1:0", "127.0.0.1:1", 1))
	if err := r.d.Reload(); err == nil || !strings.Contains(err.Error(), "http.listen changed") {
		t.Fatalf("reload moving http.listen: %v", err)
	}
	env.write(t, env.yaml)

	r.stop(t)
	// The stopped daemon's final view, read in-process.
	rec := httptest.NewRecorder()
	r.d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	before := metricsOf(t, rec.Body)

	es := serveJournal(t, env)
	last := es[len(es)-1]
	if last.Kind != "serve.stop" || last.Outcome != "ok" {
		t.Errorf("last entry %+v, want serve.stop ok", last)
	}
	var reloads []journal.Entry
	for _, e := range es {
		if e.Kind == "config.reload" {
			reloads = append(reloads, e)
		}
		if strings.HasPrefix(e.Kind, "scan.") && e.Actor.Process != "atrest serve" {
			t.Errorf("scheduled run's actor %+v", e.Actor)
		}
	}
	if len(reloads) != 2 || reloads[0].Outcome != "error" || !strings.Contains(reloads[0].Detail, env.cfg+":") ||
		!strings.Contains(reloads[0].Detail, "bogus_key") || reloads[1].Outcome != "error" {
		t.Errorf("config.reload entries: %+v", reloads)
	}

	// A new serve on the same state dir, with no schedules so nothing new
	// runs: the metrics come back from the journal alone.
	quiet := strings.NewReplacer(`    scan_schedule: "*/1 * * * * *"`+"\n", "",
		`    schedule: "*/1 * * * * *"`+"\n", "", `    check_schedule: "*/1 * * * * *"`+"\n", "").Replace(env.yaml)
	quietCfg := filepath.Join(env.dir, "quiet.yaml")
	os.WriteFile(quietCfg, []byte(quiet), 0o644)
	r2 := startServe(t, quietCfg, log)
	if got := r2.d.Jobs(); len(got) != 0 {
		t.Fatalf("quiet config has jobs: %v", got)
	}
	after := r2.metrics(t)
	if len(before) < 10 {
		t.Fatalf("too few series to compare: %v", before)
	}
	for k, v := range before {
		w := v
		switch k {
		case "atrest_journal_entries_total":
			w = v + 1 // the new serve.start
		case "atrest_config_last_reload_successful", "atrest_config_last_reload_timestamp_seconds":
			continue // the new serve.start is a new (good) load of the config
		}
		if after[k] != w {
			t.Errorf("after restart %s = %v, want %v", k, after[k], w)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("after restart, new series %s", k)
		}
	}
	r2.stop(t)

	if out, stderr, code := atrest(t, "audit", "verify", "--config", env.cfg); code != 0 {
		t.Errorf("audit verify after two serves: exit %d\n%s%s", code, out, stderr)
	}
	logs := log.String()
	// Kinds, job names, outcomes; config errors may name the config file,
	// but nothing from the scanned data, not even a file name.
	for _, bad := range []string{residentID(1), residentID(2), "名单", "exports/", "cb_ryxx", "zjhm"} {
		if strings.Contains(logs, bad) {
			t.Errorf("serve's log carries %q:\n%s", bad, logs)
		}
	}
	if !strings.Contains(logs, "scan.files exports: findings in ") {
		t.Errorf("no run line in the log:\n%s", logs)
	}
}

func serveJournal(t *testing.T, env *serveEnv) []journal.Entry {
	t.Helper()
	cfg, err := config.Load(env.cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []journal.Entry
	for e, err := range journal.Query(cfg.JournalDir(), journal.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestServeRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte("state_dir: state\nfile_roots:\n  - name: x\n    paths: [x]\n    scan_schedule: \"61 * * * *\"\n"), 0o644)
	_, stderr, code := atrest(t, "serve", "--config", cfg)
	if code != exitCantRun || !strings.Contains(stderr, cfg+":5:") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("bad schedule: exit %d, stderr %q", code, stderr)
	}
	// A step wider than its field (robfig/cron would fire at :00 alone).
	os.WriteFile(cfg, []byte("state_dir: state\nfile_roots:\n  - name: x\n    paths: [x]\n    scan_schedule: \"*/61 * * * *\"\n"), 0o644)
	_, stderr, code = atrest(t, "serve", "--config", cfg)
	if code != exitCantRun || !strings.Contains(stderr, cfg+":5:") || !strings.Contains(stderr, "step /61") {
		t.Errorf("*/61: exit %d, stderr %q", code, stderr)
	}
	// Valid, but never initialised: no keys.
	os.WriteFile(cfg, []byte("state_dir: state\nfile_roots:\n  - name: x\n    paths: [x]\n    scan_schedule: \"@daily\"\n"), 0o644)
	_, stderr, code = atrest(t, "serve", "--config", cfg)
	if code != exitCantRun || !strings.Contains(stderr, "atrest init") {
		t.Errorf("no keys: exit %d, stderr %q", code, stderr)
	}
}

func TestServeHelpSaysWhatRunsWhen(t *testing.T) {
	out, _, code := atrest(t, "serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, s := range []string{"scan_schedule", "check_schedule", "SIGTERM", "SIGHUP", "/healthz", "/metrics",
		"skipped", "--jitter", "--grace", "atrest_plaintext_findings{root}"} {
		if !strings.Contains(out, s) {
			t.Errorf("serve --help lacks %q", s)
		}
	}
}
