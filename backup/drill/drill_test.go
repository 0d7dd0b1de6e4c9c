package drill_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fixture is a source database, a bucket on versitygw with one atrest
// backup of it, the keys, and a drill target that is another server.
type fixture struct {
	src      *testenv.DB
	database string
	target   *testenv.DB
	store    backup.ObjectStore
	id       *age.X25519Identity
	sign     ed25519.PrivateKey
	m        *backup.Manifest
	job      string
}

// newFixture backs up a 医保-shaped database (varied types, NULLs,
// secondary keys, a view, a trigger, an empty table) with backup.Run to a
// fresh bucket. The target
// is the shared encrypted-at-rest MariaDB: a server other than the source,
// as a drill server is.
func newFixture(t *testing.T, job string) *fixture {
	t.Helper()
	src := testenv.MariaDB(t)
	name := src.CreateDatabase(t, "drillsrc")
	q := "`" + name + "`."
	src.Exec(t,
		"CREATE TABLE "+q+"cb_ryxx (id INT PRIMARY KEY AUTO_INCREMENT, psn_name VARCHAR(40), certno CHAR(18), born DATE, balance DECIMAL(12,2), note TEXT, photo BLOB, updated DATETIME(6), flag BIT(3), score FLOAT, UNIQUE KEY psn_name (psn_name), KEY born_certno (born, certno(6)))",
		"INSERT INTO "+q+"cb_ryxx SELECT seq, CONCAT('张三', seq), LPAD(seq, 18, '1'), DATE('1980-01-01') + INTERVAL seq DAY, seq * 1.25, IF(seq % 7 = 0, NULL, REPEAT('备注 ', seq % 13)), IF(seq % 5 = 0, NULL, UNHEX(SHA2(seq, 256))), TIMESTAMP('2026-01-01 00:00:00.123456') + INTERVAL seq SECOND, seq % 8, seq / 7 FROM "+q+"seq_1_to_3000",
		"CREATE TABLE "+q+"js_jsmx (setl_id VARCHAR(30) PRIMARY KEY, psn_no INT, amt DOUBLE, meta JSON)",
		"INSERT INTO "+q+"js_jsmx SELECT CONCAT('420100', seq), seq % 3000, seq / 3, JSON_OBJECT('k', seq, 's', 'x\"y') FROM "+q+"seq_1_to_2000",
		"CREATE TABLE "+q+"empty_t (id INT)",
		"CREATE TABLE "+q+"audit_n (n INT)",
		"CREATE TRIGGER "+q+"js_ai AFTER INSERT ON "+q+"js_jsmx FOR EACH ROW INSERT INTO "+q+"audit_n VALUES (NEW.psn_no)",
		"CREATE VIEW "+q+"v_ryxx AS SELECT id, psn_name FROM "+q+"cb_ryxx",
	)
	f := &fixture{src: src, database: name, target: testenv.EncryptedMariaDB(t), job: job}
	srv := testenv.S3(t)
	f.store = s3Store(t, srv, srv.Bucket(t, "drill", false))
	var err error
	if f.id, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	if _, f.sign, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	f.m = f.backup(t, time.Now())
	return f
}

