package check_test

import (
	"bytes"
	"context"
	gocrypto "crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/output"
	"github.com/atrest/atrest/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fixture makes backups the way backup.Run lays them out, from SQL text and
// table figures of the test's choosing, so each check can be driven to
// pass and to fail without a database. Its backups are of suite s, until
// the test switches it (a job may switch suites).
type fixture struct {
	store backup.ObjectStore
	mem   *storetest.Mem
	s     suite.Suite
	key   gocrypto.Signer
	id    suite.Identity
	rcp   suite.Recipient
	job   check.Job
	t0    time.Time
	// keys are every manifest key the fixture signed with.
	keys backup.Keys
}

func newFixture(t *testing.T) *fixture { return newFixtureOf(t, suite.Standard) }

func newFixtureOf(t *testing.T, s suite.Suite) *fixture {
	t.Helper()
	mem := storetest.NewMem()
	mem.SetPosture(goodPosture())
	f := &fixture{store: mem, mem: mem,
		job: check.Job{Name: "yb-nightly", Prefix: "yb/", RPO: 26 * time.Hour, Retention: 30 * 24 * time.Hour},
		t0:  time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)}
	f.use(t, s)
	return f
}

// use makes the fixture's next backups of suite s, with keys of their own,
// as a job switched to s does; the job's earlier keys stay trusted.
func (f *fixture) use(t *testing.T, s suite.Suite) {
	k := testenv.NewBackupKeys(t, s)
	f.s, f.key, f.id, f.rcp = s, k.Signer, k.Identity, k.Recipient
	f.job.Suite = s.Name()
	f.keys = append(f.keys, k.Signer.Public())
}

// ids is the identities a check is given: id, or none.
func ids(id suite.Identity) []suite.Identity {
	if id == nil {
		return nil
	}
	return []suite.Identity{id}
}

func goodPosture() backup.Posture {
	return backup.Posture{
		Versioning: backup.Setting{State: backup.StateEnabled},
		ObjectLock: backup.ObjectLock{Setting: backup.Setting{State: backup.StateEnabled}, Mode: backup.Governance, Days: 30},
		Encryption: backup.Encryption{Setting: backup.Setting{State: backup.StateUnsupported, Detail: "not implemented by the server (NotImplemented)"}},
		Lifecycle:  backup.Lifecycle{Setting: backup.Setting{State: backup.StateDisabled}},
	}
}

