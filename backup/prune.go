package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// PruneOptions say which of a job's backups Prune may delete.
type PruneOptions struct {
	Store  ObjectStore
	Job    string
	Prefix string // the job's prefix in the config (JobPrefix adds the job)
	// Retention: a backup stored longer ago than this is expired.
	Retention time.Duration
	// KeepLast is how many of the newest complete backups are kept whatever
	// their age (at least 1: the newest complete backup always stays).
	KeepLast int
	// Keep are data-object keys that must stay, with the reason.
	Keep map[string]string
	// KeepSince, if set, gives more keys to keep, from what happened since
	// the oldest backup in the bucket was stored: the backup the newest
	// passing drill restored (the journal says which; an older drill can
	// only have restored a backup that is gone).
	KeepSince func(oldest time.Time) (map[string]string, error)
	// Keys verify manifests: only a backup whose manifest one of them
	// signed, and that describes its object, counts as complete.
	Keys Keys
	Now  time.Time
	// DryRun lists what would go and deletes nothing.
	DryRun bool
	// Deleted is called after each backup is deleted, before the next one
	// is touched: the caller journals it. An error stops the pruning, so
	// no deletion goes unrecorded but the one that failed to record.
	Deleted func(PruneItem) error
}

// PruneItem is what Prune did, or would do, with one expired backup (or
// checkpoint copy): deleted it, or kept it and why.
type PruneItem struct {
	Record string    `json:"record"` // "prune"
	Job    string    `json:"job"`
	Key    string    `json:"key"`    // the data object (for a backup)
	Action string    `json:"action"` // deleted, would delete, kept
	Reason string    `json:"reason"`
	Stored time.Time `json:"stored"` // when the server stored it (LastModified)
	AgeSec float64   `json:"age_seconds"`
	Bytes  int64     `json:"bytes"` // object and manifest together
	// DeletableAt is when an object under object lock may go.
	DeletableAt *time.Time `json:"deletable_at,omitempty"`
	// Objects are the keys deleted (or to delete), manifest first.
	Objects []string `json:"objects,omitempty"`
}

// Prune actions.
const (
	PruneDeleted     = "deleted"
	PruneWouldDelete = "would delete"
	PruneKept        = "kept"
)

// pruneEntry is one backup found under the job's prefix: the data object,
// its manifest, or both.
type pruneEntry struct {
	key            string
	data, manifest *ObjectInfo
}

func (e *pruneEntry) stored() time.Time {
	if e.data != nil {
		return e.data.LastModified
	}
	return e.manifest.LastModified
}

func (e *pruneEntry) bytes() int64 {
	var n int64
	for _, o := range []*ObjectInfo{e.data, e.manifest} {
		if o != nil {
			n += o.Size
		}
	}
	return n
}

