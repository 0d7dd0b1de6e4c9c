package check_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

// realJob is a job with real backups: MariaDB dumped by backup.Run into an
// object-lock bucket on versitygw with a 30-day default retention.
type realJob struct {
	store *s3store.Store
	keys  testenv.BackupKeys
	id    suite.Identity
	run   backup.RunOptions
	job   check.Job
}

func newRealJob(t *testing.T, s suite.Suite) *realJob {
	t.Helper()
	db := testenv.MariaDB(t)
	name := db.CreateDatabase(t, "chk")
	db.Exec(t, "CREATE TABLE `"+name+"`.cb_ryxx (id INT PRIMARY KEY, psn_name VARCHAR(40), note TEXT)",
		"INSERT INTO `"+name+"`.cb_ryxx SELECT seq, CONCAT('李四', seq), REPEAT('x', seq % 300) FROM `"+name+"`.seq_1_to_5000")
	srv := testenv.S3(t)
	bucket := srv.Bucket(t, "check", true)
	store, err := s3store.New(ctxT(t), srv.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetDefaultRetention(ctxT(t), backup.Governance, 30); err != nil {
		t.Fatal(err)
	}
	k := testenv.NewBackupKeys(t, s)
	j := &realJob{store: store, keys: k, id: k.Identity,
		job: check.Job{Name: "yb-nightly", Prefix: "yb/", Suite: s.Name(), RPO: 26 * time.Hour, Retention: 30 * 24 * time.Hour}}
	j.run = backup.RunOptions{Job: "yb-nightly", Engine: mysql.Engine{}, DSN: crypto.NewSecret(db.DSN), Databases: []string{name},
		Store: store, Prefix: "yb/", Suite: s, Recipients: []suite.Recipient{k.Recipient}, SigningKey: k.Signer, ToolVersion: "test"}
	return j
}

// backup runs a backup stamped `ago` before now (the key's time; the
// snapshot is real), so several fit in one test without colliding.
func (j *realJob) backup(t *testing.T, ago time.Duration) *backup.Manifest {
	t.Helper()
	o := j.run
	o.Now = func() time.Time { return time.Now().Add(-ago) }
	m, err := backup.Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (j *realJob) check(t *testing.T, read bool, id suite.Identity, now time.Time) []check.Result {
	t.Helper()
	return run(t, check.Options{Job: j.job, Store: j.store, Now: now, Read: read, Identities: ids(id),
		Keys: backup.Keys{j.keys.Signer.Public()}, Canary: true})
}

// replace stores a changed copy of the object under the same key, as an
// intruder or a broken copy job would.
func (j *realJob) replace(t *testing.T, key string, change func([]byte) []byte) {
	t.Helper()
	rc, _, err := j.store.Get(ctxT(t), key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	data = change(data)
	if _, err := j.store.Put(ctxT(t), key, bytes.NewReader(data), int64(len(data)), backup.PutOptions{ChecksumSHA256: true}); err != nil {
		t.Fatal(err)
	}
}

// Real backups of both suites (MariaDB, backup.Run, versitygw): all
// checks pass; a flipped byte and a truncated object are caught by
// check --read, with and without the identity.
func TestRealBackupChecks(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		t.Run(s.Name(), func(t *testing.T) { testRealBackupChecks(t, s) })
	}
}

func testRealBackupChecks(t *testing.T, s suite.Suite) {
	j := newRealJob(t, s)
	older := j.backup(t, 24*time.Hour)
	newest := j.backup(t, 0)

	res := j.check(t, true, j.id, time.Now())
	statuses := map[string]check.Status{}
	for _, r := range res {
		statuses[r.Check] = r.Status
	}
	// What versitygw 1.8.0 answers: everything but bucket encryption and
	// lifecycle, which it does not implement (the encryption check passes
	// on the manifests' client-side evidence).
	for c, st := range map[string]check.Status{
		check.Freshness: check.Pass, check.Completeness: check.Pass, check.Uploads: check.Pass,
		check.ManifestSig: check.Pass, check.ObjectCheck: check.Pass, check.Trend: check.Pass,
		check.Integrity: check.Pass, check.Versioning: check.Pass, check.ObjectLock: check.Pass,
		check.Encryption: check.Pass, check.Lifecycle: check.Unsupported, check.Canary: check.Pass,
	} {
		if statuses[c] != st {
			t.Errorf("%s: %s, want %s", c, statuses[c], st)
		}
	}
	want(t, res, check.Encryption, check.Pass, "client-side "+s.Scheme()+" encryption", "not implemented by the server")
	want(t, res, check.Integrity, check.Pass, s.Scheme()+" authenticated ")

	// A flipped byte in a copy stored under the same key.
	j.replace(t, newest.Object.Key, func(b []byte) []byte { b[len(b)/2] ^= 0x20; return b })
	for _, id := range []suite.Identity{j.id, nil} {
		res = j.check(t, true, id, time.Now())
		r := want(t, res, check.Integrity, check.Fail, "ciphertext SHA-256 differs")
		if r.Failure != check.FailIntegrity || r.Key != newest.Object.Key {
			t.Errorf("integrity: %+v", r)
		}
		want(t, res, check.ObjectCheck, check.Fail, "S3 SHA-256 checksum", "overwritten since")
		// The other backup is still good, and fresh.
		if r := want(t, res, check.Freshness, check.Pass, "newest backup"); r.Key != older.Object.Key {
			t.Errorf("freshness goes by %s, want the intact %s", r.Key, older.Object.Key)
		}
	}

	// A truncated copy of a newer backup.
	cut := j.backup(t, -time.Minute)
	j.replace(t, cut.Object.Key, func(b []byte) []byte { return b[:len(b)-1000] })
	var found bool
	for _, id := range []suite.Identity{j.id, nil} {
		res = j.check(t, true, id, time.Now())
		for _, r := range find(res, check.Integrity) {
			if r.Key == cut.Object.Key {
				found = true
				if r.Status != check.Fail || r.Failure != check.FailIntegrity || !strings.Contains(r.Detail, "the manifest says") {
					t.Errorf("truncated: %+v", r)
				}
			}
		}
	}
	if !found {
		t.Error("the truncated newest backup was not read")
	}

	// A data object without its manifest, two hours on.
	orphan := backup.ObjectKey("yb/", "yb-nightly", s, time.Now().Add(-3*time.Hour), "")
	data := []byte("age-encryption.org/v1\n-> X25519 abc\n--- xyz\n")
	if _, err := j.store.Put(ctxT(t), orphan, bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	res = j.check(t, false, nil, time.Now().Add(2*time.Hour))
	var orphanSeen bool
	for _, r := range find(res, check.Completeness) {
		if r.Key == orphan && r.Status == check.Fail && strings.Contains(r.Detail, "orphan") {
			orphanSeen = true
		}
	}
	if !orphanSeen {
		t.Errorf("orphan not reported: %+v", find(res, check.Completeness))
	}
}
