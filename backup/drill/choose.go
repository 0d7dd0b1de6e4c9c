package drill

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/atrest/atrest/backup"
)

// choice is the backup a drill restores.
type choice struct {
	key      string
	info     backup.ObjectInfo // the data object as listed or stat'ed
	manifest *backup.Manifest  // nil for a third-party dump
	snapshot time.Time         // zero without a manifest
}

// choose picks the backup: the one asked for, the newest complete one, or
// a random complete one within the window. Complete means, for atrest
// backups, a data object with a manifest that parses, is signed by this
// installation's key and describes that object; a newer backup without one
// is skipped with a note (backup check reports it). Listing errors mean the
// drill cannot run; a manifest that cannot be read twice is a transport
// failure, not a reason to fall back to an older backup.
func (d *drill) choose() (*choice, error) {
	if d.o.BackupKey != "" {
		return d.explicit(d.o.BackupKey)
	}
	var cands []*choice
	var err error
	if d.o.Job.Format != "atrest" {
		cands, err = d.listDumps()
	} else {
		cands, err = d.listBackups()
	}
	if err != nil {
		return nil, err
	}
	total := len(cands)
	if d.o.Select == "random" {
		since := d.start.Add(-d.o.SelectWindow)
		cands = slices.DeleteFunc(cands, func(c *choice) bool { return c.info.LastModified.Before(since) })
		intn := d.o.Intn
		if intn == nil {
			intn = rand.IntN
		}
		// A random order tried until a complete backup turns up picks
		// uniformly among the complete ones without reading every manifest.
		for i := len(cands) - 1; i > 0; i-- {
			j := intn(i + 1)
			cands[i], cands[j] = cands[j], cands[i]
		}
	}
	var skipped []string
	for _, c := range cands {
		if c.manifest == nil && d.o.Job.Format == "atrest" {
			why, err := d.loadManifest(c)
			if err != nil {
				return nil, err
			}
			if why != "" {
				skipped = append(skipped, c.key+": "+why)
				continue
			}
		}
		for _, s := range skipped {
			d.note("skipped %s", s)
		}
		return c, nil
	}
	where := d.where()
	detail := fmt.Sprintf("no complete backup under %s", where)
	if d.o.Select == "random" {
		detail = fmt.Sprintf("no complete backup under %s stored in the last %s (%d older)", where, backup.HumanDuration(d.o.SelectWindow), total-len(cands))
	}
	if len(skipped) > 0 {
		detail += fmt.Sprintf("; %d without a valid manifest (%s)", len(skipped), strings.Join(skipped, "; "))
	}
	return nil, d.fail(FailNoBackup, "%s", detail)
}

func (d *drill) where() string {
	if d.o.Job.Format != "atrest" {
		return d.o.Job.KeyPattern
	}
	return backup.JobPrefix(d.o.Job.Prefix, d.o.Job.Name)
}

// listBackups lists the job's data objects that have a manifest beside
// them, newest first (keys embed the start time). Data objects of either
// suite count: a job may have switched.
func (d *drill) listBackups() ([]*choice, error) {
	prefix := backup.JobPrefix(d.o.Job.Prefix, d.o.Job.Name)
	listed, err := backup.ListBackups(d.ctx, d.o.Store, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s: %s", prefix, oneLine(err))
	}
	var out []*choice
	for _, l := range slices.Backward(listed) {
		if l.Data != nil && l.Manifest != nil {
			out = append(out, &choice{key: l.Key, info: *l.Data})
		}
	}
	return out, nil
}

// listDumps lists the objects matching the job's key pattern, newest
// first; empty objects are no dump.
func (d *drill) listDumps() ([]*choice, error) {
	pattern := d.o.Job.KeyPattern
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("key_pattern %q is not a valid pattern", pattern)
	}
	prefix := pattern
	if i := strings.IndexAny(pattern, `*?[\`); i >= 0 {
		prefix = pattern[:i]
	}
	var out []*choice
	for oi, err := range d.o.Store.List(d.ctx, prefix) {
		if err != nil {
			return nil, fmt.Errorf("list %s: %s", prefix, oneLine(err))
		}
		if ok, _ := path.Match(pattern, oi.Key); ok && oi.Size > 0 {
			out = append(out, &choice{key: oi.Key, info: oi})
		}
	}
	slices.SortFunc(out, func(a, b *choice) int {
		return cmp.Or(b.info.LastModified.Compare(a.info.LastModified), strings.Compare(b.key, a.key))
	})
	return out, nil
}

// explicit is the backup named by --backup: a data object or its manifest.
func (d *drill) explicit(key string) (*choice, error) {
	if d.o.Job.Format == "atrest" {
		key = strings.TrimSuffix(key, backup.ManifestSuffix)
	}
	oi, err := d.o.Store.Stat(d.ctx, key)
	switch {
	case errors.Is(err, backup.ErrNotFound):
		return nil, d.fail(FailNoBackup, "%s: no such object", key)
	case err != nil:
		return nil, fmt.Errorf("stat %s: %s", key, oneLine(err))
	}
	c := &choice{key: key, info: oi}
	if d.o.Job.Format != "atrest" {
		return c, nil
	}
	why, err := d.loadManifest(c)
	switch {
	case err != nil:
		return nil, err
	case why == "no manifest":
		return nil, d.fail(FailNoBackup, "%s: no manifest beside it: not a complete backup", key)
	case why != "":
		return nil, d.fail(FailIntegrity, "%s: %s", key, why)
	}
	return c, nil
}

// loadManifest reads, parses and verifies c's manifest and sets it; why
// says why it is not valid. The read is retried once; failing twice is a
// transport failure.
func (d *drill) loadManifest(c *choice) (why string, err error) {
	mk := backup.ManifestKey(c.key)
	var data []byte
	var first error
	for try := 0; try < 2; try++ {
		data, err = d.getSmall(mk)
		if err == nil || errors.Is(err, backup.ErrNotFound) {
			break
		}
		if first == nil {
			first = err
		}
	}
	switch {
	case errors.Is(err, backup.ErrNotFound):
		return "no manifest", nil
	case err != nil:
		return "", d.fail(FailTransport, "read manifest %s: %s (the same on a second read)", mk, oneLine(err))
	case first != nil:
		d.rec.Retried = true
		d.note("reading the manifest failed once (%s) and worked when retried", oneLine(first))
	}
	m, err := backup.ParseManifest(data)
	if err != nil {
		return oneLine(err), nil
	}
	// A manifest this installation's keys do not verify vouches for
	// nothing: the backup is refused before a byte of it is read (an
	// integrity failure when named; skipped, with a note, when chosen).
	if err := m.Trust(d.o.Keys, d.o.Job.Name, c.key); err != nil {
		return "not trusted: " + oneLine(err), nil // Trust's errors begin "manifest …"
	}
	c.manifest, c.snapshot = m, m.Snapshot
	return "", nil
}

func (d *drill) getSmall(key string) ([]byte, error) {
	rc, _, err := d.o.Store.Get(d.ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, backup.MaxManifestBytes+1))
	if err != nil {
		return nil, err
	}
	return data, nil
}