func s3Store(t testing.TB, srv *testenv.S3Server, bucket string) *s3store.Store {
	t.Helper()
	s, err := s3store.New(ctxT(t), srv.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) backup(t *testing.T, at time.Time) *backup.Manifest {
	t.Helper()
	m, err := backup.Run(ctxT(t), backup.RunOptions{Job: f.job, Engine: mysql.Engine{}, DSN: crypto.NewSecret(f.src.DSN),
		Databases: []string{f.database}, Store: f.store, Prefix: "yb/",
		Recipients: []suite.Recipient{ageRecipient(f.id)}, SigningKey: f.sign, ToolVersion: "test",
		Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) opts() drill.Options {
	return drill.Options{
		Job:       drill.Job{Name: f.job, Prefix: "yb/"},
		Drill:     f.job + "-drill",
		Engine:    mysql.Engine{},
		Store:     f.store,
		Identity:  ageIdentity(f.id),
		TargetDSN: crypto.NewSecret(f.target.DSN),
		SourceDSN: crypto.NewSecret(f.src.DSN),
		Keys:      backup.Keys{f.sign.Public()},
		Probes: []drill.Probe{
			{Name: "settlements present", SQL: "SELECT COUNT(*) > 0 FROM js_jsmx"},
			{Name: "trigger restored", SQL: "-- a comment first\nSELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"},
		},
	}
}

// scratchLeft lists the job's scratch databases on db.
func scratchLeft(t *testing.T, db *testenv.DB, job string) []string {
	t.Helper()
	rows, err := db.Open(t, "").Query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1",
		strings.ReplaceAll(drill.ScratchPrefix+strings.ReplaceAll(job, "-", "_")+"_", "_", `\_`)+"%")
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

// wantFailure asserts that a drill failed with class.
func wantFailure(t *testing.T, rec *drill.Record, err error, class string) *drill.Failure {
	t.Helper()
	var f *drill.Failure
	if !errors.As(err, &f) {
		t.Fatalf("err = %v (%T), want a %s failure; record %+v", err, err, class, rec)
	}
	if f.Class != class || rec.Status != drill.StatusFail || rec.Failure != class {
		t.Fatalf("failure %q (record %s/%s), want %s: %v", f.Class, rec.Status, rec.Failure, class, err)
	}
	t.Logf("%s: %v", class, err)
	return f
}

func TestDrillGood(t *testing.T) {
	f := newFixture(t, "yb-good")
	rec, err := drill.Run(ctxT(t), f.opts())
	if err != nil {
		t.Fatalf("drill: %v; record %+v", err, rec)
	}
	js, _ := json.Marshal(rec)
	t.Logf("record: %s", js)
	if rec.Status != drill.StatusPass || rec.Backup != f.m.Object.Key || rec.Record != "drill" || rec.Job != f.job {
		t.Errorf("record head %s %s %s %s", rec.Record, rec.Job, rec.Backup, rec.Status)
	}
	if len(rec.Tables) != len(f.m.Tables) || rec.TablesMatched != len(f.m.Tables) || len(rec.Tables) != 4 {
		t.Fatalf("tables %d, matched %d, manifest %d", len(rec.Tables), rec.TablesMatched, len(f.m.Tables))
	}
	var rows int64
	for _, tb := range rec.Tables {
		if tb.DigestMatch == nil || !*tb.DigestMatch || tb.DDLMatch == nil || !*tb.DDLMatch || tb.Check != "match" ||
			tb.ExpectedRows == nil || *tb.ExpectedRows != tb.Rows {
			t.Errorf("table %+v", tb)
		}
		rows += tb.Rows
	}
	if rows != 3000+2000 || rec.Rows != rows {
		t.Errorf("rows %d (record %d), want 5000", rows, rec.Rows)
	}
	if rec.Digests != "verified" || len(rec.Probes) != 2 || rec.Probes[0].Status != "pass" || rec.Probes[1].Status != "pass" {
		t.Errorf("digests %s, probes %+v", rec.Digests, rec.Probes)
	}
	if rec.RTOSeconds <= 0 || rec.RPOSeconds <= 0 || rec.Snapshot == nil || !rec.Snapshot.Equal(f.m.Snapshot) {
		t.Errorf("rto %v rpo %v snapshot %v", rec.RTOSeconds, rec.RPOSeconds, rec.Snapshot)
	}
	if rec.Bytes != f.m.Object.CiphertextBytes || rec.SQLBytes != f.m.Object.PlaintextBytes {
		t.Errorf("bytes %d/%d, manifest %d/%d", rec.Bytes, rec.SQLBytes, f.m.Object.CiphertextBytes, f.m.Object.PlaintextBytes)
	}
	p := rec.Phases
	if p.LoadSeconds <= 0 || p.VerifySeconds <= 0 || p.DownloadSeconds <= 0 || p.DecryptSeconds < 0 || p.DecompressSeconds < 0 {
		t.Errorf("phases %+v", p)
	}
	if !rec.Dropped || len(rec.Scratch) != 1 || !strings.HasPrefix(rec.Scratch[0], "atrest_drill_yb_good_") {
		t.Errorf("scratch %v dropped %v", rec.Scratch, rec.Dropped)
	}
	if left := scratchLeft(t, f.target, f.job); len(left) != 0 {
		t.Errorf("scratch databases left: %v", left)
	}
	// The record as SPEC §3 shows it.
	var m map[string]any
	json.Unmarshal(js, &m)
	for _, k := range []string{"record", "job", "backup", "status", "rto_seconds", "rpo_seconds", "tables"} {
		if _, ok := m[k]; !ok {
			t.Errorf("record lacks %q", k)
		}
	}
	if tb := m["tables"].([]any)[0].(map[string]any); tb["name"] == nil || tb["rows"] == nil || tb["digest_match"] != true {
		t.Errorf("table record %v", tb)
	}
	if bytes.Contains(js, []byte("张三")) || bytes.Contains(js, []byte("111111111111111")) {
		t.Error("the record carries row values")
	}
}

// --keep leaves the scratch database; the next drill of the job finds it
// by its marker and drops it; a database of the same shape without the
// marker, and one whose drill still runs (holds its lock), are left alone.
func TestDrillKeepAndLeftovers(t *testing.T) {
	f := newFixture(t, "yb-keep")
	o := f.opts()
	o.Keep = true
	rec, err := drill.Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Dropped || len(rec.Scratch) != 1 {
		t.Fatalf("keep: dropped %v scratch %v", rec.Dropped, rec.Scratch)
	}
	kept := rec.Scratch[0]
	// The kept copy is the backup: its digests are the manifest's.
	got, err := mysql.Digests(ctxT(t), f.target.DSN, kept, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		for _, mt := range f.m.Tables {
			if mt.Name == r.Name && (mt.Digest != r.Digest || mt.Rows != r.Rows) {
				t.Errorf("kept %s differs from the manifest", r.Name)
			}
		}
	}
	unmarked := drill.ScratchPrefix + "yb_keep_20200101000000"
	f.target.Exec(t, "CREATE DATABASE `"+unmarked+"`", "CREATE TABLE `"+unmarked+"`.t (id INT)")
	t.Cleanup(func() { f.target.Exec(t, "DROP DATABASE IF EXISTS `"+unmarked+"`") })
	// A drill "still running": its marker and its lock, held by a session.
	running := drill.ScratchPrefix + "yb_keep_20200101000001"
	f.target.Exec(t, "CREATE DATABASE `"+running+"`",
		"CREATE TABLE `"+running+"`._atrest_drill (id INT) COMMENT='atrest drill scratch; run=00112233aabbccdd; job=yb-keep'")
	t.Cleanup(func() { f.target.Exec(t, "DROP DATABASE IF EXISTS `"+running+"`") })
	holder, err := f.target.Open(t, "").Conn(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctxT(t), "DO GET_LOCK('atrest_drill_00112233aabbccdd', 0)"); err != nil {
		t.Fatal(err)
	}

	time.Sleep(1100 * time.Millisecond) // another scratch name
	rec, err = drill.Run(ctxT(t), f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Cleaned) != 1 || rec.Cleaned[0] != kept {
		t.Errorf("cleaned %v, want [%s]", rec.Cleaned, kept)
	}
	t.Logf("notes: %q", rec.Notes)
	left := scratchLeft(t, f.target, f.job)
	if strings.Join(left, ",") != unmarked+","+running { // sorted
		t.Errorf("left %v, want the unmarked and the running one only", left)
	}
}

func (f *fixture) rewrite(t *testing.T, change func([]byte) []byte) {
	t.Helper()
	rc, _, err := f.store.Get(ctxT(t), f.m.Object.Key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	data = change(data)
	if _, err := f.store.Put(ctxT(t), f.m.Object.Key, bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestDrillIntegrity(t *testing.T) {
	f := newFixture(t, "yb-integrity")
	orig := func() []byte {
		rc, _, err := f.store.Get(ctxT(t), f.m.Object.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return b
	}()
	hdr, err := age.ExtractHeader(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	stanza := bytes.Index(hdr, []byte("\n-> X25519 ")) + 20 // inside the recipient stanza
	for _, tc := range []struct {
		name   string
		change func([]byte) []byte
		detail string
	}{
		{"flipped byte in the payload", func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }, "age"},
		{"flipped byte in the last chunk", func(b []byte) []byte { b[len(b)-3] ^= 0x80; return b }, "age"},
		// Another valid base64 character in the ephemeral share: age
		// sees a stanza no identity opens, as with a wrong key.
		{"changed recipient stanza", func(b []byte) []byte { b[stanza] = map[bool]byte{true: 'B', false: 'A'}[b[stanza] == 'A']; return b }, "SHA-256 differs"},
		{"truncated object", func(b []byte) []byte { return b[:len(b)*2/3] }, "age"},
		{"truncated at a chunk boundary", func(b []byte) []byte { return b[:len(hdr)+16+64*1024+16] }, "age"},
		{"appended bytes", func(b []byte) []byte { return append(b, 0) }, "age"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.rewrite(t, func([]byte) []byte { return tc.change(bytes.Clone(orig)) })
			rec, err := drill.Run(ctxT(t), f.opts())
			fl := wantFailure(t, rec, err, drill.FailIntegrity)
			if !strings.Contains(fl.Detail, tc.detail) {
				t.Errorf("detail %q lacks %q", fl.Detail, tc.detail)
			}
			if rec.Retried {
				t.Error("an integrity failure was retried as if transport")
			}
			if left := scratchLeft(t, f.target, f.job); len(left) != 0 || !rec.Dropped {
				t.Errorf("scratch left after failure: %v (dropped %v)", left, rec.Dropped)
			}
		})
	}
	// Back to the original bytes: green again.
	f.rewrite(t, func([]byte) []byte { return orig })
	if _, err := drill.Run(ctxT(t), f.opts()); err != nil {
		t.Fatalf("restored object: %v", err)
	}
}

// A restored table that differs from the manifest fails as integrity: a
// manifest that claims other rows (signed, as a backup whose dump went
// wrong would have it).
func TestDrillDigestMismatch(t *testing.T) {
	f := newFixture(t, "yb-digest")
	m := *f.m
	m.Tables = append([]backup.Table(nil), m.Tables...)
	for i := range m.Tables {
		if m.Tables[i].Name == "js_jsmx" {
			m.Tables[i].Digest = strings.Repeat("0", 64)
		}
	}
	if err := m.Sign(f.sign); err != nil {
		t.Fatal(err)
	}
	data, _ := m.Marshal()
	if _, err := f.store.Put(ctxT(t), backup.ManifestKey(m.Object.Key), bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, err := drill.Run(ctxT(t), f.opts())
	fl := wantFailure(t, rec, err, drill.FailIntegrity)
	if !strings.Contains(fl.Detail, "js_jsmx: same row count, different content digest") || rec.TablesMatched != 3 {
		t.Errorf("detail %q, matched %d", fl.Detail, rec.TablesMatched)
	}
	for _, tb := range rec.Tables {
		if (tb.Name == "js_jsmx") == (*tb.DigestMatch) {
			t.Errorf("table %s digest_match %v", tb.Name, *tb.DigestMatch)
		}
	}
}

// onlyKey applies a fault to one key's Gets: the data object, not the
// manifest beside it (whose key it prefixes).
type onlyKey struct {
	backup.ObjectStore
	key string
	f   *storetest.Faulty
}

func (o onlyKey) Get(ctx context.Context, key string) (io.ReadCloser, backup.ObjectInfo, error) {
	if key == o.key {
		return o.f.Get(ctx, key)
	}
	return o.ObjectStore.Get(ctx, key)
}

func TestDrillTransport(t *testing.T) {
	f := newFixture(t, "yb-transport")
	size := f.m.Object.CiphertextBytes
	for _, tc := range []struct {
		name  string
		fault *storetest.Faulty
		pass  bool
	}{
		// The body stops early but the server announced the whole size:
		// the connection lost it, the bytes may be fine.
		{"short body every time", storetest.Truncating(f.store, size/2), false},
		{"dropped connection every time", storetest.Dropping(f.store, size/3), false},
		{"dropped connection once", &storetest.Faulty{ObjectStore: f.store, Fault: storetest.Drop, After: size / 3, Times: 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := f.opts()
			o.Store = onlyKey{ObjectStore: f.store, key: f.m.Object.Key, f: tc.fault}
			rec, err := drill.Run(ctxT(t), o)
			if tc.pass {
				if err != nil || !rec.Retried || tc.fault.Hits() != 1 || rec.TablesMatched != 4 {
					t.Fatalf("err %v, retried %v, hits %d, matched %d", err, rec.Retried, tc.fault.Hits(), rec.TablesMatched)
				}
				t.Logf("notes: %q", rec.Notes)
			} else {
				fl := wantFailure(t, rec, err, drill.FailTransport)
				if !rec.Retried || tc.fault.Hits() != 2 || !strings.Contains(fl.Detail, "second read") {
					t.Errorf("retried %v, hits %d, detail %q", rec.Retried, tc.fault.Hits(), fl.Detail)
				}
			}
			if left := scratchLeft(t, f.target, f.job); len(left) != 0 {
				t.Errorf("scratch left: %v", left)
			}
		})
	}
}

func TestDrillKey(t *testing.T) {
	f := newFixture(t, "yb-key")
	other, _ := age.GenerateX25519Identity()
	o := f.opts()
	o.Identity = ageIdentity(other)
	rec, err := drill.Run(ctxT(t), o)
	fl := wantFailure(t, rec, err, drill.FailKey)
	if !strings.Contains(fl.Detail, other.Recipient().String()) || !strings.Contains(fl.Detail, f.id.Recipient().String()) {
		t.Errorf("detail does not name the identity and the recipients: %s", fl.Detail)
	}
	if strings.Contains(err.Error(), other.String()) {
		t.Fatal("the error shows the secret key")
	}
	if left := scratchLeft(t, f.target, f.job); len(left) != 0 {
		t.Errorf("scratch left: %v", left)
	}

	// No identity, or a file that cannot be read as one, is a drill that
	// could not run (a configuration matter, exit 2), not a key failure of
	// the backup; a key that is not the backup's is.
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "unreadable.agekey")
	os.WriteFile(unreadable, []byte(other.String()+"\n"), 0o000)
	for _, tc := range []struct {
		name, file, content string
		couldNotRun         bool
	}{
		{"no identity", "", "", true},
		{"missing file", filepath.Join(dir, "nosuch.agekey"), "", true},
		{"not an identity", filepath.Join(dir, "bad.agekey"), "AGE-SECRET-KEY-1NOTAKEY\n", true},
		{"another key", filepath.Join(dir, "other.agekey"), other.String() + "\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.content != "" {
				os.WriteFile(tc.file, []byte(tc.content), 0o600)
			}
			o := f.opts()
			o.Identity, o.IdentityFile = nil, tc.file
			rec, err := drill.Run(ctxT(t), o)
			if tc.couldNotRun {
				var fl *drill.Failure
				if err == nil || errors.As(err, &fl) || rec.Status != drill.StatusError || rec.Target != "" {
					t.Fatalf("err %v (%T), status %s, target %q: want could not run, the target untouched", err, err, rec.Status, rec.Target)
				}
				t.Logf("could not run: %v", err)
			} else {
				wantFailure(t, rec, err, drill.FailKey)
			}
			if strings.Contains(err.Error(), "NOTAKEY") || strings.Contains(err.Error(), other.String()) {
				t.Errorf("error echoes the key file: %v", err)
			}
		})
	}
	if os.Getuid() != 0 { // root reads any file
		o := f.opts()
		o.Identity, o.IdentityFile = nil, unreadable
		if rec, err := drill.Run(ctxT(t), o); err == nil || rec.Status != drill.StatusError {
			t.Errorf("unreadable identity file: %v %s", err, rec.Status)
		}
	}
	// The right key from a file passes.
	good := filepath.Join(dir, "good.agekey")
	os.WriteFile(good, []byte("# created: test\n"+f.id.String()+"\n"), 0o600)
	o = f.opts()
	o.Identity, o.IdentityFile = nil, good
	if _, err := drill.Run(ctxT(t), o); err != nil {
		t.Fatal(err)
	}
}

func TestDrillProbes(t *testing.T) {
	f := newFixture(t, "yb-probe")
	for _, tc := range []struct {
		name, sql, detail string
	}{
		{"false", "SELECT COUNT(*) > 0 FROM empty_t", "returned 0"},
		{"null", "SELECT MAX(id) FROM empty_t", "returned NULL"},
		{"no rows", "SELECT id FROM empty_t", "returned no rows"},
		{"error", "SELECT nosuch FROM js_jsmx", "failed: Error 1054"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := f.opts()
			o.Probes = append(o.Probes, drill.Probe{Name: tc.name, SQL: tc.sql})
			rec, err := drill.Run(ctxT(t), o)
			fl := wantFailure(t, rec, err, drill.FailProbe)
			if !strings.Contains(fl.Detail, "1 of 3 probes failed") || !strings.Contains(fl.Detail, tc.detail) {
				t.Errorf("detail %q", fl.Detail)
			}
			if rec.TablesMatched != 4 || rec.Probes[2].Status != "fail" || rec.Probes[0].Status != "pass" || rec.RTOSeconds != 0 {
				t.Errorf("record %+v", rec)
			}
			if left := scratchLeft(t, f.target, f.job); len(left) != 0 {
				t.Errorf("scratch left: %v", left)
			}
		})
	}
	// A probe that writes is refused before anything runs.
	o := f.opts()
	o.Probes = []drill.Probe{{Name: "sneaky", SQL: "DROP TABLE js_jsmx"}}
	if rec, err := drill.Run(ctxT(t), o); err == nil || rec != nil {
		t.Errorf("a DROP probe was accepted: %v", err)
	}
}

// The target is the source: refused before anything is created, unless
// allowed; allowed, the drill restores beside the source and leaves the
// source database as it was.
func TestDrillSourceServer(t *testing.T) {
	f := newFixture(t, "yb-same")
	o := f.opts()
	o.TargetDSN = crypto.NewSecret(f.src.DSN)
	rec, err := drill.Run(ctxT(t), o)
	if !errors.Is(err, drill.ErrSourceServer) || rec.Status != drill.StatusError {
		t.Fatalf("err %v, status %s", err, rec.Status)
	}
	t.Logf("refused: %v", err)
	if left := scratchLeft(t, f.src, f.job); len(left) != 0 {
		t.Errorf("a refused drill created %v", left)
	}
	// Only the manifest says who the source was.
	o.SourceDSN = crypto.Secret{}
	if _, err := drill.Run(ctxT(t), o); !errors.Is(err, drill.ErrSourceServer) {
		t.Fatalf("without a source DSN: %v", err)
	}

	before, err := mysql.Digests(ctxT(t), f.src.DSN, f.database, 2)
	if err != nil {
		t.Fatal(err)
	}
	o.AllowSourceServer = true
	rec, err = drill.Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if rec.TablesMatched != 4 || !strings.Contains(strings.Join(rec.Notes, " "), "the target is the source server") {
		t.Errorf("matched %d, notes %q", rec.TablesMatched, rec.Notes)
	}
	after, err := mysql.Digests(ctxT(t), f.src.DSN, f.database, 2)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Error("the source database changed")
	}
	if left := scratchLeft(t, f.src, f.job); len(left) != 0 {
		t.Errorf("scratch left on the source: %v", left)
	}
}

// Choosing: latest complete, skipping a newer backup whose manifest does
// not verify; random within the window; none at all; an explicit key.
func TestDrillChoose(t *testing.T) {
	f := newFixture(t, "yb-choose")
	old := f.m
	newer := f.backup(t, time.Now().Add(time.Hour))
	other := make([]byte, ed25519.SeedSize)
	rand.Read(other)
	forged := *newer
	forged.Sign(ed25519.NewKeyFromSeed(other))
	data, _ := forged.Marshal()
	f.store.Put(ctxT(t), backup.ManifestKey(newer.Object.Key), bytes.NewReader(data), int64(len(data)), backup.PutOptions{})

	rec, err := drill.Run(ctxT(t), f.opts())
	if err != nil || rec.Backup != old.Object.Key {
		t.Fatalf("latest: %v, backup %s, want %s", err, rec.Backup, old.Object.Key)
	}
	if !strings.Contains(strings.Join(rec.Notes, " "), "skipped "+newer.Object.Key+": not trusted: manifest signed by another key") {
		t.Errorf("notes %q", rec.Notes)
	}
	// Named explicitly, the forged one is an integrity failure.
	o := f.opts()
	o.BackupKey = backup.ManifestKey(newer.Object.Key)
	rec, err = drill.Run(ctxT(t), o)
	if fl := wantFailure(t, rec, err, drill.FailIntegrity); !strings.Contains(fl.Detail, "not trusted: manifest signed by another key") || rec.Bytes != 0 {
		t.Errorf("forged backup named: %q, %d bytes read (want none)", fl.Detail, rec.Bytes)
	}

	o = f.opts()
	o.Select, o.SelectWindow = "random", time.Minute
	o.Intn = func(n int) int { return n - 1 }
	if rec, err = drill.Run(ctxT(t), o); err != nil || rec.Backup != old.Object.Key {
		t.Fatalf("random: %v %s", err, rec.Backup)
	}
	o.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	rec, err = drill.Run(ctxT(t), o)
	fl := wantFailure(t, rec, err, drill.FailNoBackup)
	if !strings.Contains(fl.Detail, "in the last 1m") {
		t.Errorf("detail %q", fl.Detail)
	}
	o = f.opts()
	o.Job.Name = "nosuch"
	rec, err = drill.Run(ctxT(t), o)
	wantFailure(t, rec, err, drill.FailNoBackup)
}

// gate holds the body of one key after a number of bytes until released,
// so that a test can act while a drill is mid-load.
type gate struct {
	backup.ObjectStore
	key     string
	after   int64
	reached chan struct{}
	release chan struct{}
}

func (g *gate) Get(ctx context.Context, key string) (io.ReadCloser, backup.ObjectInfo, error) {
	rc, info, err := g.ObjectStore.Get(ctx, key)
	if err != nil || key != g.key {
		return rc, info, err
	}
	return &gateBody{ReadCloser: rc, g: g}, info, nil
}

type gateBody struct {
	io.ReadCloser
	g    *gate
	n    int64
	held bool
}

func (b *gateBody) Read(p []byte) (int, error) {
	if !b.held && b.n >= b.g.after {
		b.held = true
		close(b.g.reached)
		<-b.g.release
	}
	if left := b.g.after - b.n; !b.held && int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// restartMariaDB starts mariadbd again on a killed server's datadir and
// port, as an operator would after a crash; it is killed at the end of the
// test, before testenv removes the directory.
func restartMariaDB(t *testing.T, db *testenv.DB) {
	t.Helper()
	bin, err := exec.LookPath("mariadbd")
	if err != nil {
		bin = "/usr/sbin/mariadbd"
	}
	me := "root"
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	cmd := exec.Command(bin, "--no-defaults", "--datadir="+filepath.Join(db.Dir, "data"), "--user="+me,
		"--bind-address=127.0.0.1", "--port="+strconv.Itoa(db.Port), "--socket="+filepath.Join(db.Dir, "sock"),
		"--pid-file="+filepath.Join(db.Dir, "mariadbd.pid"), "--log-error="+filepath.Join(db.Dir, "error2.log"),
		"--skip-name-resolve", "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=256M")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := sql.Open("mysql", db.DSN+"?timeout=2s")
		if err == nil {
			err = c.Ping()
			c.Close()
		}
		if err == nil {
			return
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(db.Dir, "error2.log"))
			t.Fatalf("mariadbd exited on restart: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd did not come back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The drill server dies mid-load: the drill fails cleanly as a restore
// failure (not a backup fault), says the scratch database is left, and the
// next drill of the job, once the server is back, drops that leftover and
// leaves nothing behind itself.
func TestDrillTargetGoesAway(t *testing.T) {
	f := newFixture(t, "yb-crash")
	q := "`" + f.database + "`."
	f.src.Exec(t, "CREATE TABLE "+q+"big (id INT PRIMARY KEY, a VARCHAR(64), b VARCHAR(64))",
		"INSERT INTO "+q+"big SELECT seq, SHA2(seq, 256), MD5(seq) FROM "+q+"seq_1_to_150000")
	m := f.backup(t, time.Now().Add(time.Minute))
	f.target = testenv.NewMariaDB(t, testenv.Config{})

	g := &gate{ObjectStore: f.store, key: m.Object.Key, after: m.Object.CiphertextBytes / 2,
		reached: make(chan struct{}), release: make(chan struct{})}
	o := f.opts()
	o.Store = g
	type result struct {
		rec *drill.Record
		err error
	}
	res := make(chan result, 1)
	go func() {
		rec, err := drill.Run(ctxT(t), o)
		res <- result{rec, err}
	}()
	select {
	case <-g.reached:
	case r := <-res:
		t.Fatalf("the drill ended before the gate: %v", r.err)
	}
	// Let the loader take what it has, and the server's log reach disk
	// (the throwaway server flushes it once a second).
	time.Sleep(2 * time.Second)
	left := scratchLeft(t, f.target, f.job)
	if len(left) != 1 {
		t.Fatalf("mid-load scratch databases %v", left)
	}
	var loaded int
	if err := f.target.Open(t, "").QueryRow("SELECT COUNT(*) FROM `" + left[0] + "`.big").Scan(&loaded); err != nil || loaded == 0 {
		t.Fatalf("not mid-load: %d rows of big loaded (%v)", loaded, err)
	}
	t.Logf("killing the target with %d of 150000 rows of big loaded", loaded)
	f.target.Kill(t)
	close(g.release)
	var r result
	select {
	case r = <-res:
	case <-time.After(2 * time.Minute):
		t.Fatal("the drill hangs after its target died")
	}
	fl := wantFailure(t, r.rec, r.err, drill.FailRestore)
	if r.rec.Dropped || r.rec.Retried || !strings.Contains(strings.Join(r.rec.Notes, " "), "scratch database left on the target") {
		t.Errorf("dropped %v retried %v notes %q", r.rec.Dropped, r.rec.Retried, r.rec.Notes)
	}
	if !strings.Contains(fl.Detail, "lost the target") {
		t.Errorf("detail %q", fl.Detail)
	}

	restartMariaDB(t, f.target)
	if got := scratchLeft(t, f.target, f.job); len(got) != 1 || got[0] != left[0] {
		t.Fatalf("after the restart: %v, want %v", got, left)
	}
	rec, err := drill.Run(ctxT(t), f.opts())
	if err != nil {
		t.Fatalf("next drill: %v", err)
	}
	if len(rec.Cleaned) != 1 || rec.Cleaned[0] != left[0] || rec.TablesMatched != 5 {
		t.Errorf("cleaned %v, matched %d", rec.Cleaned, rec.TablesMatched)
	}
	if got := scratchLeft(t, f.target, f.job); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
}

// mariadbDump runs mariadb-dump on the fixture's database.
func (f *fixture) mariadbDump(t *testing.T, extra ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("mariadb-dump")
	if err != nil {
		if bin, err = exec.LookPath("mysqldump"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("no mariadb-dump: install the Debian package mariadb-client")
			}
			t.Skip("no mariadb-dump or mysqldump (Debian package mariadb-client)")
		}
	}
	args := append([]string{"--no-defaults", "-h" + f.src.Host, "-P" + strconv.Itoa(f.src.Port), "-u" + f.src.User,
		"--single-transaction", "--routines", "--triggers", "--hex-blob", "--default-character-set=utf8mb4"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+f.src.Password)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	return out
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func (f *fixture) put(t *testing.T, key string, data []byte) {
	t.Helper()
	if _, err := f.store.Put(ctxT(t), key, bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Dumps made by another tool: loaded, tables and rows counted, probes
// run; digests reported unsupported, never faked.
func TestDrillMysqldump(t *testing.T) {
	f := newFixture(t, "yb-dump")
	single := f.mariadbDump(t, f.database)
	f.put(t, "dumps/single/yb-1.sql.gz", gzipped(single))
	f.put(t, "dumps/multi/yb-1.sql.gz", gzipped(f.mariadbDump(t, "--databases", f.database)))

	var zbuf bytes.Buffer
	aw, _ := age.Encrypt(&zbuf, f.id.Recipient())
	zw, _ := zstd.NewWriter(aw)
	zw.Write(single)
	zw.Close()
	aw.Close()
	f.put(t, "dumps/enc/yb-1.sql.zst.age", zbuf.Bytes())

	for _, tc := range []struct{ name, pattern string }{
		{"single database", "dumps/single/*.sql.gz"},
		{"--databases", "dumps/multi/*.sql.gz"},
		{"zstd and age", "dumps/enc/*.sql.zst.age"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := f.opts()
			o.Job = drill.Job{Name: "yb-dump", Format: "mysqldump", KeyPattern: tc.pattern, Databases: []string{f.database}}
			o.Keys = nil
			rec, err := drill.Run(ctxT(t), o)
			if err != nil {
				t.Fatalf("%v; record %+v", err, rec)
			}
			js, _ := json.Marshal(rec)
			t.Logf("record: %s", js)
			if rec.Digests != "unsupported" || !strings.Contains(rec.DigestsDetail, "no table digests") || rec.TablesMatched != 0 {
				t.Errorf("digests %q %q matched %d", rec.Digests, rec.DigestsDetail, rec.TablesMatched)
			}
			rows := map[string]int64{}
			for _, tb := range rec.Tables {
				if tb.DigestMatch != nil || tb.Check != "unsupported" {
					t.Errorf("table %+v claims a digest check", tb)
				}
				rows[tb.Name] = tb.Rows
			}
			if fmt.Sprint(rows) != "map[audit_n:0 cb_ryxx:3000 empty_t:0 js_jsmx:2000]" || rec.Rows != 5000 {
				t.Errorf("tables %v rows %d", rows, rec.Rows)
			}
			if !bytes.Contains(js, []byte(`"digest_match":null`)) || rec.Snapshot != nil || rec.RPOSeconds < 0 {
				t.Errorf("record %s", js)
			}
			if len(rec.Probes) != 2 || rec.Probes[1].Status != "pass" {
				t.Errorf("probes %+v", rec.Probes)
			}
			if left := scratchLeft(t, f.target, "yb-dump"); len(left) != 0 {
				t.Errorf("left %v", left)
			}
		})
	}

	// A dump that stopped early (no trailer) is an integrity failure even
	// though every statement in it loads; so is a damaged gzip stream.
	cut := single[:bytes.LastIndex(single, []byte("-- Dump completed"))]
	f.put(t, "dumps/bad/yb-cut.sql.gz", gzipped(cut))
	bad := gzipped(single)
	bad[len(bad)/2] ^= 0xff
	f.put(t, "dumps/bad/yb-flip.sql.gz", bad)
	for key, want := range map[string]string{"dumps/bad/yb-cut.sql.gz": "trailer", "dumps/bad/yb-flip.sql.gz": "gzip"} {
		o := f.opts()
		o.Job = drill.Job{Name: "yb-dump", Format: "mysqldump", KeyPattern: "dumps/bad/*.sql.gz", Databases: []string{f.database}}
		o.BackupKey = key
		rec, err := drill.Run(ctxT(t), o)
		fl := wantFailure(t, rec, err, drill.FailIntegrity)
		if !strings.Contains(fl.Detail, want) {
			t.Errorf("%s: detail %q", key, fl.Detail)
		}
	}
	// Encrypted without an identity: could not run.
	o := f.opts()
	o.Job = drill.Job{Name: "yb-dump", Format: "mysqldump", KeyPattern: "dumps/enc/*.sql.zst.age"}
	o.Identity = nil
	rec, err := drill.Run(ctxT(t), o)
	var fl *drill.Failure
	if err == nil || errors.As(err, &fl) || rec.Status != drill.StatusError {
		t.Errorf("encrypted dump without an identity: %v, status %s: want could not run", err, rec.Status)
	}
}

// The drill needs no more on its server than rights on atrest_drill_%
// databases: a user limited to them drills green with definers: strip, so
// a DBA can confine drills (and whatever a backup's SQL says) to their
// scratch databases. With keep (the default) the drill must also read the
// accounts' names, to check that the definers exist: without that it
// cannot judge, and says what to grant.
func TestDrillConfinedUser(t *testing.T) {
	f := newFixture(t, "yb-confined")
	const user = "drill_confined"
	f.target.Exec(t, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'Dr1llPw'",
		"GRANT ALL ON `atrest\\_drill\\_%`.* TO '"+user+"'@'%'")
	t.Cleanup(func() { f.target.Exec(t, "DROP USER IF EXISTS '"+user+"'@'%'") })
	o := f.opts()
	o.TargetDSN = crypto.NewSecret(f.target.DSNFor(user, "Dr1llPw", ""))

	rec, err := drill.Run(ctxT(t), o)
	var fl *drill.Failure
	if err == nil || errors.As(err, &fl) || rec.Status != drill.StatusError || !strings.Contains(err.Error(), "SELECT (User, Host) ON mysql.user") {
		t.Fatalf("keep without the accounts: %v; status %s", err, rec.Status)
	}
	if left := scratchLeft(t, f.target, f.job); len(left) != 0 {
		t.Errorf("left %v", left)
	}

	o.Definers = engine.DefinersStrip
	rec, err = drill.Run(ctxT(t), o)
	if err != nil {
		t.Fatalf("confined user, strip: %v", err)
	}
	if rec.TablesMatched != 4 || !rec.Dropped || rec.Definers != "strip" || !strings.Contains(rec.DefinersDetail, "definers stripped") {
		t.Errorf("matched %d dropped %v definers %s (%s)", rec.TablesMatched, rec.Dropped, rec.Definers, rec.DefinersDetail)
	}
	if strings.Contains(fmt.Sprint(rec)+err2s(err), "Dr1llPw") {
		t.Error("the password shows")
	}

	// The names of the accounts, no password hash: enough for keep.
	f.target.Exec(t, "GRANT SELECT (User, Host) ON mysql.user TO '"+user+"'@'%'")
	o.Definers = engine.DefinersKeep
	rec, err = drill.Run(ctxT(t), o)
	if err != nil {
		t.Fatalf("confined user, keep: %v", err)
	}
	if !strings.Contains(rec.DefinersDetail, "exist on the target") {
		t.Errorf("definers detail %q", rec.DefinersDetail)
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// An interrupted drill (Ctrl-C, a daemon shutting down) is not a verdict
// on the backup, and still drops its scratch database.
func TestDrillInterrupted(t *testing.T) {
	f := newFixture(t, "yb-interrupt")
	g := &gate{ObjectStore: f.store, key: f.m.Object.Key, after: f.m.Object.CiphertextBytes / 2,
		reached: make(chan struct{}), release: make(chan struct{})}
	o := f.opts()
	o.Store = g
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan struct{})
	var rec *drill.Record
	var err error
	go func() { rec, err = drill.Run(ctx, o); close(done) }()
	<-g.reached
	cancel()
	close(g.release)
	<-done
	var fl *drill.Failure
	if !errors.Is(err, context.Canceled) || errors.As(err, &fl) || rec.Status != drill.StatusError {
		t.Fatalf("err %v, status %s", err, rec.Status)
	}
	if left := scratchLeft(t, f.target, f.job); len(left) != 0 || !rec.Dropped {
		t.Errorf("left %v, dropped %v", left, rec.Dropped)
	}
}

// On a drill server that writes a binary log the drill stays out of it
// (replicas have no use for scratch databases); a user who may not say so
// gets a note, and the drill still runs.
func TestDrillBinlog(t *testing.T) {
	f := newFixture(t, "yb-binlog")
	f.target = testenv.NewMariaDB(t, testenv.Config{Args: []string{"--log-bin=drillbin", "--server-id=7"}})
	pos := func() string {
		var file, p, a, b string
		if err := f.target.Open(t, "").QueryRow("SHOW MASTER STATUS").Scan(&file, &p, &a, &b); err != nil {
			t.Fatal(err)
		}
		return file + ":" + p
	}
	before := pos()
	rec, err := drill.Run(ctxT(t), f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if after := pos(); after != before {
		t.Errorf("the drill wrote to the binary log: %s → %s", before, after)
	}
	if strings.Contains(strings.Join(rec.Notes, " "), "binary log") {
		t.Errorf("notes %q", rec.Notes)
	}

	const user = "drill_nobinlog"
	f.target.Exec(t, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'Dr1llPw'",
		"GRANT ALL ON `atrest\\_drill\\_%`.* TO '"+user+"'@'%'")
	o := f.opts()
	o.Definers = engine.DefinersStrip // a user confined to its scratch databases
	o.TargetDSN = crypto.NewSecret(f.target.DSNFor(user, "Dr1llPw", ""))
	// Logged, the backup's trigger needs SUPER or trusted creators: a
	// restore failure that says what to change.
	rec, err = drill.Run(ctxT(t), o)
	fl := wantFailure(t, rec, err, drill.FailRestore)
	if !strings.Contains(fl.Detail, "log_bin_trust_function_creators") {
		t.Errorf("detail %q", fl.Detail)
	}
	f.target.Exec(t, "SET GLOBAL log_bin_trust_function_creators = 1")
	rec, err = drill.Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rec.Notes, " "), "replicas of the drill server receive the scratch database") {
		t.Errorf("notes %q", rec.Notes)
	}
	if left := scratchLeft(t, f.target, f.job); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}