// encode is SQL → zstd → the suite's encryption, with the figures a
// manifest records.
func encode(t *testing.T, sql []byte, s suite.Suite, r suite.Recipient) (ct []byte, compressed int64) {
	t.Helper()
	var zbuf bytes.Buffer
	zw, _ := zstd.NewWriter(&zbuf)
	zw.Write(sql)
	zw.Close()
	var abuf bytes.Buffer
	aw, err := s.Encrypt(&abuf, []suite.Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	aw.Write(zbuf.Bytes())
	aw.Close()
	return abuf.Bytes(), int64(zbuf.Len())
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// backupAt stores a backup taken at `at` with the given tables; the SQL is
// sized by the rows so that size and rows trend together.
func (f *fixture) backupAt(t *testing.T, at time.Time, tables ...backup.Table) *backup.Manifest {
	t.Helper()
	var sql bytes.Buffer
	sql.WriteString("-- test dump\n")
	for _, tb := range tables {
		fmt.Fprintf(&sql, "CREATE TABLE `%s` (id int);\n", tb.Name)
		for i := int64(0); i < tb.Rows; i++ {
			fmt.Fprintf(&sql, "INSERT INTO `%s` VALUES (%d);\n", tb.Name, i)
		}
	}
	sql.WriteString("-- Dump completed on 2026-11-20  1:30:00\n")
	ct, compressed := encode(t, sql.Bytes(), f.s, f.rcp)
	key := backup.ObjectKey(f.job.Prefix, f.job.Name, f.s, at, "")
	f.mem.SetClock(func() time.Time { return at.Add(time.Minute) })
	info, err := f.store.Put(ctxT(t), key, bytes.NewReader(ct), int64(len(ct)), backup.PutOptions{ChecksumSHA256: true})
	if err != nil {
		t.Fatal(err)
	}
	m := &backup.Manifest{
		Format: backup.ManifestFormat, Job: f.job.Name, ToolVersion: "test",
		Started: at, Snapshot: at, Finished: at.Add(time.Minute),
		Databases: []string{"yb"}, Tables: tables, DigestAlgorithm: "test",
		Object: backup.Object{Key: key, VersionID: info.VersionID, ETag: info.ETag, ChecksumSHA256: info.ChecksumSHA256,
			PlaintextBytes: int64(sql.Len()), CompressedBytes: compressed, CiphertextBytes: int64(len(ct)),
			PlaintextSHA256: hexSum(sql.Bytes()), CiphertextSHA256: hexSum(ct)},
		Compression: "zstd", Suite: f.s.Name(),
		Encryption: backup.ClientEncryption{Scheme: f.s.Scheme(), Recipients: []string{f.rcp.String()}},
	}
	f.putManifest(t, m)
	return m
}

func (f *fixture) putManifest(t *testing.T, m *backup.Manifest) {
	t.Helper()
	if err := m.Sign(f.key); err != nil {
		t.Fatal(err)
	}
	data, _ := m.Marshal()
	if _, err := f.store.Put(ctxT(t), backup.ManifestKey(m.Object.Key), bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func table(name string, rows int64) backup.Table {
	return backup.Table{Database: "yb", Name: name, Rows: rows, Digest: strings.Repeat("0", 64), DDLHash: strings.Repeat("1", 64)}
}

func (f *fixture) opts(now time.Time) check.Options {
	return check.Options{Job: f.job, Store: f.store, Now: now, Keys: f.keys}
}

func run(t *testing.T, o check.Options) []check.Result {
	t.Helper()
	res, err := check.Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%-12s %-11s %s %s", r.Check, r.Status, r.Key, r.Detail)
	}
	return res
}

// find returns the records of one check.
func find(res []check.Result, name string) []check.Result {
	var out []check.Result
	for _, r := range res {
		if r.Check == name {
			out = append(out, r)
		}
	}
	return out
}

// want asserts that check name has exactly one record with status st whose
// detail contains every one of subs.
func want(t *testing.T, res []check.Result, name string, st check.Status, subs ...string) check.Result {
	t.Helper()
	rs := find(res, name)
	if len(rs) != 1 {
		t.Fatalf("%s: %d records, want 1: %+v", name, len(rs), rs)
	}
	r := rs[0]
	if r.Status != st {
		t.Errorf("%s: status %s, want %s: %s", name, r.Status, st, r.Detail)
	}
	for _, s := range subs {
		if !strings.Contains(r.Detail, s) {
			t.Errorf("%s: detail %q lacks %q", name, r.Detail, s)
		}
	}
	if r.Record != "check" || r.Job == "" {
		t.Errorf("%s: record %q job %q", name, r.Record, r.Job)
	}
	return r
}

func noFail(t *testing.T, res []check.Result) {
	t.Helper()
	for _, r := range res {
		if r.Status == check.Fail {
			t.Errorf("unexpected fail: %s: %s", r.Check, r.Detail)
		}
	}
}

func TestGoodBackups(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		t.Run(s.Name(), func(t *testing.T) { testGoodBackups(t, s) })
	}
}

func testGoodBackups(t *testing.T, s suite.Suite) {
	f := newFixtureOf(t, s)
	f.backupAt(t, f.t0, table("cb_ryxx", 40), table("js_jsmx", 20))
	f.backupAt(t, f.t0.Add(24*time.Hour), table("cb_ryxx", 41), table("js_jsmx", 22))
	o := f.opts(f.t0.Add(27 * time.Hour))
	o.Read, o.Identities = true, ids(f.id)
	res := run(t, o)
	noFail(t, res)
	for _, r := range res {
		if r.Suite != s.Name() {
			t.Errorf("%s record of suite %q", r.Check, r.Suite)
		}
	}
	want(t, res, check.Freshness, check.Pass, "newest backup 3h ago, RPO 26h")
	want(t, res, check.Completeness, check.Pass, "2 backup(s)")
	keyID, _ := suite.KeyID(f.key.Public())
	want(t, res, check.ManifestSig, check.Pass, "signatures verify", keyID)
	want(t, res, check.ObjectCheck, check.Pass, "2 object(s)")
	want(t, res, check.Trend, check.Pass, "63 rows in 2 tables", "60 rows")
	want(t, res, check.Integrity, check.Pass, s.Scheme()+" authenticated ", "zstd decoded to the end")
	want(t, res, check.Uploads, check.Pass)
	want(t, res, check.Versioning, check.Pass)
	want(t, res, check.ObjectLock, check.Pass, "GOVERNANCE 30d ≥ job retention 30d")
	want(t, res, check.Encryption, check.Pass, "client-side "+s.Scheme()+" encryption to 1 recipient(s) (suite "+s.Name()+")", "not implemented")
	want(t, res, check.Lifecycle, check.Pass)
	if res[0].Check != check.Freshness {
		t.Errorf("first record is %s, want freshness", res[0].Check)
	}

	// Without an identity: the ciphertext and the header only, and
	// the detail says what was not checked.
	o.Identities = nil
	res = run(t, o)
	want(t, res, check.Integrity, check.Pass, "ciphertext SHA-256 match", s.Scheme()+" header well-formed, 1 recipient(s)", "without an identity, decryption and zstd were not checked")
}

// A job switched from standard to sm keeps both kinds of backup under its
// prefix: both verify (each with its own key), both are read with the
// identities of their suites, and each record shows the suite of the
// backup it is about. An identity of one suite leaves the other's backups
// to the keyless read, and says so.
func TestSwitchedSuite(t *testing.T) {
	f := newFixture(t)
	old := f.backupAt(t, f.t0, table("t", 40))
	stdID := f.id
	f.use(t, suite.SM)
	cur := f.backupAt(t, f.t0.Add(24*time.Hour), table("t", 41))
	if !strings.HasSuffix(old.Object.Key, ".sql.zst.age") || !strings.HasSuffix(cur.Object.Key, ".sql.zst.sm4") {
		t.Fatalf("keys %s, %s", old.Object.Key, cur.Object.Key)
	}
	o := f.opts(f.t0.Add(25 * time.Hour))
	o.Read, o.ReadAll, o.Identities = true, true, []suite.Identity{stdID, f.id}
	res := run(t, o)
	noFail(t, res)
	want(t, res, check.Completeness, check.Pass, "2 backup(s)")
	want(t, res, check.ManifestSig, check.Pass, "2 manifest(s)", " and ")
	want(t, res, check.Trend, check.Pass, "41 rows", "40 rows")
	for _, r := range find(res, check.Integrity) {
		wantSuite := map[string]string{old.Object.Key: "standard", cur.Object.Key: "sm"}[r.Key]
		if r.Status != check.Pass || r.Suite != wantSuite || !strings.Contains(r.Detail, "authenticated ") {
			t.Errorf("read of %s: %s, suite %q: %s", r.Key, r.Status, r.Suite, r.Detail)
		}
	}
	if r := want(t, res, check.Freshness, check.Pass); r.Suite != "sm" {
		t.Errorf("freshness of the sm backup shows suite %q", r.Suite)
	}
	if r := want(t, res, check.Versioning, check.Pass); r.Suite != "sm" {
		t.Errorf("the job's own record shows suite %q, want the job's sm", r.Suite)
	}
	// Only the age identity: the sm backup is read without its key.
	o.Identities = []suite.Identity{stdID}
	for _, r := range find(run(t, o), check.Integrity) {
		if r.Key == cur.Object.Key && (r.Status != check.Pass || !strings.Contains(r.Detail, "without an identity of suite sm")) {
			t.Errorf("sm backup with only an age identity: %s %s", r.Status, r.Detail)
		}
	}
	// Without the standard key, the old backups vouch for nothing.
	o.Keys = f.keys[1:]
	r := find(run(t, o), check.ManifestSig)
	if len(r) != 1 || r[0].Status != check.Fail || r[0].Key != backup.ManifestKey(old.Object.Key) || !strings.Contains(r[0].Detail, "another key") {
		t.Errorf("manifest without the standard key: %+v", r)
	}
}

func TestFreshness(t *testing.T) {
	f := newFixture(t)
	f.backupAt(t, f.t0, table("t", 5))
	res := run(t, f.opts(f.t0.Add(30*time.Hour)))
	want(t, res, check.Freshness, check.Fail, "newest backup 30h ago, older than the RPO of 26h")

	res = run(t, f.opts(f.t0.Add(-time.Hour)))
	want(t, res, check.Freshness, check.Warn, "in the future")

	empty := newFixture(t)
	res = run(t, empty.opts(empty.t0))
	want(t, res, check.Freshness, check.Fail, "no complete backup")
	want(t, res, check.Completeness, check.Pass, "no backups under yb/yb-nightly/")
}

func TestCompleteness(t *testing.T) {
	f := newFixture(t)
	f.backupAt(t, f.t0, table("t", 5))
	// A data object whose run died before the manifest, and a manifest
	// whose object was deleted.
	orphan := backup.ObjectKey("yb/", "yb-nightly", f.s, f.t0.Add(12*time.Hour), "")
	f.mem.SetClock(func() time.Time { return f.t0.Add(12 * time.Hour) })
	f.store.Put(ctxT(t), orphan, strings.NewReader("age-encryption.org/v1\n..."), -1, backup.PutOptions{})
	gone := f.backupAt(t, f.t0.Add(6*time.Hour), table("t", 5))
	f.store.Delete(ctxT(t), gone.Object.Key)

	res := run(t, f.opts(f.t0.Add(14*time.Hour)))
	rs := find(res, check.Completeness)
	if len(rs) != 2 {
		t.Fatalf("completeness: %+v", rs)
	}
	for _, r := range rs {
		if r.Status != check.Fail {
			t.Errorf("%s: %s", r.Key, r.Status)
		}
		switch r.Key {
		case orphan:
			if !strings.Contains(r.Detail, "orphan") || !strings.Contains(r.Detail, "no manifest, no backup") {
				t.Errorf("orphan detail: %s", r.Detail)
			}
		case backup.ManifestKey(gone.Object.Key):
			if !strings.Contains(r.Detail, "the backup is gone") {
				t.Errorf("missing detail: %s", r.Detail)
			}
		default:
			t.Errorf("unexpected key %s", r.Key)
		}
	}
	// The freshness check goes by the one complete backup.
	want(t, res, check.Freshness, check.Pass, "newest backup 14h ago")

	// An orphan minutes old may be a run writing its manifest.
	res = run(t, f.opts(f.t0.Add(12*time.Hour+10*time.Minute)))
	for _, r := range find(res, check.Completeness) {
		if r.Key == orphan && r.Status != check.Warn {
			t.Errorf("young orphan: %s %s", r.Status, r.Detail)
		}
	}
}

func TestTamperedManifest(t *testing.T) {
	f := newFixture(t)
	f.backupAt(t, f.t0, table("t", 5))
	m := f.backupAt(t, f.t0.Add(24*time.Hour), table("t", 6))
	mkey := backup.ManifestKey(m.Object.Key)
	rc, _, _ := f.store.Get(ctxT(t), mkey)
	data, _ := io.ReadAll(rc)
	forged := bytes.Replace(data, []byte(`"rows": 6`), []byte(`"rows": 600`), 1)
	f.store.Put(ctxT(t), mkey, bytes.NewReader(forged), int64(len(forged)), backup.PutOptions{})

	res := run(t, f.opts(f.t0.Add(25*time.Hour)))
	r := want(t, res, check.ManifestSig, check.Fail, "does not verify", "changed after signing")
	if r.Key != mkey || r.Failure != check.FailIntegrity {
		t.Errorf("manifest record: %+v", r)
	}
	// The forged backup does not count: freshness goes by the one before.
	want(t, res, check.Freshness, check.Pass, "newest backup 25h ago")

	// Signed by another installation's key.
	o := f.opts(f.t0.Add(25 * time.Hour))
	o.Keys = backup.Keys{testenv.NewBackupKeys(t, suite.Standard).Signer.Public()}
	res = run(t, o)
	if rs := find(res, check.ManifestSig); len(rs) != 2 || !strings.Contains(rs[0].Detail+rs[1].Detail, "another key") {
		t.Errorf("other key: %+v", rs)
	}

	// Without a key nothing is verified, and it says so.
	f2 := newFixture(t)
	f2.backupAt(t, f2.t0, table("t", 5))
	o = f2.opts(f2.t0)
	o.Keys = nil
	want(t, run(t, o), check.ManifestSig, check.Warn, "not verified")
}

func TestTrend(t *testing.T) {
	cases := []struct {
		name       string
		prev, cur  []backup.Table
		st         check.Status
		detailSubs []string
	}{
		{"steady", []backup.Table{table("a", 100), table("b", 100)}, []backup.Table{table("a", 110), table("b", 95)}, check.Pass, []string{"no sudden drop"}},
		{"rows halved", []backup.Table{table("a", 100), table("b", 100)}, []backup.Table{table("a", 50), table("b", 40)}, check.Fail, []string{"rows down 55% (200 → 90)", "SQL size down"}},
		{"table emptied", []backup.Table{table("a", 100), table("b", 10)}, []backup.Table{table("a", 100), table("b", 0)}, check.Fail, []string{"table yb.b has 0 rows, had 10"}},
		{"table gone", []backup.Table{table("a", 100), table("b", 10)}, []backup.Table{table("a", 100)}, check.Warn, []string{"table yb.b is gone (had 10 rows)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.backupAt(t, f.t0, c.prev...)
			f.backupAt(t, f.t0.Add(24*time.Hour), c.cur...)
			res := run(t, f.opts(f.t0.Add(25*time.Hour)))
			r := want(t, res, check.Trend, c.st, c.detailSubs...)
			if r.Figures["previous_rows"] == nil || r.Figures["bytes"] == nil {
				t.Errorf("figures: %v", r.Figures)
			}
		})
	}
}

// A byte flipped on the server (the recorded size and checksum unchanged,
// as rot would leave them) is caught by --read, with and without the
// identity, as an integrity failure after a second read agrees; in both
// suites.
func TestFlippedByte(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		t.Run(s.Name(), func(t *testing.T) { testFlippedByte(t, s) })
	}
}

func testFlippedByte(t *testing.T, s suite.Suite) {
	f := newFixtureOf(t, s)
	m := f.backupAt(t, f.t0, table("t", 50))
	if err := f.mem.Corrupt(m.Object.Key, func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }); err != nil {
		t.Fatal(err)
	}
	o := f.opts(f.t0.Add(time.Hour))
	res := run(t, o)
	if r := find(res, check.Integrity); len(r) != 0 {
		t.Fatalf("integrity ran without --read: %+v", r)
	}
	for _, id := range []suite.Identity{nil, f.id} {
		o.Read, o.Identities = true, ids(id)
		res = run(t, o)
		r := want(t, res, check.Integrity, check.Fail, "ciphertext SHA-256 differs", "second read")
		if r.Failure != check.FailIntegrity || r.Key != m.Object.Key {
			t.Errorf("integrity record: %+v", r)
		}
		// A backup proved corrupt is no backup.
		want(t, res, check.Freshness, check.Fail, "no complete backup")
	}
}

