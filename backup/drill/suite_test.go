package drill_test

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/engine/postgres"
	"github.com/atrest/atrest/internal/testenv"
)

// ageRecipient and ageIdentity are an age key as the suite package parses
// it from a config and an identity file.
func ageRecipient(id *age.X25519Identity) suite.Recipient {
	r, err := suite.ParseRecipient([]byte(id.Recipient().String()))
	if err != nil {
		panic(err)
	}
	return r
}

func ageIdentity(id *age.X25519Identity) suite.Identity {
	ids, err := suite.ParseIdentities([]byte(id.String()))
	if err != nil {
		panic(err)
	}
	return ids[0]
}

// smSwitch makes the job an sm job, as a config change does: a newer
// backup of the same database, SM4 to an SM2 recipient and signed with an
// SM2 key, beside the age one. The drill gets the SM2 identity and both
// manifest keys, as cmd gives it the installation's.
func (f *fixture) smSwitch(t *testing.T) (testenv.BackupKeys, drill.Options) {
	t.Helper()
	k := testenv.NewBackupKeys(t, suite.SM)
	m, err := backup.Run(ctxT(t), backup.RunOptions{Job: f.job, Engine: mysql.Engine{}, DSN: crypto.NewSecret(f.src.DSN),
		Databases: []string{f.database}, Store: f.store, Prefix: "yb/", Suite: suite.SM,
		Recipients: []suite.Recipient{k.Recipient}, SigningKey: k.Signer, ToolVersion: "test",
		Now: func() time.Time { return time.Now().Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	o := f.opts()
	o.Identity = k.Identity
	o.Keys = append(o.Keys, k.Signer.Public())
	return k, o
}

// An sm backup drills like an age one on MariaDB and versitygw: the newest
// backup of a job that switched suites is chosen, SM4 decrypted with the
// SM2 identity (given, or read from its PEM file), every digest matches,
// and the record says suite sm. An age identity is a key failure naming
// the SM2 recipient; the age backup beside it still drills with its own
// key.
func TestDrillSM(t *testing.T) {
	f := newFixture(t, "yb-sm")
	ageBackup := f.m
	k, o := f.smSwitch(t)
	rec, err := drill.Run(ctxT(t), o)
	if err != nil {
		t.Fatalf("drill: %v; record %+v", err, rec)
	}
	js, _ := json.Marshal(rec)
	t.Logf("record: %s", js)
	if rec.Status != drill.StatusPass || rec.Suite != "sm" || rec.Backup != f.m.Object.Key ||
		!strings.HasSuffix(rec.Backup, ".sql.zst.sm4") || rec.TablesMatched != 4 || rec.Phases.DecryptSeconds <= 0 {
		t.Fatalf("record %s", js)
	}
	if !bytes.Contains(js, []byte(`"suite":"sm"`)) {
		t.Errorf("record lacks the suite: %s", js)
	}

	o.Identity, o.IdentityFile = nil, k.IdentityFile
	if rec, err := drill.Run(ctxT(t), o); err != nil || rec.Suite != "sm" {
		t.Fatalf("SM2 identity from its PEM file: %v", err)
	}

	o.Identity = ageIdentity(f.id)
	rec, err = drill.Run(ctxT(t), o)
	fl := wantFailure(t, rec, err, drill.FailKey)
	if !strings.Contains(fl.Detail, k.Recipient.String()) || !strings.Contains(fl.Detail, f.id.Recipient().String()) {
		t.Errorf("key failure does not name the SM2 recipient and the identity held: %s", fl.Detail)
	}

	o = f.opts()
	o.BackupKey = ageBackup.Object.Key
	o.Keys = append(o.Keys, k.Signer.Public())
	if rec, err := drill.Run(ctxT(t), o); err != nil || rec.Suite != "standard" {
		t.Fatalf("the age backup of the switched job: %v, suite %q", err, rec.Suite)
	}
}

// A flipped byte and a truncated sm object are caught by the drill and by
// check --read alike, as integrity failures, on MariaDB and versitygw.
func TestDrillSMIntegrity(t *testing.T) {
	f := newFixture(t, "yb-sm-damage")
	k, o := f.smSwitch(t)
	rc, _, err := f.store.Get(ctxT(t), f.m.Object.Key)
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := io.ReadAll(rc)
	rc.Close()
	h, err := suite.ParseHeader(orig)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func([]byte) []byte
	}{
		{"flipped byte in the ciphertext", func(b []byte) []byte { b[h.Len+(len(b)-h.Len)/2] ^= 0x01; return b }},
		{"flipped byte in the tag", func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }},
		{"flipped byte in the wrapped key", func(b []byte) []byte { b[len("atrest-sm/v1\nsm2 0123456789abcdef ")+40] ^= 0x01; return b }},
		{"truncated object", func(b []byte) []byte { return b[:len(b)*2/3] }},
		{"tag cut off", func(b []byte) []byte { return b[:len(b)-suite.TagSize] }},
		{"appended bytes", func(b []byte) []byte { return append(b, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.rewrite(t, func([]byte) []byte { return tc.change(bytes.Clone(orig)) })
			rec, err := drill.Run(ctxT(t), o)
			fl := wantFailure(t, rec, err, drill.FailIntegrity)
			t.Logf("drill: %s", fl.Detail)
			if rec.Retried || rec.Suite != "sm" {
				t.Errorf("retried %v, suite %q", rec.Retried, rec.Suite)
			}
			if left := scratchLeft(t, f.target, f.job); len(left) != 0 || !rec.Dropped {
				t.Errorf("scratch left after failure: %v (dropped %v)", left, rec.Dropped)
			}
			for _, ids := range [][]suite.Identity{{k.Identity}, nil} {
				res, err := check.Run(ctxT(t), check.Options{Job: check.Job{Name: f.job, Prefix: "yb/", Suite: "sm", RPO: time.Hour},
					Store: f.store, Read: true, Identities: ids, Keys: o.Keys})
				if err != nil {
					t.Fatal(err)
				}
				var caught bool
				for _, r := range res {
					if r.Check == check.Integrity && r.Key == f.m.Object.Key {
						caught = r.Status == check.Fail && r.Failure == check.FailIntegrity && r.Suite == "sm"
						t.Logf("check --read (identity %v): %s", ids != nil, r.Detail)
					}
				}
				if !caught {
					t.Errorf("check --read (identity %v) did not fail the damaged sm object as integrity: %+v", ids != nil, res)
				}
			}
		})
	}
	f.rewrite(t, func([]byte) []byte { return orig })
	if _, err := drill.Run(ctxT(t), o); err != nil {
		t.Fatalf("restored object: %v", err)
	}
}

// The engine seam made the pipeline engine-free: an sm backup of
// PostgreSQL passes check --read and drills onto a second PostgreSQL with
// every digest and definition matching.
func TestPostgresDrillSM(t *testing.T) {
	f := newPGFixture(t, "his-sm")
	k := testenv.NewBackupKeys(t, suite.SM)
	m, err := backup.Run(ctxT(t), backup.RunOptions{Job: f.job, Engine: postgres.Engine{},
		DSN: crypto.NewSecret(f.sourceDSN()), Parallel: 2, Store: f.store, Prefix: "his/", Suite: suite.SM,
		Recipients: []suite.Recipient{k.Recipient}, SigningKey: k.Signer, ToolVersion: "test",
		Now: func() time.Time { return time.Now().Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	keys := backup.Keys{f.sign.Public(), k.Signer.Public()}
	res, err := check.Run(ctxT(t), check.Options{Job: check.Job{Name: f.job, Prefix: "his/", Suite: "sm", RPO: time.Hour, Retention: 24 * time.Hour},
		Store: f.store, Read: true, ReadAll: true, Identities: []suite.Identity{k.Identity, ageIdentity(f.id)}, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, r := range res {
		if r.Check == check.Integrity {
			read++
			if r.Status != check.Pass {
				t.Errorf("check --read: %+v", r)
			}
		}
	}
	if read != 2 {
		t.Errorf("%d backups read, want the age one and the sm one", read)
	}
	o := f.opts()
	o.Identity, o.Keys = k.Identity, keys
	rec, err := drill.Run(ctxT(t), o)
	if err != nil {
		t.Fatalf("drill: %v; record %+v", err, rec)
	}
	if rec.Status != drill.StatusPass || rec.Suite != "sm" || rec.Backup != m.Object.Key || rec.TablesMatched != 3 || rec.Rows != 5000 {
		t.Fatalf("record %+v", rec)
	}
	for _, tb := range rec.Tables {
		if tb.Check != "match" || tb.DDLMatch == nil || !*tb.DDLMatch {
			t.Errorf("table %+v", tb)
		}
	}
}