// Prune deletes the job's backups stored longer ago than the retention:
// whole backups, manifest first (without it the object is no backup, so a
// failure between the two deletes leaves an orphan, never a manifest that
// points at nothing), then the object. It never deletes
//
//   - one of the KeepLast newest complete backups (so never the newest),
//   - a backup named in Keep (the last one a drill restored),
//   - an object under object lock: atrest decides this itself, from the
//     bucket's default retention counted from the object's time and any
//     per-object retention, because some servers let a versioned delete
//     through a lock (it only adds a delete marker).
//
// Objects of the job without their other half (a run that died, a
// manifest left alone) are deleted once expired: they are not backups.
// It returns one item per expired backup, deleted or kept, oldest first.
// Anything it cannot read (listing, lock settings, a recent manifest) stops
// it before it deletes anything: pruning on a guess could delete the only
// good backup.
func Prune(ctx context.Context, o PruneOptions) ([]PruneItem, error) {
	if o.KeepLast < 1 {
		return nil, fmt.Errorf("prune %s: keep_last %d: at least the newest backup stays", o.Job, o.KeepLast)
	}
	if o.Retention <= 0 {
		return nil, fmt.Errorf("prune %s: retention %s", o.Job, o.Retention)
	}
	if len(o.Keys) == 0 {
		// Without a key no backup is complete, and the newest would go.
		return nil, fmt.Errorf("prune %s: no key to verify manifests with: nothing deleted", o.Job)
	}
	prefix := JobPrefix(o.Prefix, o.Job)
	entries, err := listForPrune(ctx, o.Store, prefix)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w", o.Job, err)
	}
	lock, err := bucketLock(ctx, o.Store)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w", o.Job, err)
	}
	keep := map[string]string{}
	for k, why := range o.Keep {
		keep[k] = why
	}
	if o.KeepSince != nil && len(entries) > 0 {
		oldest := entries[0].stored()
		for _, e := range entries {
			if e.stored().Before(oldest) {
				oldest = e.stored()
			}
		}
		more, err := o.KeepSince(oldest)
		if err != nil {
			return nil, fmt.Errorf("prune %s: %w", o.Job, err)
		}
		for k, why := range more {
			keep[k] = why
		}
	}
	// Newest first: the KeepLast newest complete backups stay.
	complete := 0
	for _, e := range slices.Backward(entries) {
		if complete == o.KeepLast {
			break
		}
		if e.data == nil || e.manifest == nil {
			continue
		}
		ok, err := o.completeBackup(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("prune %s: %w", o.Job, err)
		}
		if !ok {
			continue
		}
		complete++
		if _, set := keep[e.key]; !set {
			keep[e.key] = fmt.Sprintf("one of the newest %d complete backups (keep_last)", o.KeepLast)
			if complete == 1 {
				keep[e.key] = "the newest complete backup"
			}
		}
	}
	var out []PruneItem
	for _, e := range entries { // oldest first
		age := o.Now.Sub(e.stored())
		if age <= o.Retention {
			continue
		}
		it := PruneItem{Record: "prune", Job: o.Job, Key: e.key, Stored: e.stored(), AgeSec: age.Seconds(), Bytes: e.bytes()}
		if e.manifest != nil {
			it.Objects = append(it.Objects, ManifestKey(e.key))
		}
		if e.data != nil {
			it.Objects = append(it.Objects, e.key)
		}
		if why, ok := keep[e.key]; ok {
			it.Action, it.Reason = PruneKept, why
			out = append(out, it)
			continue
		}
		until, err := lock.until(ctx, o.Store, e.data, e.manifest)
		if err != nil {
			it.Action, it.Reason = PruneKept, "object lock unreadable, so it stays: "+oneLine(err)
			out = append(out, it)
			continue
		}
		if until.After(o.Now) {
			it.Action, it.DeletableAt = PruneKept, &until
			it.Reason = "under object lock until " + until.UTC().Format(time.RFC3339)
			out = append(out, it)
			continue
		}
		it.Reason = fmt.Sprintf("stored %s ago, retention %s", HumanDuration(age), HumanDuration(o.Retention))
		switch {
		case e.manifest == nil:
			it.Reason += "; a manifest without its object, not a backup"
		case e.data == nil:
			it.Reason += "; an object without its manifest (a run that died), not a backup"
		}
		if o.DryRun {
			it.Action = PruneWouldDelete
		} else {
			it.Action = PruneDeleted
			if err := deleteAll(ctx, o.Store, it.Objects); err != nil {
				return out, fmt.Errorf("prune %s: %w", o.Job, err)
			}
		}
		out = append(out, it)
		if !o.DryRun && o.Deleted != nil {
			if err := o.Deleted(it); err != nil {
				return out, fmt.Errorf("prune %s: %w", o.Job, err)
			}
		}
	}
	return out, nil
}

// deleteAll deletes keys in order and stops at the first failure.
func deleteAll(ctx context.Context, s ObjectStore, keys []string) error {
	for _, k := range keys {
		if err := s.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// listForPrune pairs the job's data objects with their manifests, oldest
// first (keys carry the UTC start time).
func listForPrune(ctx context.Context, s ObjectStore, prefix string) ([]*pruneEntry, error) {
	listed, err := ListBackups(ctx, s, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]*pruneEntry, len(listed))
	for i, l := range listed {
		out[i] = &pruneEntry{key: l.Key, data: l.Data, manifest: l.Manifest}
	}
	return out, nil
}

// completeBackup reports whether e's manifest parses, is signed by this
// installation, names this job and describes this very object (its size
// too): what a drill would restore. A manifest that cannot be read is an
// error, not a "no".
func (o *PruneOptions) completeBackup(ctx context.Context, e *pruneEntry) (bool, error) {
	m, err := FetchManifest(ctx, o.Store, ManifestKey(e.key))
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case errors.Is(err, errBadManifest):
		return false, nil
	case err != nil:
		return false, err
	}
	return m.Trust(o.Keys, o.Job, e.key) == nil && m.Object.CiphertextBytes == e.data.Size, nil
}

var errBadManifest = errors.New("not a valid manifest")

// FetchManifest reads and parses the manifest at key, at most
// MaxManifestBytes. A manifest that is there and does not parse wraps
// errBadManifest; one that is missing wraps ErrNotFound.
func FetchManifest(ctx context.Context, s ObjectStore, key string) (*Manifest, error) {
	rc, _, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", key, err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w: %v", key, errBadManifest, err)
	}
	return m, nil
}

// objectLock is what the bucket's lock settings say about deleting.
type objectLock struct {
	enabled    bool          // objects may carry a retention of their own
	defaultFor time.Duration // bucket default retention, counted from an object's time; 0 none
}

