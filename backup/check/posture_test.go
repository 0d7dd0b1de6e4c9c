package check_test

import (
	"context"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/storetest"
)

func setting(s backup.State, detail string) backup.Setting {
	return backup.Setting{State: s, Detail: detail}
}

// Each posture setting read back as enabled, disabled, not implemented or
// unreadable, against a 30-day job retention. Mem answers what the test
// sets, as real test servers cannot (versitygw answers 501 to encryption
// and lifecycle).
func TestPosture(t *testing.T) {
	on := setting(backup.StateEnabled, "")
	off := setting(backup.StateDisabled, "")
	nope := setting(backup.StateUnsupported, "not implemented by the server (NotImplemented)")
	broken := setting(backup.StateError, "access denied: Access Denied (AccessDenied)")
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	type c struct {
		name  string
		edit  func(*backup.Posture)
		check string
		st    check.Status
		subs  []string
	}
	cases := []c{
		{"versioning on", func(p *backup.Posture) {}, check.Versioning, check.Pass, nil},
		{"versioning suspended", func(p *backup.Posture) { p.Versioning = setting(backup.StateDisabled, "suspended") }, check.Versioning, check.Fail, []string{"suspended", "destroys a backup"}},
		{"versioning unsupported", func(p *backup.Posture) { p.Versioning = nope }, check.Versioning, check.Unsupported, []string{"not implemented"}},
		{"versioning unreadable", func(p *backup.Posture) { p.Versioning = broken }, check.Versioning, check.Warn, []string{"could not read versioning", "access denied"}},

		{"lock 30d", func(p *backup.Posture) {}, check.ObjectLock, check.Pass, []string{"GOVERNANCE 30d ≥ job retention 30d"}},
		{"lock compliance 1y", func(p *backup.Posture) {
			p.ObjectLock = backup.ObjectLock{Setting: on, Mode: backup.Compliance, Days: 365}
		}, check.ObjectLock, check.Pass, []string{"COMPLIANCE 365d"}},
		{"lock 7d", func(p *backup.Posture) {
			p.ObjectLock = backup.ObjectLock{Setting: on, Mode: backup.Governance, Days: 7}
		}, check.ObjectLock, check.Fail, []string{"7d is shorter than the job's retention of 30d"}},
		{"lock without default", func(p *backup.Posture) {
			p.ObjectLock = backup.ObjectLock{Setting: setting(backup.StateEnabled, "no default retention")}
		}, check.ObjectLock, check.Fail, []string{"no default retention"}},
		{"lock off", func(p *backup.Posture) { p.ObjectLock = backup.ObjectLock{Setting: off} }, check.ObjectLock, check.Fail, []string{"not enabled"}},
		{"lock unsupported", func(p *backup.Posture) { p.ObjectLock = backup.ObjectLock{Setting: nope} }, check.ObjectLock, check.Unsupported, nil},

		// Encryption without client-side evidence (no backups yet).
		{"sse on", func(p *backup.Posture) {
			p.Encryption = backup.Encryption{Setting: on, Algorithm: "AES256"}
		}, check.Encryption, check.Pass, []string{"bucket default encryption AES256"}},
		{"sse off", func(p *backup.Posture) { p.Encryption = backup.Encryption{Setting: off} }, check.Encryption, check.Fail, []string{"no client-side encryption"}},
		{"sse unsupported", func(p *backup.Posture) {}, check.Encryption, check.Unsupported, []string{"not implemented"}},
		{"sse unreadable", func(p *backup.Posture) { p.Encryption = backup.Encryption{Setting: broken} }, check.Encryption, check.Warn, []string{"access denied"}},

		{"no lifecycle", func(p *backup.Posture) {}, check.Lifecycle, check.Pass, []string{"no lifecycle rule expires backups"}},
		{"expiry 7d", func(p *backup.Posture) {
			p.Lifecycle = backup.Lifecycle{Setting: on, Rules: []backup.ExpiryRule{{ID: "tidy", Prefix: "yb/", Days: 7}}}
		}, check.Lifecycle, check.Fail, []string{"rule tidy", "after 7d, before the job's retention of 30d"}},
		{"expiry 7d whole bucket, filtered", func(p *backup.Posture) {
			p.Lifecycle = backup.Lifecycle{Setting: on, Rules: []backup.ExpiryRule{{Days: 7, Filtered: true}}}
		}, check.Lifecycle, check.Fail, []string{"taken as applying"}},
		{"expiry 7d elsewhere", func(p *backup.Posture) {
			p.Lifecycle = backup.Lifecycle{Setting: setting(backup.StateEnabled, "1 expiry rule(s)"), Rules: []backup.ExpiryRule{{Prefix: "tmp/", Days: 7}}}
		}, check.Lifecycle, check.Pass, []string{"no expiry rule shorter"}},
		{"expiry 90d", func(p *backup.Posture) {
			p.Lifecycle = backup.Lifecycle{Setting: on, Rules: []backup.ExpiryRule{{Prefix: "yb/", Days: 90}}}
		}, check.Lifecycle, check.Pass, nil},
		{"expiry on a date", func(p *backup.Posture) {
			p.Lifecycle = backup.Lifecycle{Setting: on, Rules: []backup.ExpiryRule{{Date: now.Add(10 * 24 * time.Hour)}}}
		}, check.Lifecycle, check.Fail, []string{"expires every object on 2026-12-01"}},
		{"noncurrent 3d", func(p *backup.Posture) {
			p.Lifecycle = backup.Lifecycle{Setting: on, Rules: []backup.ExpiryRule{{Prefix: "yb/", NoncurrentDays: 3}}}
		}, check.Lifecycle, check.Warn, []string{"overwritten or deleted versions after 3d"}},
		{"lifecycle unsupported", func(p *backup.Posture) { p.Lifecycle = backup.Lifecycle{Setting: nope} }, check.Lifecycle, check.Unsupported, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := storetest.NewMem()
			p := goodPosture()
			tc.edit(&p)
			m.SetPosture(p)
			res, err := check.Run(ctxT(t), check.Options{Store: m, Now: now,
				Job: check.Job{Name: "yb-nightly", Prefix: "yb/", RPO: 26 * time.Hour, Retention: 30 * 24 * time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			want(t, res, tc.check, tc.st, tc.subs...)
		})
	}
}

// Client-side age encryption recorded in a signed manifest satisfies the
// encryption check even where the bucket has none.
func TestEncryptionEvidence(t *testing.T) {
	f := newFixture(t)
	p := goodPosture()
	p.Encryption = backup.Encryption{Setting: setting(backup.StateDisabled, "")}
	f.mem.SetPosture(p)
	f.backupAt(t, f.t0, table("t", 3))
	want(t, run(t, f.opts(f.t0)), check.Encryption, check.Pass, "client-side age encryption to 1 recipient(s)", "no bucket default encryption")
}

// unenforced is an object-lock store that accepts retention and ignores it,
// as some servers do.
type unenforced struct{ *storetest.Mem }

func (u unenforced) DeleteVersion(ctx context.Context, key, versionID string) error {
	return u.Mem.Delete(ctx, key)
}

func TestCanary(t *testing.T) {
	job := check.Job{Name: "yb-nightly", Prefix: "yb/", RPO: 26 * time.Hour, Retention: 30 * 24 * time.Hour}
	newMem := func(p backup.Posture) *storetest.Mem {
		m := storetest.NewMem()
		m.SetPosture(p)
		return m
	}
	locked := goodPosture()
	unlocked := goodPosture()
	unlocked.ObjectLock = backup.ObjectLock{Setting: setting(backup.StateDisabled, "")}
	for _, c := range []struct {
		name  string
		store backup.ObjectStore
		st    check.Status
		sub   string
	}{
		{"enforced", newMem(locked), check.Pass, "refused"},
		{"not enforced", unenforced{newMem(locked)}, check.Fail, "not enforced"},
		{"lock off", newMem(unlocked), check.Warn, "not run"},
		{"no retainer", &storetest.Faulty{ObjectStore: newMem(locked)}, check.Unsupported, "cannot set object retention"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := check.Run(ctxT(t), check.Options{Store: c.store, Job: job, Canary: true})
			if err != nil {
				t.Fatal(err)
			}
			want(t, res, check.Canary, c.st, c.sub)
			// The canary is not a backup and not an orphan.
			want(t, res, check.Completeness, check.Pass, "no backups")
		})
	}
	// Without --canary nothing is written.
	m := newMem(locked)
	res, _ := check.Run(ctxT(t), check.Options{Store: m, Job: job})
	if len(find(res, check.Canary)) != 0 {
		t.Error("canary without Canary")
	}
	for oi := range m.List(ctxT(t), "") {
		t.Errorf("check wrote %s", oi.Key)
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := check.Run(ctxT(t), check.Options{Store: storetest.NewMem(), Job: check.Job{Name: "j", Format: "xtrabackup"}})
	if err == nil || err.Error() != `check j: format "xtrabackup": no engine to read its dumps with` {
		t.Errorf("err = %v", err)
	}
}
