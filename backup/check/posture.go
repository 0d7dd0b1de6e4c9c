package check

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atrest/atrest/backup"
)

// posture checks the bucket's protection settings, as the server reports
// them now. clientSide is evidence of client-side encryption ("" if none),
// which satisfies the encryption check whatever the bucket's default.
func (c *checker) posture(prefix, clientSide string) error {
	p, err := c.o.Store.Posture(c.ctx)
	if err != nil {
		return err
	}
	days := retentionDays(c.o.Job.Retention)
	c.versioning(p.Versioning)
	c.objectLock(p.ObjectLock, days)

	// Encryption at rest: the bucket's default, or evidence that the
	// objects are encrypted before they leave the host.
	e := p.Encryption
	bucketSays := ""
	switch e.State {
	case backup.StateEnabled:
		bucketSays = "bucket default encryption " + e.Algorithm
	case backup.StateDisabled:
		bucketSays = "no bucket default encryption"
	case backup.StateUnsupported:
		bucketSays = "bucket default encryption: " + cmpDetail(e.Detail, "not implemented by the server")
	default:
		bucketSays = "bucket default encryption unreadable: " + e.Detail
	}
	switch {
	case clientSide != "":
		c.add(Encryption, Pass, "", clientSide+"; "+bucketSays, nil)
	case e.State == backup.StateEnabled:
		c.add(Encryption, Pass, "", bucketSays, map[string]any{"algorithm": e.Algorithm})
	case e.State == backup.StateDisabled:
		c.add(Encryption, Fail, "", bucketSays+" and no client-side encryption seen: backups may be stored in plaintext", nil)
	default:
		c.setting(Encryption, "default encryption", e.Setting)
	}

	c.lifecycle(p.Lifecycle, prefix, days)
	if c.o.Canary {
		c.canary(prefix, p.ObjectLock)
	}
	return nil
}

func retentionDays(d time.Duration) int { return int((d + 24*time.Hour - 1) / (24 * time.Hour)) }

// kept says what the bucket keeps, and for how long, in the messages: a
// job's backups for its retention, or the journal anchor's checkpoint
// copies for journal.retention.
type kept struct {
	one, many   string // a backup, backups
	long, short string // the job's retention, job retention
}

var (
	keptBackups = kept{"a backup", "backups", "the job's retention", "job retention"}
	keptAnchor  = kept{"a checkpoint copy", "checkpoint copies", "journal.retention", "journal.retention"}
)

func (c *checker) kept() kept {
	if c.keep.one != "" {
		return c.keep
	}
	return keptBackups
}

// versioning: without it an overwrite or a delete loses an object.
func (c *checker) versioning(v backup.Setting) {
	switch v.State {
	case backup.StateEnabled:
		c.add(Versioning, Pass, "", "bucket versioning enabled", nil)
	case backup.StateDisabled:
		c.add(Versioning, Fail, "", "bucket versioning "+cmpDetail(v.Detail, "off")+": an overwrite or delete destroys "+c.kept().one+" for good", nil)
	default:
		c.setting(Versioning, "versioning", v)
	}
}

// objectLock: the default retention must cover the retention, or objects
// can be deleted (by an intruder with the keys) before they expire.
func (c *checker) objectLock(l backup.ObjectLock, days int) {
	k := c.kept()
	figs := map[string]any{"retention_days": days}
	switch l.State {
	case backup.StateEnabled:
		figs["default_retention_days"] = l.Days
		switch {
		case l.Mode == "" || l.Days == 0:
			c.add(ObjectLock, Fail, "", fmt.Sprintf("object lock enabled but no default retention: new %s are not locked (%s %dd)", k.many, k.short, days), figs)
		case l.Days < days:
			c.add(ObjectLock, Fail, "", fmt.Sprintf("default retention %s %dd is shorter than %s of %dd: %s can be deleted before they expire", l.Mode, l.Days, k.long, days, k.many), figs)
		default:
			c.add(ObjectLock, Pass, "", fmt.Sprintf("object lock with default retention %s %dd ≥ %s %dd", l.Mode, l.Days, k.short, days), figs)
		}
	case backup.StateDisabled:
		c.add(ObjectLock, Fail, "", "object lock not enabled on the bucket: "+k.many+" can be deleted or overwritten by anyone with write access", figs)
	default:
		c.setting(ObjectLock, "object lock", l.Setting)
	}
}

// setting records a setting the server does not implement, or could not
// be read: unsupported, or warn (unproven is not the same as off).
func (c *checker) setting(check, what string, s backup.Setting) {
	if s.State == backup.StateUnsupported {
		c.add(check, Unsupported, "", what+": "+cmpDetail(s.Detail, "not implemented by the server"), nil)
		return
	}
	c.add(check, Warn, "", "could not read "+what+": "+cmpDetail(s.Detail, string(s.State)), nil)
}

func cmpDetail(d, def string) string {
	if d == "" {
		return def
	}
	return d
}

