package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// seqJournal is a journal of n entries one minute apart (times from t0),
// kinds and outcomes cycling, in segments of segEntries.
func seqJournal(t testing.TB, n, segEntries int) (dir string, t0 time.Time) {
	t.Helper()
	key, _ := testKey(t)
	dir = t.TempDir()
	t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	j := mustOpen(t, dir, key, Options{SegmentEntries: segEntries, Now: func() time.Time { return now }})
	defer j.Close()
	kinds := []string{"scan.files", "backup.run", "backup.check", "drill.run", "login.fail"}
	for i := range n {
		now = t0.Add(time.Duration(i) * time.Minute)
		e := Entry{Kind: kinds[i%len(kinds)], Subject: fmt.Sprintf("job-%d", i%3), Outcome: []string{"ok", "fail"}[i%7/6],
			Figures: map[string]any{"i": i}, Detail: strings.Repeat("x", i%200)}
		if _, err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	return dir, t0
}

func seqs(t *testing.T, it func(func(Entry, error) bool), limit int) []int {
	t.Helper()
	var out []int
	for e, err := range it {
		if err != nil {
			t.Fatalf("after %v: %v", out, err)
		}
		out = append(out, e.Seq)
		if len(out) == limit {
			break
		}
	}
	return out
}

// Newest and Oldest yield what Query yields for the same filter, in their
// order, wherever the bounds fall: inside a segment, on a border, before
// or after everything.
func TestNewestAndOldestAgreeWithQuery(t *testing.T) {
	dir, t0 := seqJournal(t, 500, 37)
	min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	filters := []Filter{
		{},
		{Kind: "backup"},
		{Kind: "drill.run", Outcome: "fail"},
		{Subject: "job-2", Since: min(100), Until: min(400)},
		{Since: min(37), Until: min(74)}, // segment borders
		{Until: min(0)},
		{Since: min(499)},
		{Since: min(600)},
		{Until: min(10000)},
		{Before: 250},
		{After: 250},
		{After: 36, Before: 38},
		{After: 10, Before: 11},
		{Before: 1},
		{After: 500},
		{Kind: "login", Before: 300, Since: min(150)},
		{Since: min(123).Add(30 * time.Second), Until: min(321).Add(-time.Second)},
	}
	for _, f := range filters {
		var want []int
		for e, err := range Query(dir, f) {
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, e.Seq)
		}
		if got := seqs(t, Oldest(dir, f), 0); !slices.Equal(got, want) {
			t.Errorf("Oldest(%+v) = %v\nwant %v", f, got, want)
		}
		slices.Reverse(want)
		if got := seqs(t, Newest(dir, f), 0); !slices.Equal(got, want) {
			t.Errorf("Newest(%+v) = %v\nwant %v", f, got, want)
		}
	}
	for _, seq := range []int{1, 36, 37, 38, 250, 500} {
		e, err := Lookup(dir, seq)
		if err != nil || e.Seq != seq {
			t.Errorf("Lookup(%d) = %d, %v", seq, e.Seq, err)
		}
	}
	for _, seq := range []int{0, 501, -3} {
		if _, err := Lookup(dir, seq); !errors.Is(err, ErrNoEntry) {
			t.Errorf("Lookup(%d): %v", seq, err)
		}
	}
}

// A torn last line and a line that is no entry show as problems, once, and
// the walk goes on past them.
func TestNewestReportsBadLines(t *testing.T) {
	dir, _ := seqJournal(t, 20, 8)
	segs, _ := filepath.Glob(filepath.Join(dir, "segment-*.jsonl"))
	first, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(first), "\n")
	lines[3] = "not an entry\n"
	if err := os.WriteFile(segs[0], []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":21,"time":"2026-`)
	f.Close()
	var got []int
	var problems []ProblemKind
	for e, err := range Newest(dir, Filter{}) {
		var p *Problem
		switch {
		case errors.As(err, &p):
			problems = append(problems, p.Kind)
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, e.Seq)
		}
	}
	if len(got) != 19 || got[0] != 20 || slices.Contains(got, 4) || !slices.Equal(problems, []ProblemKind{ProblemTorn, ProblemMalformed}) {
		t.Fatalf("entries %v, problems %v", got, problems)
	}
	// A bound search skips the bad line too.
	if e, err := Lookup(dir, 5); err != nil || e.Seq != 5 {
		t.Fatalf("Lookup(5) past a bad line: %d %v", e.Seq, err)
	}
}

// BenchmarkJournalPage reads pages of 50 entries (the newest; the newest
// of one kind; the newest before a time; the newest before an entry
// number) and looks one entry up, in journals of 1k and 1M entries: the
// time per page should be the same for both sizes (the journal page and
// /api/journal do exactly this). cpu-ns/op is the process's CPU time per
// page, which a busy machine disturbs less than ns/op.
func BenchmarkJournalPage(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		dir, t0 := benchJournal(b, n)
		mid := t0.Add(time.Duration(n/2) * time.Second)
		for _, c := range []struct {
			name string
			f    Filter
		}{
			{"newest", Filter{}},
			{"kind", Filter{Kind: "backup.check"}},
			{"until", Filter{Until: mid}},
			{"before", Filter{Before: n / 3}},
		} {
			b.Run(fmt.Sprintf("%s/entries=%d", c.name, n), func(b *testing.B) {
				cpu := cpuTime()
				defer func() { b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op") }()
				for b.Loop() {
					got := 0
					for _, err := range Newest(dir, c.f) {
						if err != nil {
							b.Fatal(err)
						}
						if got++; got == 50 {
							break
						}
					}
					if got != 50 {
						b.Fatalf("%d entries", got)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("lookup/entries=%d", n), func(b *testing.B) {
			cpu := cpuTime()
			defer func() { b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				if _, err := Lookup(dir, n/3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchJournal writes a journal of n entries one second apart, in batches
// (fast to build), kinds cycling as a daemon's would.
func benchJournal(b *testing.B, n int) (string, time.Time) {
	b.Helper()
	key, _ := testKey(b)
	dir := b.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	j := mustOpen(b, dir, key, Options{Now: func() time.Time { return now }, CheckpointEvery: n})
	kinds := []string{"scan.files", "scan.db", "backup.run", "backup.check", "drill.run"}
	batch := make([]Entry, 0, min(1000, n/10))
	for i := range n {
		e := testEntry(i)
		e.Kind = kinds[i%len(kinds)]
		batch = append(batch, e)
		if len(batch) == cap(batch) || i == n-1 {
			now = t0.Add(time.Duration(i) * time.Second)
			if _, err := j.AppendBatch(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	return dir, t0
}
