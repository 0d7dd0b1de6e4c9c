package check_test

import (
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/internal/testenv"
)

// The anchor bucket is held to journal.retention (180 days here): a
// lifecycle rule that expires checkpoint copies sooner fails, one that
// expires another prefix does not, an object lock shorter than the
// retention fails, and a server without lifecycle says unsupported.
func TestAnchorPosture(t *testing.T) {
	on := setting(backup.StateEnabled, "")
	const ret = 180 * 24 * time.Hour
	for _, tc := range []struct {
		name  string
		edit  func(*backup.Posture)
		check string
		st    check.Status
		subs  []string
	}{
		{"lock 180d", func(p *backup.Posture) { p.ObjectLock.Days = 180 }, check.ObjectLock, check.Pass, []string{"≥ journal.retention 180d"}},
		{"lock 30d", func(p *backup.Posture) {}, check.ObjectLock, check.Fail, []string{"shorter than journal.retention of 180d: checkpoint copies can be deleted"}},
		{"expiry 90d on the anchor", func(p *backup.Posture) {
			p.Lifecycle = backup.Lifecycle{Setting: on, Rules: []backup.ExpiryRule{{ID: "tidy", Prefix: "journal/", Days: 90}}}
		}, check.Lifecycle, check.Fail, []string{"rule tidy", "after 90d, before journal.retention of 180d"}},
		{"expiry 7d elsewhere", func(p *backup.Posture) {
			p.Lifecycle = backup.Lifecycle{Setting: on, Rules: []backup.ExpiryRule{{Prefix: "tmp/", Days: 7}}}
		}, check.Lifecycle, check.Pass, []string{"no expiry rule shorter than journal.retention of 180d"}},
		{"no lifecycle", func(p *backup.Posture) {}, check.Lifecycle, check.Pass, []string{"no lifecycle rule expires checkpoint copies"}},
		{"lifecycle unsupported", func(p *backup.Posture) {
			p.Lifecycle = backup.Lifecycle{Setting: setting(backup.StateUnsupported, "not implemented by the server (NotImplemented)")}
		}, check.Lifecycle, check.Unsupported, []string{"not implemented"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := storetest.NewMem()
			p := goodPosture()
			tc.edit(&p)
			m.SetPosture(p)
			res, err := check.Anchor(ctxT(t), check.AnchorOptions{Store: m, Prefix: "journal/host/", Retention: ret})
			if err != nil {
				t.Fatal(err)
			}
			r := want(t, res, tc.check, tc.st, tc.subs...)
			if r.Job != check.AnchorJob {
				t.Errorf("job %q", r.Job)
			}
		})
	}
}

// On versitygw 1.8.0 the anchor's lifecycle is unsupported (501), and says
// so, rather than passing or vanishing.
func TestAnchorPostureOnVersitygw(t *testing.T) {
	srv := testenv.S3(t)
	bucket := srv.Bucket(t, "anchor", true)
	store, err := s3store.New(ctxT(t), srv.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetDefaultRetention(ctxT(t), backup.Governance, 200); err != nil {
		t.Fatal(err)
	}
	res, err := check.Anchor(ctxT(t), check.AnchorOptions{Store: store, Prefix: "journal/host/", Retention: 180 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want(t, res, check.Versioning, check.Pass)
	want(t, res, check.ObjectLock, check.Pass, "GOVERNANCE 200d ≥ journal.retention 180d")
	want(t, res, check.Lifecycle, check.Unsupported, "lifecycle configuration")
}