// lifecycle fails an expiry rule that would delete backups under prefix
// before the job's retention is over.
func (c *checker) lifecycle(l backup.Lifecycle, prefix string, days int) {
	switch l.State {
	case backup.StateUnsupported, backup.StateError:
		c.setting(Lifecycle, "lifecycle configuration", l.Setting)
		return
	}
	var fails, warns []string
	for _, r := range l.ExpiryFor(prefix) {
		name := "rule"
		if r.ID != "" {
			name += " " + r.ID
		}
		if r.Prefix != "" {
			name += fmt.Sprintf(" (prefix %q)", r.Prefix)
		}
		if r.Filtered {
			name += " (filtered by tag or size, taken as applying)"
		}
		if r.Days > 0 && r.Days < days {
			fails = append(fails, fmt.Sprintf("%s expires objects after %dd, before %s of %dd", name, r.Days, c.kept().long, days))
		}
		if !r.Date.IsZero() && r.Date.Before(c.o.Now.Add(time.Duration(days)*24*time.Hour)) {
			fails = append(fails, fmt.Sprintf("%s expires every object on %s, before %s made now reach %dd", name, r.Date.Format("2006-01-02"), c.kept().many, days))
		}
		if r.NoncurrentDays > 0 && r.NoncurrentDays < days {
			warns = append(warns, fmt.Sprintf("%s removes overwritten or deleted versions after %dd, before %s of %dd", name, r.NoncurrentDays, c.kept().long, days))
		}
	}
	switch {
	case len(fails) > 0:
		c.add(Lifecycle, Fail, "", strings.Join(append(fails, warns...), "; "), nil)
	case len(warns) > 0:
		c.add(Lifecycle, Warn, "", strings.Join(warns, "; "), nil)
	case l.State == backup.StateEnabled:
		c.add(Lifecycle, Pass, "", fmt.Sprintf("no expiry rule shorter than %s of %dd (%s)", c.kept().long, days, l.Detail), nil)
	default:
		c.add(Lifecycle, Pass, "", "no lifecycle rule expires "+c.kept().many, nil)
	}
}

// canaryRetention is how long a canary is retained: long enough that the
// delete right after is inside it whatever the clocks, short enough that
// canaries are soon cleared.
const canaryRetention = time.Hour

// canaryDir holds the canaries, beside the backups; listBackups ignores it.
const canaryDir = ".atrest-canary/"

// canary proves the lock is enforced, not just configured: a retained
// version of a tiny object must refuse to be deleted. Some servers accept
// lock settings and ignore them.
func (c *checker) canary(prefix string, l backup.ObjectLock) {
	rt, ok := c.o.Store.(backup.Retainer)
	if !ok {
		c.add(Canary, Unsupported, "", "this store cannot set object retention", nil)
		return
	}
	if l.State != backup.StateEnabled {
		c.add(Canary, Warn, "", "not run: object lock is not enabled on the bucket", nil)
		return
	}
	c.clearCanaries(prefix, rt)
	// Retention is set by the wall clock, whatever Now the check judges by.
	now := time.Now().UTC()
	key := prefix + canaryDir + now.Format("20060102T150405.000000000Z")
	data := []byte("atrest object-lock canary\n")
	info, err := c.o.Store.Put(c.ctx, key, bytes.NewReader(data), int64(len(data)),
		backup.PutOptions{Retention: &backup.Retention{Mode: backup.Governance, Until: now.Add(canaryRetention)}})
	if err != nil {
		c.add(Canary, Warn, key, "could not put the canary: "+oneLine(err), nil)
		return
	}
	if info.VersionID == "" {
		c.add(Canary, Warn, key, "the server gave the canary no version ID, so no version could be deleted", nil)
		return
	}
	err = rt.DeleteVersion(c.ctx, key, info.VersionID)
	switch {
	case err == nil:
		c.add(Canary, Fail, key, "the server deleted a version under GOVERNANCE retention: object lock is configured but not enforced", nil)
	case errors.Is(err, backup.ErrAccessDenied):
		c.add(Canary, Pass, key, "deleting a retained version was refused, as object lock requires", nil)
	default:
		c.add(Canary, Warn, key, "deleting the canary failed other than by refusal: "+oneLine(err), nil)
	}
}

// clearCanaries removes canaries whose retention is over, best effort.
func (c *checker) clearCanaries(prefix string, rt backup.Retainer) {
	cutoff := time.Now().Add(-canaryRetention - 10*time.Minute)
	for oi, err := range c.o.Store.List(c.ctx, prefix+canaryDir) {
		if err != nil {
			return
		}
		if oi.LastModified.After(cutoff) {
			continue
		}
		if st, err := c.o.Store.Stat(c.ctx, oi.Key); err == nil && st.VersionID != "" {
			rt.DeleteVersion(c.ctx, oi.Key, st.VersionID)
		}
	}
}