// A truncated copy stored under the same key: the object check sees the
// size, the read sees the bytes; in both suites.
func TestTruncatedObject(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		t.Run(s.Name(), func(t *testing.T) { testTruncatedObject(t, s) })
	}
}

func testTruncatedObject(t *testing.T, s suite.Suite) {
	f := newFixtureOf(t, s)
	m := f.backupAt(t, f.t0, table("t", 50))
	rc, _, _ := f.store.Get(ctxT(t), m.Object.Key)
	data, _ := io.ReadAll(rc)
	cut := data[:len(data)-100]
	f.store.Put(ctxT(t), m.Object.Key, bytes.NewReader(cut), int64(len(cut)), backup.PutOptions{ChecksumSHA256: true})
	for _, id := range []suite.Identity{nil, f.id} {
		o := f.opts(f.t0.Add(time.Hour))
		o.Read, o.Identities = true, ids(id)
		res := run(t, o)
		want(t, res, check.ObjectCheck, check.Fail, fmt.Sprintf("size %d bytes, manifest says %d", len(cut), len(data)))
		r := want(t, res, check.Integrity, check.Fail, fmt.Sprintf("holds %d bytes, the manifest says %d", len(cut), len(data)))
		if r.Failure != check.FailIntegrity {
			t.Errorf("failure class %q", r.Failure)
		}
	}
}