// bucketLock reads the bucket's object-lock configuration. A server that
// does not implement it has no lock; one that fails to answer stops the
// prune.
func bucketLock(ctx context.Context, s ObjectStore) (objectLock, error) {
	p, err := s.Posture(ctx)
	if err != nil {
		return objectLock{}, err
	}
	switch p.ObjectLock.State {
	case StateError:
		return objectLock{}, fmt.Errorf("object lock settings unreadable (%s): cannot tell what is locked", p.ObjectLock.Detail)
	case StateEnabled:
		return objectLock{enabled: true, defaultFor: time.Duration(p.ObjectLock.Days) * 24 * time.Hour}, nil
	}
	return objectLock{}, nil
}

// until is when the last of objs stops being locked: the bucket default
// from the object's time, or its own retention where the store reads one
// back, whichever is later.
func (l objectLock) until(ctx context.Context, s ObjectStore, objs ...*ObjectInfo) (time.Time, error) {
	var until time.Time
	if !l.enabled {
		return until, nil // no lock on the bucket: no object can carry one
	}
	r, canRead := s.(Retainer)
	for _, oi := range objs {
		if oi == nil {
			continue
		}
		if l.defaultFor > 0 {
			if t := oi.LastModified.Add(l.defaultFor); t.After(until) {
				until = t
			}
		}
		if canRead {
			ret, err := r.Retention(ctx, oi.Key, "")
			if err != nil && !errors.Is(err, ErrNotImplemented) {
				return time.Time{}, err
			}
			if ret.Until.After(until) {
				until = ret.Until
			}
		}
	}
	return until, nil
}

// AnchorPruneOptions say which checkpoint copies JournalAnchor.Prune may
// delete.
type AnchorPruneOptions struct {
	Retention time.Duration // journal.retention
	Now       time.Time
	DryRun    bool
	Deleted   func(PruneItem) error // as PruneOptions.Deleted
}

// Prune deletes the checkpoint copies stored longer ago than the journal's
// retention, as Prune does backups: never the newest copy (verification
// compares the journal with it), never one under object lock.
func (a JournalAnchor) Prune(ctx context.Context, o AnchorPruneOptions) ([]PruneItem, error) {
	if o.Retention <= 0 {
		return nil, fmt.Errorf("prune journal anchor: retention %s", o.Retention)
	}
	var copies []ObjectInfo
	for oi, err := range a.Store.List(ctx, a.Prefix+anchorCheckpoints) {
		if err != nil {
			return nil, fmt.Errorf("prune journal anchor: %w", err)
		}
		if strings.HasSuffix(oi.Key, ".note") {
			copies = append(copies, oi)
		}
	}
	// Names carry the zero-padded journal size: the last in key order is
	// the newest checkpoint.
	slices.SortFunc(copies, func(x, y ObjectInfo) int { return strings.Compare(x.Key, y.Key) })
	if len(copies) < 2 {
		return nil, nil
	}
	lock, err := bucketLock(ctx, a.Store)
	if err != nil {
		return nil, fmt.Errorf("prune journal anchor: %w", err)
	}
	var out []PruneItem
	for _, oi := range copies[:len(copies)-1] {
		age := o.Now.Sub(oi.LastModified)
		if age <= o.Retention {
			continue
		}
		it := PruneItem{Record: "prune", Job: "journal anchor", Key: oi.Key, Stored: oi.LastModified,
			AgeSec: age.Seconds(), Bytes: oi.Size, Objects: []string{oi.Key}}
		until, err := lock.until(ctx, a.Store, &oi)
		switch {
		case err != nil:
			it.Action, it.Reason = PruneKept, "object lock unreadable, so it stays: "+oneLine(err)
		case until.After(o.Now):
			it.Action, it.DeletableAt = PruneKept, &until
			it.Reason = "under object lock until " + until.UTC().Format(time.RFC3339)
		case o.DryRun:
			it.Action = PruneWouldDelete
		default:
			it.Action = PruneDeleted
			if err := a.Store.Delete(ctx, oi.Key); err != nil {
				return out, fmt.Errorf("prune journal anchor: %w", err)
			}
		}
		if it.Action != PruneKept {
			it.Reason = fmt.Sprintf("stored %s ago, journal retention %s", HumanDuration(age), HumanDuration(o.Retention))
		}
		out = append(out, it)
		if it.Action == PruneDeleted && o.Deleted != nil {
			if err := o.Deleted(it); err != nil {
				return out, fmt.Errorf("prune journal anchor: %w", err)
			}
		}
	}
	return out, nil
}

// anchorCheckpoints is where audit/journal puts its checkpoint copies
// under the anchor's prefix ("checkpoints/000…1000.note").
const anchorCheckpoints = "checkpoints/"
