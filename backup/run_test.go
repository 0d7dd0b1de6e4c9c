package backup_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// source is a database with a few tables of varied types on the shared
// MariaDB.
func source(t *testing.T) (*testenv.DB, string) {
	t.Helper()
	db := testenv.MariaDB(t)
	name := db.CreateDatabase(t, "bk")
	db.Exec(t,
		"CREATE TABLE `"+name+"`.cb_ryxx (id INT PRIMARY KEY, psn_name VARCHAR(40), certno CHAR(18), born DATE, balance DECIMAL(12,2), note TEXT, photo BLOB, updated DATETIME(6))",
		"INSERT INTO `"+name+"`.cb_ryxx SELECT seq, CONCAT('张三', seq), LPAD(seq, 18, '1'), DATE('1980-01-01') + INTERVAL seq DAY, seq * 1.25, IF(seq % 7 = 0, NULL, REPEAT('备注 ', seq % 13)), IF(seq % 5 = 0, NULL, UNHEX(SHA2(seq, 256))), TIMESTAMP('2026-01-01 00:00:00.123456') + INTERVAL seq SECOND FROM `"+name+"`.seq_1_to_3000",
		"CREATE TABLE `"+name+"`.js_jsmx (setl_id VARCHAR(30) PRIMARY KEY, psn_no INT, amt DOUBLE, meta JSON)",
		"INSERT INTO `"+name+"`.js_jsmx SELECT CONCAT('420100', seq), seq % 3000, seq / 3, JSON_OBJECT('k', seq, 's', 'x\"y') FROM `"+name+"`.seq_1_to_2000",
		"CREATE TABLE `"+name+"`.empty_t (id INT)",
		"CREATE VIEW `"+name+"`.v_ryxx AS SELECT id, psn_name FROM `"+name+"`.cb_ryxx",
	)
	return db, name
}

// keys are a job's recipient, identity and manifest key, of one suite.
type keys struct{ testenv.BackupKeys }

func newKeys(t *testing.T) keys { return keysOf(t, suite.Standard) }

func keysOf(t *testing.T, s suite.Suite) keys { return keys{testenv.NewBackupKeys(t, s)} }

func (k keys) pub() backup.Keys { return backup.Keys{k.Signer.Public()} }

func (k keys) ids() []suite.Identity { return []suite.Identity{k.Identity} }

func runOpts(k keys, db *testenv.DB, database string, store backup.ObjectStore) backup.RunOptions {
	return backup.RunOptions{Job: "yb-nightly", Engine: mysql.Engine{}, DSN: crypto.NewSecret(db.DSN), Databases: []string{database},
		Store: store, Prefix: "yb/", Suite: k.Suite, Recipients: []suite.Recipient{k.Recipient}, SigningKey: k.Signer, ToolVersion: "test"}
}

