package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest/atrest/internal/eval"
	"github.com/atrest/atrest/internal/testenv"
)

// corpusDir is the labeled development corpus in testdata/corpus.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := eval.CorpusDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// atrest runs one command line in-process and returns stdout, stderr and the
// exit status. The user's fingerprint key goes to a temp config dir.
func atrest(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	if os.Getenv("XDG_CONFIG_HOME") == "" || !strings.HasPrefix(os.Getenv("XDG_CONFIG_HOME"), os.TempDir()) {
		t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// TestEvalFilesCorpus is issue 2's acceptance check, run on every make test:
// the scorer's thresholds on the dev corpus (precision >= 0.99, recall >= 0.98
// per type, file states right, no raw identifier in the output).
func TestEvalFilesCorpus(t *testing.T) {
	c := corpusDir(t)
	out, stderr, code := atrest(t, "scan", "files", "--format", "jsonl", filepath.Join(c, "files"))
	if code != exitFound {
		t.Fatalf("exit %d, want %d (findings); stderr: %s", code, exitFound, stderr)
	}
	labels, err := eval.ReadFileLabels(filepath.Join(c, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := eval.ScoreFiles(labels, filepath.Join(c, "files"), out)
	t.Logf("file scorer:\n%s", res)
	if !res.OK() {
		t.Fatal("file scorer failed (table above)")
	}
}

func TestExitStatusAndErrors(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.txt")
	os.WriteFile(clean, []byte("订单 1706800914516 已完成\n"), 0o644)
	dirty := filepath.Join(dir, "dirty.txt")
	os.WriteFile(dirty, []byte("身份证号:11010519491231002X\n"), 0o644)

	if _, stderr, code := atrest(t, "scan", "files", "--format", "jsonl", clean); code != exitOK {
		t.Errorf("clean file: exit %d (%s)", code, stderr)
	}
	out, _, code := atrest(t, "scan", "files", "--format", "jsonl", dirty)
	if code != exitFound {
		t.Errorf("dirty file: exit %d", code)
	}
	if strings.Contains(out, "11010519491231002X") || !strings.Contains(out, `"masked":"110***********002X"`) {
		t.Errorf("output leaks or lacks the mask: %s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "files", "--format", "xml", clean}, "--format"},
		{[]string{"scan", "files", "--nope", clean}, "unknown flag"},
		{[]string{"scan", "files", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"scan", "files"}, "PATH"},
		{[]string{"init"}, "config"},
	} {
		_, stderr, code := atrest(t, c.args...)
		if code != exitCantRun || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", c.args, code, stderr, c.want)
		}
	}
}

func TestConfigErrorNamesFileAndLine(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "atrest.yaml")
	os.WriteFile(cfg, []byte("state_dir: /tmp/x\nfile_rots: []\n"), 0o644)
	_, stderr, code := atrest(t, "init", "--config", cfg)
	if code != exitCantRun || !strings.Contains(stderr, cfg+":2: unknown key file_rots") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestInitCreatesKeysAndNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte("state_dir: state\nfingerprint_key_file: keys/fp.key\njournal:\n  signing_key_file: keys/j.key\n"), 0o644)
	if out, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: exit %d: %s %s", code, out, stderr)
	}
	keys := []string{filepath.Join(dir, "keys/fp.key"), filepath.Join(dir, "keys/j.key")}
	before := map[string][]byte{}
	for _, k := range keys {
		st, err := os.Stat(k)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", k, st.Mode().Perm())
		}
		before[k], _ = os.ReadFile(k)
	}
	out, _, code := atrest(t, "init", "--config", cfg)
	if code != 0 || !strings.Contains(out, "kept (exists)") {
		t.Fatalf("second init: exit %d: %s", code, out)
	}
	for _, k := range keys {
		if after, _ := os.ReadFile(k); !bytes.Equal(after, before[k]) {
			t.Errorf("%s was overwritten", k)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "state")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("state dir: %v %v", st, err)
	}
}

