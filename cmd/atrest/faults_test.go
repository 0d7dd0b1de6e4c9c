package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/internal/jobs"
	"github.com/atrest/atrest/internal/testenv"
)

// faultEnv is an installation whose storage is reached through a fault
// proxy in front of versitygw, with a drill target, for the fault table.
type faultEnv struct {
	*backupEnv
	proxy *storetest.Proxy
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	e := newBackupEnv(t, testenv.S3(t))
	p := storetest.NewProxy(t, e.srv.Endpoint)
	e.vals.Endpoint, e.vals.Listen = p.Endpoint, "127.0.0.1:0"
	e.write(t, e.vals)
	return &faultEnv{backupEnv: e, proxy: p}
}

func isDataPart(r *http.Request) bool {
	return storetest.IsPutPart(r) && strings.HasSuffix(r.URL.Path, ".sql.zst.age")
}

func isDataGet(r *http.Request) bool {
	return storetest.IsGetObject(r) && strings.HasSuffix(r.URL.Path, ".sql.zst.age")
}

// killAt runs a command line in a process of its own, holds the first
// request that match selects (before the server sees it, or with answered
// after the server did the work but before the process hears of it), kills
// the process with SIGKILL there, and lets the request go (nowhere, when
// it was held before the server).
func (f *faultEnv) killAt(t *testing.T, match func(*http.Request) bool, answered bool, args ...string) {
	t.Helper()
	rule := &storetest.Rule{Match: match, Times: 1}
	held, hold, release := holder()
	if answered {
		rule.OnAnswer = func(*http.Request) { hold() }
	} else {
		rule.OnRequest = func(*http.Request) bool { hold(); return false }
	}
	f.proxy.Add(rule)
	defer release()
	f.killWhen(t, held, args...)
}

// killMidBody is killAt with the response under way: after bytes of the
// body have reached the process.
func (f *faultEnv) killMidBody(t *testing.T, match func(*http.Request) bool, bytes int64, args ...string) {
	t.Helper()
	held, hold, release := holder()
	f.proxy.Add(&storetest.Rule{Match: match, Times: 1, Fault: storetest.Stall, After: bytes,
		OnAnswer: func(*http.Request) { hold() }})
	defer release()
	f.killWhen(t, held, args...)
}

// holder is a hook that blocks until released and says when it first did.
func holder() (held <-chan struct{}, hold func(), release func()) {
	h, r := make(chan struct{}), make(chan struct{})
	var once sync.Once
	return h, func() { once.Do(func() { close(h) }); <-r }, func() { close(r) }
}

// killWhen starts a command line in a process of its own and kills it with
// SIGKILL once ready is closed.
func (f *faultEnv) killWhen(t *testing.T, ready <-chan struct{}, args ...string) {
	t.Helper()
	cmd := atrestProc(t, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-ready:
	case err := <-exited:
		t.Fatalf("%v ended before the fault point (%v): %s", args, err, out.String())
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("%v never reached the fault point", args)
	}
	cmd.Process.Kill()
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("%v: %v, want killed: %s", args, err, out.String())
	}
}

func (f *faultEnv) backupRun(t *testing.T) (rec map[string]any, stderr string, code int) {
	t.Helper()
	out, stderr, code := atrestRun(t, "backup", "run", "--config", f.cfg, "--job", "yb-nightly", "--format", "jsonl")
	recs := records(t, out)
	if len(recs) != 1 {
		t.Fatalf("backup run printed %d records (exit %d): %s %s", len(recs), code, out, stderr)
	}
	return recs[0], stderr, code
}

// okRun is a backup run that must succeed; it returns the key.
func (f *faultEnv) okRun(t *testing.T) string {
	t.Helper()
	rec, stderr, code := f.backupRun(t)
	if code != exitOK || rec["status"] != "ok" {
		t.Fatalf("backup run: exit %d %v: %s", code, rec, stderr)
	}
	return rec["key"].(string)
}

// invariant is what every row must leave true, judged with the faults gone:
// the journal verifies; every backup the journal records as made (an ok
// run or a found backup) is whole in the bucket and reads whole to the end
// (nothing acknowledged is lost); every backup that check --read-all counts
// as read whole is one the journal records (nothing is counted good behind
// the record's back); and every complete backup in the bucket reads whole
// (no half-written object passes for a backup).
func (f *faultEnv) invariant(t *testing.T) {
	t.Helper()
	f.proxy.Clear()
	f.verifyJournal(t)
	out, stderr, code := atrestRun(t, "backup", "check", "--config", f.cfg, "--job", "yb-nightly", "--read-all", "--format", "jsonl")
	if code == exitCantRun {
		t.Fatalf("check after the fault: exit 2: %s", stderr)
	}
	read := map[string]string{}
	for _, r := range records(t, out) {
		if k, _ := r["key"].(string); r["check"] == "integrity" && k != "" {
			read[k] = r["status"].(string)
		}
	}
	journaled := f.journaledOK(t)
	complete := f.complete(t)
	for k := range journaled {
		if !strings.Contains(strings.Join(complete, " "), k) || read[k] != "pass" {
			t.Errorf("acknowledged and lost: the journal records %s, the bucket has it complete: %v, it reads: %q", k, strings.Contains(strings.Join(complete, " "), k), read[k])
		}
	}
	for k, st := range read {
		if st == "pass" && !journaled[k] {
			t.Errorf("counted good behind the record's back: %s reads whole and the journal does not record it", k)
		}
	}
	for _, k := range complete {
		if read[k] != "pass" {
			t.Errorf("complete in the bucket and not whole: %s reads %q", k, read[k])
		}
	}
	t.Logf("invariant: %d backup(s) recorded, %d complete, %d read whole", len(journaled), len(complete), len(read))
}

