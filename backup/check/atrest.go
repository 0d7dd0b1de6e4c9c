package check

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/atrest/atrest/backup"
)

// orphanGrace is how long a data object may be without its manifest before
// that is a failure: Run uploads the manifest right after the data, so a
// check in between sees a young orphan.
const orphanGrace = time.Hour

// entry is one backup as found in the bucket: a data object, its manifest,
// or both.
type entry struct {
	key  string // the data object's key
	data *backup.ObjectInfo
	mobj *backup.ObjectInfo // the manifest object, as listed

	m      *backup.Manifest // parsed, nil if missing or unreadable
	sigErr error            // why the manifest is not trusted: signature or consistency
	objBad bool             // the stored object is not the one the manifest describes
	bad    bool             // a read proved it corrupt
}

// good is a backup that can be restored as far as the check can tell.
func (e *entry) good() bool {
	return e.m != nil && e.sigErr == nil && e.data != nil && !e.objBad && !e.bad
}

// untrusted is a backup whose manifest parsed and does not verify with
// this installation's keys (or does not describe the object beside it): its
// sizes, checksums and row counts vouch for nothing, so no check compares
// anything with them, and every record about it says so.
func (e *entry) untrusted() bool { return e.m != nil && e.sigErr != nil }

// notTrusted words why an untrusted backup counts for nothing.
func (e *entry) notTrusted() string {
	return "not trusted: " + oneLine(e.sigErr) + "; nothing about this backup was compared with its manifest, which vouches for nothing"
}

func (c *checker) atrest() error {
	prefix := backup.JobPrefix(c.o.Job.Prefix, c.o.Job.Name)
	entries, err := c.listBackups(prefix)
	if err != nil {
		return err
	}
	if err := c.manifests(entries); err != nil {
		return err
	}
	c.completeness(entries)
	if err := c.objects(entries); err != nil {
		return err
	}
	if c.o.Read || c.o.ReadAll {
		c.readBackups(entries)
	}
	c.freshness(entries)
	c.trend(entries)
	if err := c.uploads(prefix); err != nil {
		return err
	}
	evidence := ""
	for _, e := range slices.Backward(entries) {
		if e.m == nil || e.sigErr != nil || len(e.m.Encryption.Recipients) == 0 {
			continue
		}
		if s, err := e.m.SuiteOf(); err == nil && e.m.Encryption.Scheme == s.Scheme() {
			evidence = fmt.Sprintf("client-side %s encryption to %d recipient(s) (suite %s), per the signed manifests",
				s.Scheme(), len(e.m.Encryption.Recipients), s.Name())
			break
		}
	}
	if err := c.posture(prefix, evidence); err != nil {
		return err
	}
	if len(c.o.Keys) == 0 {
		c.unverified(evidence != "")
	}
	c.sortResults()
	return nil
}

// vouched are the checks whose pass rests on what the manifests say.
var vouched = []string{Freshness, ObjectCheck, Trend, Integrity}

// unverified turns the passes that rest on manifest figures into warnings
// when there was no key to verify the manifests with: the manifest check
// already warns, and a pass measured against figures anyone could have
// written would vouch for more than was proven. The encryption check
// counts when its pass came from the manifests.
func (c *checker) unverified(encryptionFromManifests bool) {
	for i := range c.out {
		r := &c.out[i]
		if r.Status == Pass && (slices.Contains(vouched, r.Check) || r.Check == Encryption && encryptionFromManifests) {
			r.Status = Warn
			r.Detail += "; manifest signatures not verified (no public key given): the figures compared against are unproven"
		}
	}
}

// listBackups pairs data objects with their manifests, in key order (which
// is time order: keys carry the date and time). Anything else under the
// prefix (the canary, files people put there) is not ours to judge.
func (c *checker) listBackups(prefix string) ([]*entry, error) {
	listed, err := backup.ListBackups(c.ctx, c.o.Store, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]*entry, len(listed))
	for i, l := range listed {
		out[i] = &entry{key: l.Key, data: l.Data, mobj: l.Manifest}
	}
	return out, nil
}

