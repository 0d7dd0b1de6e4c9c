package journal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// monthlyJournal writes 5 entries in each of 10 months (a segment each),
// every checkpoint copied to a DirAnchor.
func monthlyJournal(t *testing.T) (dir string, a DirAnchor, start time.Time) {
	t.Helper()
	dir, a = t.TempDir(), DirAnchor{Dir: t.TempDir()}
	start = time.Date(2026, 1, 15, 8, 0, 0, 0, time.UTC)
	for m := 0; m < 10; m++ {
		at := start.AddDate(0, m, 0)
		j := mustOpen(t, dir, fixedKey(t), Options{Anchor: a, Now: func() time.Time { return at }})
		appendN(t, j, m*5, 5)
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir, a, start
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "segment-*.jsonl"))
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func TestPruneKeepsAVerifiableJournal(t *testing.T) {
	dir, a, start := monthlyJournal(t)
	if n := len(segments(t, dir)); n != 10 {
		t.Fatalf("%d segments, want one a month", n)
	}
	kept := []KeptCheckpoint{{File: "cp-feb.txt", Note: readAnchored(t, a, 10)}}
	now := start.AddDate(0, 10, 0) // 2026-11-15: January to May (the 15th) are beyond 180 days
	key := fixedKey(t)

	dry, err := Prune(context.Background(), dir, key, a, 180*24*time.Hour, now, true)
	if err != nil || dry.Through != 25 || len(dry.Segments) != 5 || len(segments(t, dir)) != 10 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	res, err := Prune(context.Background(), dir, key, a, 180*24*time.Hour, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Through != 25 || res.Entries != 25 || !strings.Contains(res.Reason, "newer than the retention") {
		t.Fatalf("prune: %+v, %d segments left", res, len(segments(t, dir)))
	}
	rep, err := Verify(dir, pub(key), a)
	if err != nil {
		t.Fatalf("verify after prune: %v", err)
	}
	if left := segments(t, dir); len(left) < 5 || left[0] != "segment-000006.jsonl" {
		t.Fatalf("segments left: %v", left)
	}
	if rep.Base == nil || rep.Base.Seq != 25 || rep.Entries != 51 {
		t.Fatalf("report %+v (base %+v)", rep, rep.Base)
	}
	// The prune is journaled, and appends go on.
	var pruned []Entry
	for e, err := range Query(dir, Filter{Kind: "journal.prune"}) {
		if err != nil {
			t.Fatal(err)
		}
		pruned = append(pruned, e)
	}
	if len(pruned) != 1 || pruned[0].Figures["through"] != float64(25) {
		t.Fatalf("journal.prune entries: %+v", pruned)
	}
	j := mustOpen(t, dir, key, Options{Anchor: a, Now: func() time.Time { return now }})
	appendN(t, j, 60, 2)
	j.Close()
	if _, err := Verify(dir, pub(key), a); err != nil {
		t.Fatalf("verify after appending: %v", err)
	}
	// A checkpoint kept before the pruned prefix is said to be out of reach,
	// not counted as a rewrite.
	_, results, err := VerifyFrom(context.Background(), dir, pub(key), a, kept)
	if err != nil || !results[0].Pruned || results[0].Extends {
		t.Fatalf("kept below the base: %+v %v", results, err)
	}
	// A second prune later goes on from the base.
	res, err = Prune(context.Background(), dir, key, a, 180*24*time.Hour, now.AddDate(0, 2, 0), false)
	if err != nil || res.Through != 35 || res.Entries != 10 {
		t.Fatalf("second prune: %+v %v", res, err)
	}
	if _, err := Verify(dir, pub(key), a); err != nil {
		t.Fatalf("verify after the second prune: %v", err)
	}
}

func readAnchored(t *testing.T, a DirAnchor, size int) []byte {
	t.Helper()
	b, err := a.Get(context.Background(), anchorName(size))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPruneRefusesAndTamperShows(t *testing.T) {
	dir, a, start := monthlyJournal(t)
	key := fixedKey(t)
	now := start.AddDate(0, 10, 0)
	if _, err := Prune(context.Background(), dir, key, nil, 180*24*time.Hour, now, false); err == nil || !strings.Contains(err.Error(), "needs journal.anchor") {
		t.Fatalf("without an anchor: %v", err)
	}
	if _, err := Prune(context.Background(), dir, key, a, 180*24*time.Hour, now, false); err != nil {
		t.Fatal(err)
	}
	base, _ := os.ReadFile(filepath.Join(dir, baseFile))

	// An edited base (another hash for the last pruned entry).
	i := strings.Index(string(base), `"hash": "`) + len(`"hash": "`)
	edited := append([]byte(nil), base...)
	edited[i] = "01"[(edited[i]-'0'+1)%2]
	os.WriteFile(filepath.Join(dir, baseFile), edited, 0o640)
	var p *Problem
	if _, err := Verify(dir, pub(key), a); !errors.As(err, &p) || p.File != baseFile {
		t.Errorf("edited base: %v", err)
	}
	// No base at all: the missing entries show.
	os.Remove(filepath.Join(dir, baseFile))
	if _, err := Verify(dir, pub(key), a); !errors.As(err, &p) || p.Kind != ProblemSeq {
		t.Errorf("base deleted: %v", err)
	}
	os.WriteFile(filepath.Join(dir, baseFile), base, 0o640)
	if _, err := Verify(dir, pub(key), a); err != nil {
		t.Fatalf("base restored: %v", err)
	}
}

// A prune interrupted after writing the base and before deleting the
// segments leaves a journal that verifies; the next prune finishes it.
func TestInterruptedPruneFinishes(t *testing.T) {
	dir, a, start := monthlyJournal(t)
	key := fixedKey(t)
	now := start.AddDate(0, 10, 0)
	saved := map[string][]byte{}
	for _, s := range segments(t, dir)[:3] {
		saved[s], _ = os.ReadFile(filepath.Join(dir, s))
	}
	if _, err := Prune(context.Background(), dir, key, a, 180*24*time.Hour, now, false); err != nil {
		t.Fatal(err)
	}
	after := len(segments(t, dir))
	for name, b := range saved { // as if the deletes never happened
		os.WriteFile(filepath.Join(dir, name), b, 0o640)
	}
	if _, err := Verify(dir, pub(key), a); err != nil {
		t.Fatalf("verify with the pruned segments still there: %v", err)
	}
	res, err := Prune(context.Background(), dir, key, a, 180*24*time.Hour, now, false)
	if err != nil || len(segments(t, dir)) != after || res.Through != 0 || len(res.Segments) != 3 {
		t.Fatalf("second prune: %+v %v, %d segments", res, err, len(segments(t, dir)))
	}
}