func s3Store(t *testing.T, srv *testenv.S3Server, bucket string) *s3store.Store {
	t.Helper()
	s, err := s3store.New(ctxT(t), srv.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The whole way round on real servers, in both suites: a backup to
// versitygw; its manifest there, saying its suite and verifying; the object
// decrypts with the identity, decompresses, hashes as the manifest says; the
// SQL loads with the mariadb client into a fresh database whose table
// digests equal the manifest's.
func TestRunRoundTrip(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		t.Run(s.Name(), func(t *testing.T) { testRunRoundTrip(t, s) })
	}
}

func testRunRoundTrip(t *testing.T, s suite.Suite) {
	db, database := source(t)
	srv := testenv.S3(t)
	store := s3Store(t, srv, srv.Bucket(t, "roundtrip", true))
	k := keysOf(t, s)

	m, err := backup.Run(ctxT(t), runOpts(k, db, database, store))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup %s: %d SQL bytes, %d compressed, %d stored; %d tables", m.Object.Key,
		m.Object.PlaintextBytes, m.Object.CompressedBytes, m.Object.CiphertextBytes, len(m.Tables))
	if !strings.HasPrefix(m.Object.Key, "yb/yb-nightly/") || !strings.HasSuffix(m.Object.Key, ".sql.zst."+s.Ext()) {
		t.Errorf("key %s", m.Object.Key)
	}
	if m.Suite != s.Name() || m.Encryption.Scheme != s.Scheme() || len(m.Encryption.Recipients) != 1 ||
		m.Encryption.Recipients[0] != k.Recipient.String() || m.Signature.Algorithm != s.SignatureName() {
		t.Errorf("manifest suite %q, encryption %+v, signature %s", m.Suite, m.Encryption, m.Signature.Algorithm)
	}
	if m.Source.Version == "" || m.Source.UUID == "" || m.Snapshot.IsZero() || m.Finished.Before(m.Started) {
		t.Errorf("manifest source/times: %+v %v %v %v", m.Source, m.Started, m.Snapshot, m.Finished)
	}
	if len(m.Tables) != 3 || m.Object.ChecksumSHA256 == "" || m.Object.VersionID == "" {
		t.Errorf("manifest tables %d, s3 checksum %q, version %q", len(m.Tables), m.Object.ChecksumSHA256, m.Object.VersionID)
	}
	// The view and the two primary keys, each with the digest of its
	// definition; the view with its definer.
	if len(m.Objects) != 3 || m.Objects[0].Type != "VIEW" || m.Objects[0].Definer == "" || m.Objects[1].Type != "PRIMARY KEY" {
		t.Errorf("schema objects %+v", m.Objects)
	}
	for _, o := range m.Objects {
		if len(o.Digest) != 64 {
			t.Errorf("schema object %+v: digest", o)
		}
	}

	// The stored manifest is the one returned, and it verifies.
	rc, _, err := store.Get(ctxT(t), backup.ManifestKey(m.Object.Key))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	stored, err := backup.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := stored.Verify(k.Signer.Public()); err != nil {
		t.Fatal(err)
	}
	if stored.Object != m.Object || len(stored.Tables) != len(m.Tables) {
		t.Errorf("stored manifest differs from the returned one")
	}

	// Decrypt and decompress by hand, as the README's restore does.
	rc, info, err := store.Get(ctxT(t), m.Object.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	ch := sha256.New()
	ar, err := s.Decrypt(io.TeeReader(rc, ch), k.ids())
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zstd.NewReader(ar)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	sqlPath := filepath.Join(t.TempDir(), "backup.sql")
	f, _ := os.Create(sqlPath)
	ph := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, ph), zr)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(ch, rc)
	if info.Size != m.Object.CiphertextBytes || hex.EncodeToString(ch.Sum(nil)) != m.Object.CiphertextSHA256 {
		t.Errorf("ciphertext: %d bytes, sha %x; manifest %d, %s", info.Size, ch.Sum(nil), m.Object.CiphertextBytes, m.Object.CiphertextSHA256)
	}
	if n != m.Object.PlaintextBytes || hex.EncodeToString(ph.Sum(nil)) != m.Object.PlaintextSHA256 {
		t.Errorf("plaintext: %d bytes; manifest %d", n, m.Object.PlaintextBytes)
	}

	// Restore into a fresh database of the same name with the client.
	db.Exec(t, "DROP DATABASE `"+database+"`")
	db.Load(t, sqlPath)
	for _, tb := range m.Tables {
		rows, digest, err := mysql.TableDigest(ctxT(t), db.DSN, tb.Database, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		if rows != tb.Rows || digest != tb.Digest {
			t.Errorf("%s.%s restored: %d rows %s; manifest %d rows %s", tb.Database, tb.Name, rows, digest, tb.Rows, tb.Digest)
		}
	}

	// And check, reading it with the identity, finds nothing wrong with
	// the backup (the bucket's posture is its own matter).
	res, err := check.Run(ctxT(t), check.Options{Store: store, Read: true, Identities: k.ids(), Keys: k.pub(),
		Job: check.Job{Name: "yb-nightly", Prefix: "yb/", Suite: s.Name(), RPO: 26 * time.Hour, Retention: 30 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%-12s %-11s %s", r.Check, r.Status, r.Detail)
		switch r.Check {
		case check.Freshness, check.Completeness, check.ManifestSig, check.ObjectCheck, check.Trend, check.Integrity:
			if r.Status != check.Pass {
				t.Errorf("%s: %s %s", r.Check, r.Status, r.Detail)
			}
		}
		if r.Suite != s.Name() {
			t.Errorf("%s record of suite %q", r.Check, r.Suite)
		}
	}
}

// failingManifests fails every manifest upload.
type failingManifests struct{ backup.ObjectStore }

func (f failingManifests) Put(ctx context.Context, key string, r io.Reader, size int64, o backup.PutOptions) (backup.ObjectInfo, error) {
	if strings.HasSuffix(key, backup.ManifestSuffix) {
		return backup.ObjectInfo{}, errors.New("storetest: put " + key + ": injected failure")
	}
	return f.ObjectStore.Put(ctx, key, r, size, o)
}

func keysIn(t *testing.T, s backup.ObjectStore) []string {
	t.Helper()
	var out []string
	for oi, err := range s.List(ctxT(t), "") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, oi.Key)
	}
	return out
}