// manifests reads, parses and verifies every manifest.
func (c *checker) manifests(entries []*entry) error {
	n, verified := 0, 0
	failed := false
	usedKeys := map[string]bool{}
	for _, e := range entries {
		if e.mobj == nil {
			continue
		}
		n++
		mkey := backup.ManifestKey(e.key)
		m, retried, err := c.readManifest(mkey)
		if err != nil {
			if fatal(err) {
				return err
			}
			failed = true
			r := c.add(ManifestSig, Fail, mkey, "manifest unreadable: "+oneLine(err)+retried, nil)
			if transportErr(err) {
				r.Failure = FailTransport
			} else {
				r.Failure = FailIntegrity
			}
			continue
		}
		e.m = m
		if len(c.o.Keys) > 0 {
			e.sigErr = m.Trust(c.o.Keys, c.o.Job.Name, e.key) // its errors begin "manifest …"
		} else {
			e.sigErr = m.Describes(c.o.Job.Name, e.key)
		}
		if e.sigErr != nil {
			failed = true
			c.add(ManifestSig, Fail, mkey, oneLine(e.sigErr)+": its figures cannot be trusted and the backup does not count", nil).Failure = FailIntegrity
			continue
		}
		verified++
		if m.Signature != nil {
			usedKeys[m.Signature.KeyID] = true
		}
	}
	switch {
	case n == 0 || failed:
	case len(c.o.Keys) == 0:
		c.add(ManifestSig, Warn, "", fmt.Sprintf("%d manifest(s) parse; signatures not verified: no public key given", n), map[string]any{"manifests": n})
	default:
		c.add(ManifestSig, Pass, "", fmt.Sprintf("%d manifest(s) parse and their signatures verify with key %s", verified, strings.Join(slices.Sorted(maps.Keys(usedKeys)), " and ")),
			map[string]any{"manifests": n})
	}
	return nil
}

// readManifest gets and parses one manifest, reading it again once after a
// transport error.
func (c *checker) readManifest(key string) (*backup.Manifest, string, error) {
	m, err := c.readManifestOnce(key)
	if err == nil || !transportErr(err) || fatal(err) {
		return m, "", err
	}
	first := oneLine(err)
	m, err = c.readManifestOnce(key)
	if err == nil {
		return m, "", nil
	}
	return nil, " (read twice; the first attempt failed with: " + first + ")", err
}

func (c *checker) readManifestOnce(key string) (*backup.Manifest, error) {
	rc, info, err := c.o.Store.Get(c.ctx, key)
	if err != nil {
		return nil, &transportError{err}
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, backup.MaxManifestBytes+1))
	if err != nil {
		return nil, &transportError{err}
	}
	if info.Size >= 0 && int64(len(data)) != info.Size && len(data) <= backup.MaxManifestBytes {
		return nil, &transportError{fmt.Errorf("body ended after %d of %d bytes", len(data), info.Size)}
	}
	return backup.ParseManifest(data)
}

// transportError marks an error reading from the store, as opposed to one
// about what was read.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func transportErr(err error) bool {
	var te *transportError
	return errors.As(err, &te) && !errors.Is(err, backup.ErrNotFound)
}

// completeness: no data object without its manifest (an orphan is no
// backup: a run died between the two uploads, or the manifest was removed),
// and no manifest without its data object (a backup that is gone).
func (c *checker) completeness(entries []*entry) {
	var data, manifests, orphans, missing int
	for _, e := range entries {
		if e.data != nil {
			data++
		}
		if e.mobj != nil {
			manifests++
		}
	}
	figs := map[string]any{"objects": data, "manifests": manifests}
	for _, e := range entries {
		switch {
		case e.data != nil && e.mobj == nil:
			orphans++
			age := c.o.Now.Sub(e.data.LastModified)
			if age < orphanGrace {
				c.add(Completeness, Warn, e.key, fmt.Sprintf("data object without a manifest, stored %s ago: a run may be finishing; not a backup until its manifest is there", backup.HumanDuration(age)), figs)
			} else {
				c.add(Completeness, Fail, e.key, fmt.Sprintf("orphan: data object (%s) without a manifest, stored %s ago: no manifest, no backup (a run failed after the upload, or the manifest was deleted)",
					size(e.data.Size), backup.HumanDuration(age)), figs)
			}
		case e.data == nil && e.mobj != nil:
			missing++
			c.add(Completeness, Fail, backup.ManifestKey(e.key), "manifest without its data object: the backup is gone", figs)
		}
	}
	if orphans == 0 && missing == 0 {
		detail := fmt.Sprintf("%d backup(s), each data object with its manifest", data)
		if data == 0 {
			detail = "no backups under " + backup.JobPrefix(c.o.Job.Prefix, c.o.Job.Name)
		}
		c.add(Completeness, Pass, "", detail, figs)
	}
}

