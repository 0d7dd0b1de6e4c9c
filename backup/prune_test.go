package backup_test

import (
	"bytes"
	"context"
	"crypto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/crypto/suite"
)

// pruneFixture is a job's bucket with backups stored at chosen times.
type pruneFixture struct {
	t     *testing.T
	store *storetest.Mem
	key   crypto.Signer
	clock time.Time
}

func newPruneFixture(t *testing.T) *pruneFixture {
	f := &pruneFixture{t: t, store: storetest.NewMem(), key: testKey(t)}
	f.store.SetClock(func() time.Time { return f.clock })
	return f
}

// put stores a backup of yb-nightly taken at when: its object and, unless
// noManifest, a manifest signed with f.key (or by another key).
func (f *pruneFixture) put(when time.Time, noManifest, otherKey bool) string {
	f.t.Helper()
	signer := f.key
	if otherKey {
		signer = testKey(f.t)
	}
	return f.putSigned(when, noManifest, sampleManifest(), signer)
}

// putSigned stores a backup like m taken at when, its manifest signed by
// signer (of m's suite).
func (f *pruneFixture) putSigned(when time.Time, noManifest bool, m *backup.Manifest, signer crypto.Signer) string {
	f.t.Helper()
	f.clock = when
	s, _ := m.SuiteOf()
	key := backup.ObjectKey("yb/", "yb-nightly", s, when, "")
	data := bytes.Repeat([]byte{1}, 512)
	ctx := context.Background()
	if _, err := f.store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
		f.t.Fatal(err)
	}
	if noManifest {
		return key
	}
	m.Object.Key = key
	if err := m.Sign(signer); err != nil {
		f.t.Fatal(err)
	}
	mb, err := m.Marshal()
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.Put(ctx, backup.ManifestKey(key), bytes.NewReader(mb), int64(len(mb)), backup.PutOptions{}); err != nil {
		f.t.Fatal(err)
	}
	return key
}

func (f *pruneFixture) keys() []string {
	var out []string
	for oi, err := range f.store.List(context.Background(), "yb/") {
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, oi.Key)
	}
	return out
}