// TestFaultTable: one row per fault, each followed by the invariant
// "nothing counted good that is not, nothing lost that was acknowledged".
// Commands run as processes of their own (the test binary as atrest), so a
// kill is a real SIGKILL; the store's faults come from a proxy in front of
// versitygw. The full state disk has its own test (TestFullStateDisk, on a
// tmpfs; TestJournalCheckpointOnFullDevice, /dev/full); the row here is the
// one that needs no root.
func TestFaultTable(t *testing.T) {
	t.Setenv("ATREST_T_DRILL_DSN", testenv.EncryptedMariaDB(t).DSN)
	rows := []struct {
		name string
		run  func(t *testing.T, f *faultEnv)
	}{
		{"backup killed while a part uploads", func(t *testing.T, f *faultEnv) {
			f.killAt(t, isDataPart, false, "backup", "run", "--config", f.cfg, "--job", "yb-nightly")
			if n, m := len(f.entries(t, "backup.start")), len(f.entries(t, "backup.run")); n != 1 || m != 0 {
				t.Errorf("journal: %d starts, %d ends; want the start and no end", n, m)
			}
		}},
		{"backup killed before the manifest reaches the server", func(t *testing.T, f *faultEnv) {
			f.killAt(t, isManifestPut, false, "backup", "run", "--config", f.cfg, "--job", "yb-nightly")
			if c := f.complete(t); len(c) != 0 {
				t.Errorf("complete backups: %v", c)
			}
		}},
		{"backup killed after the server stored the manifest", func(t *testing.T, f *faultEnv) {
			f.killAt(t, isManifestPut, true, "backup", "run", "--config", f.cfg, "--job", "yb-nightly")
			// The invariant's check finds it and journals it as found.
		}},
		{"backup check killed mid read", func(t *testing.T, f *faultEnv) {
			f.okRun(t)
			f.killAt(t, isDataGet, false, "backup", "check", "--config", f.cfg, "--job", "yb-nightly", "--read")
			if n := len(f.entries(t, "backup.check")); n != 0 {
				t.Errorf("a killed check was journaled: %d entries", n)
			}
		}},
		{"drill killed before the first byte arrives", func(t *testing.T, f *faultEnv) {
			f.okRun(t)
			f.killAt(t, isDataGet, true, "drill", "run", "--config", f.cfg, "--job", "yb-drill")
			if n := len(f.entries(t, "drill.run")); n != 0 {
				t.Errorf("a killed drill was journaled: %d entries", n)
			}
		}},
		{"drill killed mid restore", func(t *testing.T, f *faultEnv) {
			// Incompressible rows, so that the object spans many age
			// chunks and the load is under way when the body stops.
			f.db.Exec(t, "CREATE TABLE `"+f.database+"`.blobs (id INT PRIMARY KEY, b VARBINARY(1024))",
				"INSERT INTO `"+f.database+"`.blobs SELECT seq, RANDOM_BYTES(1024) FROM `"+f.database+"`.seq_1_to_4000")
			f.okRun(t)
			f.killMidBody(t, isDataGet, 2<<20, "drill", "run", "--config", f.cfg, "--job", "yb-drill")
			if n := len(f.entries(t, "drill.run")); n != 0 {
				t.Errorf("a killed drill was journaled: %d entries", n)
			}
			// A drill after it still restores and passes.
			if out, stderr, code := atrestRun(t, "drill", "run", "--config", f.cfg, "--job", "yb-drill", "--format", "jsonl"); code != exitOK {
				t.Errorf("drill after the killed one: exit %d %s %s", code, out, stderr)
			}
		}},
		{"serve killed during a scheduled backup, then restarted", func(t *testing.T, f *faultEnv) {
			v := f.vals
			v.Schedule = "*/1 * * * * *"
			f.write(t, v)
			f.killAt(t, isManifestPut, true, "serve", "--config", f.cfg, "--jitter", "0")
			f.write(t, f.vals) // no schedule: the restart only reconciles
			cmd := atrestProc(t, "serve", "--config", f.cfg)
			var log strings.Builder
			cmd.Stdout, cmd.Stderr = &log, &log
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(time.Minute)
			for len(f.entries(t, jobs.KindBackupFound)) == 0 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Errorf("serve after the kill: %v: %s", err, log.String())
			}
			if found := f.entries(t, jobs.KindBackupFound); len(found) != 1 || !strings.Contains(found[0].Detail, "never journaled its end") {
				t.Errorf("serve's start did not journal the unrecorded backup: %+v\n%s", found, log.String())
			}
		}},
		{"store answers 503 SlowDown to a part, once", func(t *testing.T, f *faultEnv) {
			f.proxy.Add(&storetest.Rule{Match: isDataPart, Fault: storetest.Status, StatusCode: 503, Code: "SlowDown", Times: 1})
			f.okRun(t) // minio-go retries it
		}},
		{"store answers 500 to the manifest, always", func(t *testing.T, f *faultEnv) {
			f.proxy.Add(&storetest.Rule{Match: isManifestPut, Fault: storetest.Status, StatusCode: 500, Code: "InternalError"})
			rec, stderr, code := f.backupRun(t)
			if code != exitCantRun || rec["status"] != "fail" || !strings.Contains(stderr, "store manifest") {
				t.Errorf("exit %d %v: %s", code, rec, stderr)
			}
		}},
		{"store resets the connection mid-body on a read, once", func(t *testing.T, f *faultEnv) {
			f.okRun(t)
			f.proxy.Add(&storetest.Rule{Match: isDataGet, Fault: storetest.Drop, After: 100, Times: 1})
			out, stderr, code := atrestRun(t, "backup", "check", "--config", f.cfg, "--job", "yb-nightly", "--read", "--format", "jsonl")
			if code != exitOK || !strings.Contains(out, "passed when retried") {
				t.Errorf("check: exit %d: %s %s", code, out, stderr)
			}
		}},
		{"store resets the connection mid-body on every read", func(t *testing.T, f *faultEnv) {
			f.okRun(t)
			f.proxy.Add(&storetest.Rule{Match: isDataGet, Fault: storetest.Drop, After: 100})
			out, _, code := atrestRun(t, "backup", "check", "--config", f.cfg, "--job", "yb-nightly", "--read", "--format", "jsonl")
			var integrity map[string]any
			for _, r := range records(t, out) {
				if r["check"] == "integrity" {
					integrity = r
				}
			}
			if code != exitFound || integrity == nil || integrity["status"] != "fail" || integrity["failure"] != "transport" {
				t.Errorf("check: exit %d, integrity %v: a transport failure, never corruption and never a pass", code, integrity)
			}
		}},
		{"store lies about an object's size", func(t *testing.T, f *faultEnv) {
			f.okRun(t)
			f.proxy.Add(&storetest.Rule{Match: func(r *http.Request) bool {
				return r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, ".sql.zst.age")
			},
				Fault: storetest.LieSize, After: 1 << 20})
			out, _, code := atrestRun(t, "backup", "check", "--config", f.cfg, "--job", "yb-nightly", "--format", "jsonl")
			st := checkStatuses(records(t, out), "yb-nightly")
			if code != exitFound || st["object"] != "fail" || st["freshness"] == "pass" {
				t.Errorf("check: exit %d %v: a size that does not match is no backup", code, st)
			}
		}},
		{"full state disk (the checkpoint file is /dev/full)", func(t *testing.T, f *faultEnv) {
			jdir := filepath.Join(f.dir, "state", "journal")
			os.MkdirAll(jdir, 0o750)
			ckpts := filepath.Join(jdir, "checkpoints.jsonl")
			saved, _ := os.ReadFile(ckpts)
			os.Remove(ckpts)
			os.Symlink("/dev/full", ckpts)
			rec, stderr, code := f.backupRun(t)
			if code != exitCantRun || rec["status"] != "fail" || !strings.Contains(stderr, "nothing was backed up") || len(f.objects(t)) != 0 {
				t.Errorf("exit %d %v %s; objects %v", code, rec, stderr, f.objects(t))
			}
			os.Remove(ckpts)
			if len(saved) > 0 {
				os.WriteFile(ckpts, saved, 0o640)
			}
		}},
		{"clock jumps back an hour", func(t *testing.T, f *faultEnv) {
			first := f.okRun(t)
			// The last run took a time an hour ahead of this clock: as if
			// the clock had been stepped back since.
			lock := filepath.Join(f.dir, "state", "backup", "backup-yb-nightly.lock")
			ahead := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
			if err := os.WriteFile(lock, []byte(ahead+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			second := f.okRun(t)
			if second <= first {
				t.Errorf("after the clock stepped back the new key %s sorts before %s", second, first)
			}
		}},
		{"two backup runs at once", func(t *testing.T, f *faultEnv) {
			var wg sync.WaitGroup
			keys := make([]string, 2)
			for i := range keys {
				wg.Go(func() { keys[i] = f.okRun(t) })
			}
			wg.Wait()
			if keys[0] == keys[1] {
				t.Errorf("both runs report %s", keys[0])
			}
			if c := f.complete(t); len(c) != 2 {
				t.Errorf("bucket holds %v, want two backups", c)
			}
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			f := newFaultEnv(t)
			row.run(t, f)
			f.invariant(t)
		})
	}
}