// objects compares each stored object with its manifest: size, the
// server's SHA-256 checksum (or ETag) and version, from Stat.
func (c *checker) objects(entries []*entry) error {
	n, bad := 0, 0
	noChecksum := 0
	for _, e := range entries {
		if e.m == nil || e.data == nil {
			continue
		}
		n++
		if e.untrusted() {
			bad++
			c.add(ObjectCheck, Fail, e.key, e.notTrusted(), nil).Failure = FailIntegrity
			continue
		}
		st, err := c.o.Store.Stat(c.ctx, e.key)
		if err != nil {
			if fatal(err) {
				return err
			}
			bad++
			e.objBad = errors.Is(err, backup.ErrNotFound)
			r := c.add(ObjectCheck, Fail, e.key, "stat: "+oneLine(err), nil)
			if !e.objBad {
				r.Failure = FailTransport
			}
			continue
		}
		mo := e.m.Object
		var problems []string
		if st.Size != mo.CiphertextBytes {
			problems = append(problems, fmt.Sprintf("size %d bytes, manifest says %d", st.Size, mo.CiphertextBytes))
		}
		switch {
		case mo.ChecksumSHA256 != "" && st.ChecksumSHA256 != "":
			if st.ChecksumSHA256 != mo.ChecksumSHA256 {
				problems = append(problems, fmt.Sprintf("S3 SHA-256 checksum %s, manifest says %s", st.ChecksumSHA256, mo.ChecksumSHA256))
			}
		case mo.ETag != "" && st.ETag != "":
			noChecksum++
			if st.ETag != mo.ETag {
				problems = append(problems, fmt.Sprintf("ETag %s, manifest says %s", st.ETag, mo.ETag))
			}
		default:
			noChecksum++
		}
		if mo.VersionID != "" && st.VersionID != "" && st.VersionID != mo.VersionID {
			problems = append(problems, fmt.Sprintf("version %s is not the one uploaded (%s): overwritten since", st.VersionID, mo.VersionID))
		}
		if len(problems) > 0 {
			bad++
			e.objBad = true
			c.add(ObjectCheck, Fail, e.key, "stored object differs from its manifest: "+strings.Join(problems, "; "),
				map[string]any{"size": st.Size, "manifest_size": mo.CiphertextBytes}).Failure = FailIntegrity
		}
	}
	if n > 0 && bad == 0 {
		detail := fmt.Sprintf("%d object(s): size and S3 SHA-256 checksum as in their manifests", n)
		if noChecksum > 0 {
			detail = fmt.Sprintf("%d object(s): size as in their manifests; %d without a server SHA-256 checksum to compare (ETag compared where there is one)", n, noChecksum)
		}
		c.add(ObjectCheck, Pass, "", detail, map[string]any{"objects": n})
	}
	return nil
}

// byNewest returns the entries with a parsed manifest, newest snapshot
// first.
func byNewest(entries []*entry, keep func(*entry) bool) []*entry {
	var out []*entry
	for _, e := range entries {
		if e.m != nil && keep(e) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b *entry) int {
		return cmp.Or(b.m.Snapshot.Compare(a.m.Snapshot), strings.Compare(b.key, a.key))
	})
	return out
}

// readBackups streams the newest trusted backup (every one with ReadAll)
// that has a manifest and a data object, good or not: a check --read is
// how a damaged newest backup is found. A backup whose manifest is not
// trusted is never read against it: it gets an integrity failure that says
// so, when it is newer than the backup read (or with ReadAll).
func (c *checker) readBackups(entries []*entry) {
	cands := byNewest(entries, func(e *entry) bool { return e.data != nil })
	if len(cands) == 0 {
		c.add(Integrity, Fail, "", "nothing to read: no backup with a readable manifest and a data object", nil)
		return
	}
	read := 0
	for _, e := range cands {
		if e.untrusted() {
			c.add(Integrity, Fail, e.key, e.notTrusted()+" (not read)", nil).Failure = FailIntegrity
			continue
		}
		r := c.readChecked(e.key, func() readOutcome { return c.readAtrest(e.key, e.m) })
		if r.Status == Fail && r.Failure == FailIntegrity {
			e.bad = true
		}
		if read++; !c.o.ReadAll {
			return
		}
	}
	if read == 0 {
		c.add(Integrity, Fail, "", "nothing to read: no backup whose manifest this installation's keys verify", nil)
	}
}

// freshness: the newest good backup's snapshot against the RPO.
func (c *checker) freshness(entries []*entry) {
	rpo := c.o.Job.RPO
	good := byNewest(entries, (*entry).good)
	if len(good) == 0 {
		c.add(Freshness, Fail, "", fmt.Sprintf("no complete backup (a verified manifest and the object it describes) under %s; RPO %s",
			backup.JobPrefix(c.o.Job.Prefix, c.o.Job.Name), backup.HumanDuration(rpo)), map[string]any{"rpo_seconds": rpo.Seconds()})
		return
	}
	newest := good[0]
	age := c.o.Now.Sub(newest.m.Snapshot)
	figs := map[string]any{"age_seconds": age.Seconds(), "rpo_seconds": rpo.Seconds(), "backups": len(good)}
	switch {
	case age < -5*time.Minute:
		c.add(Freshness, Warn, newest.key, fmt.Sprintf("newest backup's snapshot is %s in the future: clocks disagree; RPO %s", backup.HumanDuration(-age), backup.HumanDuration(rpo)), figs)
	case rpo > 0 && age > rpo:
		c.add(Freshness, Fail, newest.key, fmt.Sprintf("newest backup %s ago, older than the RPO of %s", backup.HumanDuration(age), backup.HumanDuration(rpo)), figs)
	default:
		c.add(Freshness, Pass, newest.key, fmt.Sprintf("newest backup %s ago, RPO %s", backup.HumanDuration(max(age, 0)), backup.HumanDuration(rpo)), figs)
	}
}

