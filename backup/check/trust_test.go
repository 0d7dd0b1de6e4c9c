package check_test

import (
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/testenv"
)

// TestForgedBackupIsNeverGood is issue 16.1 at the check's level: a backup
// whose manifest another installation signed (same job, same recipients,
// same bucket) is measured against nothing. Every record about it fails and
// says "not trusted"; the manifest detail does not stutter; the installation's
// own older backup still counts, read and all.
func TestForgedBackupIsNeverGood(t *testing.T) {
	f := newFixture(t)
	own := f.backupAt(t, f.t0, table("t", 5))
	otherKey := testenv.NewBackupKeys(t, suite.Standard).Signer
	mine := f.key
	f.key = otherKey // the second installation signs the next one
	forged := f.backupAt(t, f.t0.Add(time.Hour), table("t", 6))
	f.key = mine

	for _, readAll := range []bool{false, true} {
		o := f.opts(f.t0.Add(2 * time.Hour))
		o.Read, o.ReadAll, o.Identities = true, readAll, ids(f.id)
		res := run(t, o)
		var objectNotTrusted, integrityNotTrusted bool
		for _, r := range res {
			if r.Key == forged.Object.Key || r.Key == forged.Object.Key+".manifest.json" {
				if r.Status != check.Fail {
					t.Errorf("read-all %v: %s about the forged backup: %s (%s)", readAll, r.Check, r.Status, r.Detail)
				}
				objectNotTrusted = objectNotTrusted || r.Check == check.ObjectCheck && strings.Contains(r.Detail, "not trusted")
				integrityNotTrusted = integrityNotTrusted || r.Check == check.Integrity && strings.Contains(r.Detail, "not trusted")
			}
			if strings.Contains(r.Detail, "manifest manifest") {
				t.Errorf("stutter: %s", r.Detail)
			}
			if r.Status == check.Pass && (r.Check == check.ObjectCheck && r.Key == "" || r.Check == check.Trend && r.Key != own.Object.Key) {
				// A pass over "every object" would count the forged one;
				// a trend may only speak of the trusted backup.
				t.Errorf("%s passes while a forged backup sits in the job's prefix: %s", r.Check, r.Detail)
			}
		}
		if !objectNotTrusted || !integrityNotTrusted {
			t.Errorf("read-all %v: object (%v) and integrity (%v) records must say the forged backup is not trusted", readAll, objectNotTrusted, integrityNotTrusted)
		}
		// Freshness goes by the installation's own backup, and the read
		// proves that one.
		fr := want(t, res, check.Freshness, check.Pass)
		if fr.Key != own.Object.Key {
			t.Errorf("freshness judged %s, want the trusted %s", fr.Key, own.Object.Key)
		}
		var ownRead bool
		for _, r := range find(res, check.Integrity) {
			ownRead = ownRead || r.Key == own.Object.Key && r.Status == check.Pass
		}
		if !ownRead {
			t.Errorf("read-all %v: the trusted backup was not read", readAll)
		}
		want(t, res, check.ManifestSig, check.Fail, "manifest signed by another key")
	}

	// Without a public key nothing is proven: what would pass on the
	// manifests' word warns instead.
	o := f.opts(f.t0.Add(2 * time.Hour))
	o.Keys, o.Read, o.Identities = nil, true, ids(f.id)
	for _, r := range run(t, o) {
		switch r.Check {
		case check.Freshness, check.ObjectCheck, check.Trend, check.Integrity, check.ManifestSig:
			if r.Status == check.Pass {
				t.Errorf("without a key, %s passes: %s", r.Check, r.Detail)
			}
		}
	}
}