// Transport faults are retried once and, if they persist, reported as
// transport failures, never as corruption and never as a good read.
func TestReadTransportFaults(t *testing.T) {
	f := newFixture(t)
	m := f.backupAt(t, f.t0, table("t", 2000))
	size := m.Object.CiphertextBytes
	for _, c := range []struct {
		name    string
		wrap    func() *storetest.Faulty
		st      check.Status
		failure string
		subs    []string
	}{
		{"drop once", func() *storetest.Faulty {
			fs := storetest.Dropping(f.store, size/2)
			fs.Times = 1
			return fs
		}, check.Pass, "", []string{"read failed once", "connection reset", "passed when retried"}},
		{"drop always", func() *storetest.Faulty { return storetest.Dropping(f.store, size/2) }, check.Fail, check.FailTransport, []string{"connection reset", "second read"}},
		{"silent truncation", func() *storetest.Faulty { return storetest.Truncating(f.store, size/3) }, check.Fail, check.FailTransport, []string{"body ended after"}},
		{"error in 200", func() *storetest.Faulty { return storetest.ErrorIn200s(f.store, size/2) }, check.Fail, check.FailTransport, []string{"the server announced"}},
	} {
		for _, id := range []suite.Identity{nil, f.id} {
			t.Run(fmt.Sprintf("%s/identity=%v", c.name, id != nil), func(t *testing.T) {
				fs := c.wrap()
				o := f.opts(f.t0.Add(time.Hour))
				o.Store, o.Read, o.Identities = cleanManifests{fs, f.store}, true, ids(id)
				res := run(t, o)
				r := want(t, res, check.Integrity, c.st, c.subs...)
				if r.Failure != c.failure {
					t.Errorf("failure %q, want %q", r.Failure, c.failure)
				}
				if c.st == check.Pass && r.Figures["retried"] != true {
					t.Errorf("retried not in figures: %v", r.Figures)
				}
				if fs.Hits() > 2 && c.name != "drop always" {
					t.Errorf("%d reads", fs.Hits())
				}
			})
		}
	}
}