// Failures leave nothing that looks like a backup: no manifest, no object.
func TestRunFailures(t *testing.T) {
	db, database := source(t)
	k := newKeys(t)

	t.Run("unreachable database", func(t *testing.T) {
		mem := storetest.NewMem()
		o := runOpts(k, db, database, mem)
		o.DSN = crypto.NewSecret("atrest:s3cret-pw@tcp(127.0.0.1:1)/")
		_, err := backup.Run(ctxT(t), o)
		if err == nil || !strings.HasPrefix(err.Error(), "backup yb-nightly: dump") || strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("err = %v", err)
		}
		t.Log(err)
		if ks := keysIn(t, mem); len(ks) != 0 {
			t.Errorf("left behind: %v", ks)
		}
	})
	t.Run("upload fails midway", func(t *testing.T) {
		mem := storetest.NewMem()
		_, err := backup.Run(ctxT(t), runOpts(k, db, database, &storetest.Faulty{ObjectStore: mem, Fault: storetest.FailPut, After: 1000}))
		if err == nil || !strings.Contains(err.Error(), "backup yb-nightly: upload: ") || !errors.Is(err, err) {
			t.Fatalf("err = %v", err)
		}
		t.Log(err)
		if ks := keysIn(t, mem); len(ks) != 0 {
			t.Errorf("left behind: %v", ks)
		}
	})
	t.Run("manifest upload fails", func(t *testing.T) {
		mem := storetest.NewMem()
		_, err := backup.Run(ctxT(t), runOpts(k, db, database, failingManifests{mem}))
		if err == nil || !strings.Contains(err.Error(), "store manifest") || !strings.Contains(err.Error(), "data object was removed") {
			t.Fatalf("err = %v", err)
		}
		t.Log(err)
		if ks := keysIn(t, mem); len(ks) != 0 {
			t.Errorf("left behind: %v", ks)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		mem := storetest.NewMem()
		ctx, cancel := context.WithCancel(ctxT(t))
		cancel()
		if _, err := backup.Run(ctx, runOpts(k, db, database, mem)); err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("err = %v", err)
		}
		if ks := keysIn(t, mem); len(ks) != 0 {
			t.Errorf("left behind: %v", ks)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		for _, edit := range []func(*backup.RunOptions){
			func(o *backup.RunOptions) { o.Recipients = nil },
			func(o *backup.RunOptions) { o.SigningKey = nil },
			func(o *backup.RunOptions) { o.Job = "a/b" },
			func(o *backup.RunOptions) { o.DSN = crypto.Secret{} },
			// Keys of another suite than the job's: refused before any work.
			func(o *backup.RunOptions) { o.SigningKey = keysOf(t, suite.SM).Signer },
			func(o *backup.RunOptions) { o.Recipients = []suite.Recipient{keysOf(t, suite.SM).Recipient} },
			func(o *backup.RunOptions) { o.Suite = suite.SM },
		} {
			o := runOpts(k, db, database, storetest.NewMem())
			edit(&o)
			if _, err := backup.Run(ctxT(t), o); err == nil {
				t.Errorf("options accepted: %+v", o)
			}
		}
	})
}