func TestPruneDeletesExactlyTheExpired(t *testing.T) {
	f := newPruneFixture(t)
	day0 := time.Date(2026, 10, 1, 1, 30, 0, 0, time.UTC)
	var keys []string
	for i := range 40 { // one a day, 40 days
		keys = append(keys, f.put(day0.AddDate(0, 0, i), false, false))
	}
	orphan := f.put(day0.Add(2*time.Hour), true, false) // a run that died, expired too
	now := day0.AddDate(0, 0, 40)
	var journaled []string
	opts := backup.PruneOptions{Store: f.store, Job: "yb-nightly", Prefix: "yb/", Retention: 30 * 24 * time.Hour,
		KeepLast: 3, Keys: backup.Keys{f.key.Public()}, Now: now,
		KeepSince: func(oldest time.Time) (map[string]string, error) {
			if !oldest.Equal(day0) {
				t.Errorf("KeepSince(%s), want the oldest backup's time %s", oldest, day0)
			}
			return map[string]string{keys[5]: "restored by the last passing drill"}, nil
		},
		Deleted: func(it backup.PruneItem) error {
			journaled = append(journaled, it.Key)
			return nil
		}}

	// A dry run lists and deletes nothing.
	opts.DryRun = true
	dry, err := backup.Prune(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.keys()) != 81 || len(journaled) != 0 {
		t.Fatalf("dry run deleted: %d objects left, %d journaled", len(f.keys()), len(journaled))
	}
	opts.DryRun = false
	items, err := backup.Prune(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	// Stored more than 30 days before day 40: days 0..9 and the orphan;
	// day 5 stays (the drill's).
	var deleted, kept []string
	for _, it := range items {
		switch it.Action {
		case backup.PruneDeleted:
			deleted = append(deleted, it.Key)
		case backup.PruneKept:
			kept = append(kept, it.Key+": "+it.Reason)
		}
	}
	want := append([]string{keys[0], orphan}, keys[1:5]...)
	want = append(want, keys[6:10]...)
	if !slices.Equal(deleted, want) || !slices.Equal(journaled, want) {
		t.Fatalf("deleted %v\njournaled %v\nwant %v", deleted, journaled, want)
	}
	if len(kept) != 1 || !strings.Contains(kept[0], "drill") {
		t.Errorf("kept %v", kept)
	}
	if len(dry) != len(items) || dry[0].Action != backup.PruneWouldDelete {
		t.Errorf("dry run listed %d items (%v), the run %d", len(dry), dry[0].Action, len(items))
	}
	left := f.keys()
	if len(left) != 2*31 {
		t.Errorf("%d objects left, want %d", len(left), 2*31)
	}
	for _, k := range want {
		if slices.Contains(left, k) || slices.Contains(left, backup.ManifestKey(k)) {
			t.Errorf("%s still there", k)
		}
	}
	if it := items[1]; !strings.Contains(it.Reason, "not a backup") || len(it.Objects) != 1 {
		t.Errorf("orphan item %+v", it)
	}
	if it := items[0]; !slices.Equal(it.Objects, []string{backup.ManifestKey(keys[0]), keys[0]}) {
		t.Errorf("a backup goes manifest first: %v", it.Objects)
	}
}

// However old, the newest complete backups stay: a job whose backups have
// been failing for weeks keeps its last good ones.
func TestPruneKeepsTheNewestComplete(t *testing.T) {
	f := newPruneFixture(t)
	day0 := time.Date(2026, 10, 1, 1, 30, 0, 0, time.UTC)
	var keys []string
	for i := range 5 {
		keys = append(keys, f.put(day0.AddDate(0, 0, i), false, false))
	}
	bad := f.put(day0.AddDate(0, 0, 5), false, true)    // signed by another key
	young := f.put(day0.AddDate(0, 0, 99), true, false) // no manifest: not complete, not expired
	items, err := backup.Prune(context.Background(), backup.PruneOptions{Store: f.store, Job: "yb-nightly", Prefix: "yb/",
		Retention: 30 * 24 * time.Hour, KeepLast: 2, Keys: backup.Keys{f.key.Public()},
		Now: day0.AddDate(0, 0, 100)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range items {
		got[it.Key] = it.Action + ": " + it.Reason
	}
	for k, want := range map[string]string{
		keys[0]: "deleted", keys[1]: "deleted", keys[2]: "deleted", bad: "deleted",
		keys[3]: "kept: one of the newest 2", keys[4]: "kept: the newest complete backup",
	} {
		if !strings.HasPrefix(got[k], want) {
			t.Errorf("%s: %q, want %q", k, got[k], want)
		}
	}
	if _, listed := got[young]; listed || len(items) != 6 {
		t.Errorf("items: %v", got)
	}
}

// A job that switched suites has manifests of both under its prefix:
// prune verifies the SM2-signed ones like the Ed25519-signed ones, and
// keeps the newest complete backups whatever their suite. Without the SM2
// key, the sm backups are not this installation's and count for nothing.
func TestPruneVerifiesBothSuites(t *testing.T) {
	f := newPruneFixture(t)
	smKey := signingKey(t, suite.SM)
	day0 := time.Date(2026, 10, 1, 1, 30, 0, 0, time.UTC)
	var keys []string
	for i := range 5 {
		keys = append(keys, f.put(day0.AddDate(0, 0, i), false, false))
	}
	for i := 5; i < 8; i++ {
		keys = append(keys, f.putSigned(day0.AddDate(0, 0, i), false, smManifest(), smKey))
	}
	opts := backup.PruneOptions{Store: f.store, Job: "yb-nightly", Prefix: "yb/", Retention: 30 * 24 * time.Hour,
		KeepLast: 4, Keys: backup.Keys{f.key.Public(), smKey.Public()}, Now: day0.AddDate(0, 0, 100), DryRun: true}
	items, err := backup.Prune(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, it := range items {
		if it.Action == backup.PruneKept {
			kept = append(kept, it.Key)
		}
	}
	if !slices.Equal(kept, keys[4:]) || len(items) != 8 || !strings.HasSuffix(kept[1], ".sql.zst.sm4") {
		t.Errorf("kept %v, want %v", kept, keys[4:])
	}
	opts.Keys = opts.Keys[:1]
	items, err = backup.Prune(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	kept = nil
	for _, it := range items {
		if it.Action == backup.PruneKept {
			kept = append(kept, it.Key)
		}
	}
	if !slices.Equal(kept, keys[1:5]) {
		t.Errorf("without the SM2 key: kept %v, want the four newest standard ones", kept)
	}
	opts.Keys = nil
	if _, err := backup.Prune(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "no key to verify manifests") {
		t.Errorf("prune without keys: %v", err)
	}
}

// An object under lock stays, and the item says when it may go: from the
// bucket's default retention counted from the object's time, or its own.
func TestPruneRespectsObjectLock(t *testing.T) {
	f := newPruneFixture(t)
	day0 := time.Date(2026, 10, 1, 1, 30, 0, 0, time.UTC)
	old := f.put(day0, false, false)
	held := f.put(day0.AddDate(0, 0, 1), false, false)
	f.put(day0.AddDate(0, 0, 50), false, false)
	until := day0.AddDate(0, 0, 70)
	if err := f.store.PutRetention(context.Background(), held, "", backup.Retention{Mode: backup.Governance, Until: until}); err != nil {
		t.Fatal(err)
	}
	on := backup.Setting{State: backup.StateEnabled}
	f.store.SetPosture(backup.Posture{ObjectLock: backup.ObjectLock{Setting: on, Mode: backup.Governance, Days: 45}})
	now := day0.AddDate(0, 0, 60)
	items, err := backup.Prune(context.Background(), backup.PruneOptions{Store: f.store, Job: "yb-nightly", Prefix: "yb/",
		Retention: 30 * 24 * time.Hour, KeepLast: 1, Keys: backup.Keys{f.key.Public()}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Key != old || items[0].Action != backup.PruneDeleted ||
		items[1].Key != held || items[1].Action != backup.PruneKept || items[1].DeletableAt == nil || !items[1].DeletableAt.Equal(until) {
		t.Fatalf("items %+v", items)
	}
	// The bucket default alone: day 50's backup is young, day 0's would be
	// locked until day 45 had it been kept; at day 40 it stays.
	f2 := newPruneFixture(t)
	k := f2.put(day0, false, false)
	f2.put(day0.AddDate(0, 0, 39), false, false)
	f2.store.SetPosture(backup.Posture{ObjectLock: backup.ObjectLock{Setting: on, Mode: backup.Governance, Days: 45}})
	items, err = backup.Prune(context.Background(), backup.PruneOptions{Store: f2.store, Job: "yb-nightly", Prefix: "yb/",
		Retention: 30 * 24 * time.Hour, KeepLast: 1, Keys: backup.Keys{f2.key.Public()}, Now: day0.AddDate(0, 0, 40)})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Key != k || items[0].Action != backup.PruneKept || !items[0].DeletableAt.Equal(day0.AddDate(0, 0, 45)) {
		t.Fatalf("items %+v", items)
	}
	// Lock settings that cannot be read stop the prune before any delete.
	f2.store.SetPosture(backup.Posture{ObjectLock: backup.ObjectLock{Setting: backup.Setting{State: backup.StateError, Detail: "timeout"}}})
	if _, err := backup.Prune(context.Background(), backup.PruneOptions{Store: f2.store, Job: "yb-nightly", Prefix: "yb/",
		Retention: time.Hour, KeepLast: 1, Keys: backup.Keys{f2.key.Public()}, Now: day0.AddDate(0, 0, 90)}); err == nil || !strings.Contains(err.Error(), "object lock settings unreadable") {
		t.Fatalf("unreadable lock: %v", err)
	}
}

func TestAnchorPruneKeepsTheNewest(t *testing.T) {
	store := storetest.NewMem()
	var clock time.Time
	store.SetClock(func() time.Time { return clock })
	a := backup.JournalAnchor{Store: store, Prefix: "journal/host/"}
	day0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, size := range []int{10, 20, 30} {
		clock = day0.AddDate(0, 0, 100*i)
		if err := a.Put(context.Background(), "checkpoints/"+strings.Repeat("0", 14)+string(rune('0'+size/10))+"0.note", []byte("note")); err != nil {
			t.Fatal(err)
		}
	}
	var journaled int
	items, err := a.Prune(context.Background(), backup.AnchorPruneOptions{Retention: 180 * 24 * time.Hour,
		Now: day0.AddDate(0, 0, 500), Deleted: func(backup.PruneItem) error { journaled++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	names, _ := a.List(context.Background(), "checkpoints/")
	if len(items) != 2 || journaled != 2 || len(names) != 1 || !strings.HasSuffix(names[0], "30.note") {
		t.Fatalf("items %+v, left %v", items, names)
	}
}