// cleanManifests serves manifests from the store itself and everything
// else through the faulty one.
type cleanManifests struct {
	*storetest.Faulty
	base backup.ObjectStore
}

func (c cleanManifests) Get(ctx context.Context, key string) (io.ReadCloser, backup.ObjectInfo, error) {
	if strings.HasSuffix(key, backup.ManifestSuffix) {
		return c.base.Get(ctx, key)
	}
	return c.Faulty.Get(ctx, key)
}

func TestWrongIdentity(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		t.Run(s.Name(), func(t *testing.T) {
			f := newFixtureOf(t, s)
			f.backupAt(t, f.t0, table("t", 5))
			o := f.opts(f.t0.Add(time.Hour))
			o.Read, o.Identities = true, ids(testenv.NewBackupKeys(t, s).Identity)
			r := want(t, run(t, o), check.Integrity, check.Fail, "not among the backup's recipients", f.rcp.String())
			if r.Failure != "" {
				t.Errorf("a key mismatch is neither transport nor corruption: %q", r.Failure)
			}
		})
	}
}

func TestStaleUploads(t *testing.T) {
	f := newFixture(t)
	f.backupAt(t, f.t0, table("t", 5))
	now := f.t0.Add(2 * time.Hour)
	f.mem.AddIncompleteUpload(backup.ObjectKey("yb/", "yb-nightly", f.s, now.Add(-time.Minute), ""), now.Add(-time.Minute))
	want(t, run(t, f.opts(now)), check.Uploads, check.Pass, "1 multipart upload(s) under way")
	f.mem.AddIncompleteUpload(backup.ObjectKey("yb/", "yb-nightly", f.s, now.Add(-30*time.Hour), ""), now.Add(-30*time.Hour))
	r := want(t, run(t, f.opts(now)), check.Uploads, check.Warn, "1 multipart upload(s) unfinished for more than 24h", "30h ago")
	if r.Figures["stale"] != 1 || r.Figures["recent"] != 1 {
		t.Errorf("figures %v", r.Figures)
	}
}

func TestResultJUnitCase(t *testing.T) {
	for st, want := range map[check.Status]string{check.Pass: output.CasePass, check.Fail: output.CaseFail, check.Warn: output.CaseSkipped, check.Unsupported: output.CaseSkipped, "odd": output.CaseError} {
		c := check.Result{Job: "yb", Check: "object", Key: "yb/x.age", Status: st, Detail: "d"}.JUnitCase()
		if c.Status != want || c.Suite != "yb" || c.Name != "object yb/x.age" {
			t.Errorf("%s: %+v", st, c)
		}
	}
}