// bigSource is a database whose dump does not compress: ~40 MiB of random
// bytes, so that the upload runs to several parts.
func bigSource(t *testing.T) (*testenv.DB, string) {
	t.Helper()
	db := testenv.MariaDB(t)
	name := db.CreateDatabase(t, "big")
	db.Exec(t, "CREATE TABLE `"+name+"`.blobs (id INT PRIMARY KEY, b VARBINARY(1024))",
		"INSERT INTO `"+name+"`.blobs SELECT seq, RANDOM_BYTES(1024) FROM `"+name+"`.seq_1_to_40000")
	return db, name
}

// A backup cancelled while it uploads aborts the multipart upload on the
// server: nothing is left, not even an incomplete upload.
func TestRunCancelledMidUpload(t *testing.T) {
	db, database := bigSource(t)
	srv := testenv.S3(t)
	store := s3Store(t, srv, srv.Bucket(t, "cancel", false))
	k := newKeys(t)
	o := runOpts(k, db, database, store)
	o.Progress = &backup.Progress{}
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	go func() {
		for o.Progress.CiphertextBytes() < 20<<20 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := backup.Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	if ks := keysIn(t, store); len(ks) != 0 {
		t.Errorf("left behind: %v", ks)
	}
	ups, err := store.ListIncompleteUploads(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 0 {
		t.Errorf("multipart uploads not aborted: %+v", ups)
	}
}

// The S3 server dies mid-upload: the run fails with one line naming the
// job, and once the server is back there is no object, no manifest and
// nothing a check calls a good backup.
func TestRunS3KilledMidUpload(t *testing.T) {
	db, database := bigSource(t)
	srv := testenv.S3Private(t)
	bucket := srv.Bucket(t, "killed", false)
	store := s3Store(t, srv, bucket)
	k := newKeys(t)
	o := runOpts(k, db, database, store)
	o.Progress = &backup.Progress{}
	go func() {
		for o.Progress.CiphertextBytes() < 20<<20 {
			time.Sleep(5 * time.Millisecond)
		}
		srv.Kill(t)
	}()
	start := time.Now()
	_, err := backup.Run(ctxT(t), o)
	if err == nil {
		t.Fatal("backup succeeded with the server killed")
	}
	t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
	msg := err.Error()
	if !strings.HasPrefix(msg, "backup yb-nightly: upload: ") || strings.Contains(msg, "\n") || strings.Contains(msg, srv.SecretKey) {
		t.Errorf("error %q: want one line naming the job and the upload", msg)
	}
	if !errors.Is(err, backup.ErrUnreachable) && !strings.Contains(msg, "connection") && !strings.Contains(msg, "EOF") {
		t.Errorf("error does not say the server went away: %q", msg)
	}

	srv.Restart(t)
	store = s3Store(t, srv, bucket)
	if ks := keysIn(t, store); len(ks) != 0 {
		t.Errorf("left behind: %v", ks)
	}
	res, err := check.Run(ctxT(t), check.Options{Store: store, Keys: k.pub(),
		Job: check.Job{Name: "yb-nightly", Prefix: "yb/", RPO: 26 * time.Hour, Retention: 30 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%-12s %-11s %s", r.Check, r.Status, r.Detail)
	}
	for _, r := range res {
		if r.Check == check.Freshness && r.Status != check.Fail {
			t.Errorf("freshness %s after a failed run: %s", r.Status, r.Detail)
		}
	}
}