// TestMain doubles as the atrest binary when ATREST_TEST_AS_MAIN is set, so
// tests can run real processes (signals, exit codes) without a go build.
func TestMain(m *testing.M) {
	if os.Getenv("ATREST_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	testenv.Main(m)
}

// TestEvalDBCorpus is issue 3's acceptance check: atrest_dev loaded into a
// throwaway MariaDB, scanned through the CLI, scored by internal/eval.
func TestEvalDBCorpus(t *testing.T) {
	c := corpusDir(t)
	db := testenv.MariaDB(t)
	db.Load(t, filepath.Join(c, "db.sql"))
	out, stderr, code := atrest(t, "scan", "db", "--dsn", db.DSN, "--database", "atrest_dev", "--format", "jsonl")
	if code != exitFound {
		t.Fatalf("exit %d, want %d (plaintext columns); stderr: %s", code, exitFound, stderr)
	}
	labels, err := eval.ReadColumnLabels(filepath.Join(c, "db-labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := eval.ScoreDB(labels, out)
	t.Logf("database scorer:\n%s", res)
	if !res.OK() {
		t.Fatal("database scorer failed (above)")
	}
}

// A file named after a person's ID number must not print the number: paths
// and member names are masked like contents.
func TestPathsAreMasked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "张三_11010519491231002X.csv"), []byte("手机 13812345678\n"), 0o644)
	out, _, code := atrest(t, "scan", "files", "--format", "jsonl", dir)
	if code != exitFound {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(out, "11010519491231002X") || !strings.Contains(out, "张三_110***********002X.csv") {
		t.Fatalf("path not masked: %s", out)
	}
}

// A typo in a cron line must not exit 0 (cobra prints a group's help and
// succeeds): unknown commands exit 2 with a suggestion, even with flags.
func TestUnknownCommandsExit2(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "verfy"}, `unknown command "verfy"; did you mean "atrest audit verify"?`},
		{[]string{"backup", "chek", "--config", "x.yaml"}, `unknown command "chek"; did you mean "atrest backup check"?`},
		{[]string{"scan", "file", "/tmp"}, `did you mean "atrest scan files"?`},
		{[]string{"drill", "rn"}, `did you mean "atrest drill run"?`},
		{[]string{"bakup"}, `unknown command "bakup"`},
	} {
		out, stderr, code := atrest(t, c.args...)
		if code != exitCantRun || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %.60q; want exit 2 and %q", c.args, code, stderr, out, c.want)
		}
	}
	if out, _, code := atrest(t, "audit"); code != exitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("a group alone prints its help: exit %d", code)
	}
}

// init without a config writes a starter one; init needs no network (an
// anchor on an unreachable endpoint, its keys unset, does not stop it).
func TestInitStarterConfigAndNoNetwork(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "etc", "atrest.yaml")
	out, stderr, code := atrest(t, "init", "--config", cfg)
	if code != 0 || !strings.Contains(out, "written (a starter") {
		t.Fatalf("init without a config: exit %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "etc", "atrest-state", "fingerprint.key")); err != nil {
		t.Fatalf("keys beside the starter config: %v", err)
	}
	if _, _, code := atrest(t, "scan", "files", "--config", cfg, "--format", "jsonl", dir); code == exitCantRun {
		t.Fatal("the starter config does not run a scan")
	}

	unreachable := filepath.Join(t.TempDir(), "atrest.yaml")
	os.WriteFile(unreachable, []byte(`state_dir: state
journal:
  anchor: {storage: s3, bucket: journal}
storage:
  - {name: s3, endpoint: "127.0.0.1:1", access_key_env: ATREST_T_NOPE_AK, secret_key_env: ATREST_T_NOPE_SK}
`), 0o644)
	out, stderr, code = atrest(t, "init", "--config", unreachable)
	if code != 0 || !strings.Contains(out, "not contacted by init") {
		t.Fatalf("init with an unreachable anchor: exit %d\n%s%s", code, out, stderr)
	}
}