// A sudden drop this large against the previous backup fails the trend.
const dropLimit = 0.5

// trend: the newest good backup against the one before it. Data rarely
// halves overnight; a dump that lost tables or rows usually does.
func (c *checker) trend(entries []*entry) {
	good := byNewest(entries, (*entry).good)
	if len(good) == 0 {
		return
	}
	cur := good[0].m
	if len(good) == 1 {
		c.add(Trend, Pass, good[0].key, fmt.Sprintf("%s of SQL, %d rows in %s; no earlier good backup to compare with",
			size(cur.Object.PlaintextBytes), totalRows(cur), tables(len(cur.Tables))), nil)
		return
	}
	prev := good[1].m
	curRows, prevRows := totalRows(cur), totalRows(prev)
	figs := map[string]any{
		"bytes": cur.Object.PlaintextBytes, "previous_bytes": prev.Object.PlaintextBytes,
		"rows": curRows, "previous_rows": prevRows,
		"tables": len(cur.Tables), "previous_tables": len(prev.Tables),
	}
	since := "since the backup of " + prev.Snapshot.UTC().Format("2006-01-02 15:04Z")
	var fails, warns []string
	if d := drop(prev.Object.PlaintextBytes, cur.Object.PlaintextBytes); d > dropLimit {
		fails = append(fails, fmt.Sprintf("SQL size down %.0f%% (%s → %s)", 100*d, size(prev.Object.PlaintextBytes), size(cur.Object.PlaintextBytes)))
	}
	if d := drop(prevRows, curRows); d > dropLimit {
		fails = append(fails, fmt.Sprintf("rows down %.0f%% (%d → %d)", 100*d, prevRows, curRows))
	}
	now := map[[2]string]int64{}
	for _, t := range cur.Tables {
		now[[2]string{t.Database, t.Name}] = t.Rows
	}
	for _, t := range prev.Tables {
		rows, ok := now[[2]string{t.Database, t.Name}]
		switch {
		case !ok:
			warns = append(warns, fmt.Sprintf("table %s.%s is gone (had %d rows)", t.Database, t.Name, t.Rows))
		case rows == 0 && t.Rows > 0:
			fails = append(fails, fmt.Sprintf("table %s.%s has 0 rows, had %d", t.Database, t.Name, t.Rows))
		}
	}
	switch {
	case len(fails) > 0:
		c.add(Trend, Fail, good[0].key, strings.Join(append(fails, warns...), "; ")+" "+since, figs)
	case len(warns) > 0:
		c.add(Trend, Warn, good[0].key, strings.Join(warns, "; ")+" "+since, figs)
	default:
		c.add(Trend, Pass, good[0].key, fmt.Sprintf("%s of SQL, %d rows in %s; previous %s, %d rows in %s: no sudden drop",
			size(cur.Object.PlaintextBytes), curRows, tables(len(cur.Tables)), size(prev.Object.PlaintextBytes), prevRows, tables(len(prev.Tables))), figs)
	}
}

func tables(n int) string {
	if n == 1 {
		return "1 table"
	}
	return fmt.Sprintf("%d tables", n)
}

func totalRows(m *backup.Manifest) int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

// drop is the fraction by which cur is below prev (0 if it is not).
func drop(prev, cur int64) float64 {
	if prev <= 0 || cur >= prev {
		return 0
	}
	return float64(prev-cur) / float64(prev)
}

var checkOrder = []string{Freshness, Completeness, Uploads, ManifestSig, ObjectCheck, Trend, Integrity,
	Versioning, ObjectLock, Encryption, Lifecycle, Canary}

// sortResults puts the records in the order people read them: is there a
// recent backup first, the bucket's settings last.
func (c *checker) sortResults() {
	rank := func(check string) int {
		if i := slices.Index(checkOrder, check); i >= 0 {
			return i
		}
		return len(checkOrder)
	}
	slices.SortStableFunc(c.out, func(a, b Result) int { return rank(a.Check) - rank(b.Check) })
}
