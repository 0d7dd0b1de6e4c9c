package journal

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTailerReadsOnlyWhatWasAppended(t *testing.T) {
	key, _ := testKey(t)
	dir := t.TempDir()
	j := mustOpen(t, dir, key, Options{SegmentEntries: 3})
	appendN := func(n int) {
		for range n {
			if _, err := j.Append(Entry{Kind: "scan.files", Subject: "r", Outcome: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	tl := NewTailer(dir)
	poll := func() []int {
		var seqs []int
		bad, err := tl.Poll(func(e Entry) { seqs = append(seqs, e.Seq) })
		if err != nil || len(bad) > 0 {
			t.Fatalf("poll: %v %v", bad, err)
		}
		return seqs
	}
	appendN(4) // crosses a segment border
	if got := poll(); len(got) != 4 || got[0] != 1 || got[3] != 4 {
		t.Fatalf("first poll %v", got)
	}
	if got := poll(); len(got) != 0 {
		t.Fatalf("idle poll %v", got)
	}
	appendN(3)
	if got := poll(); len(got) != 3 || got[0] != 5 {
		t.Fatalf("second poll %v", got)
	}
	j.Close()

	// A crash leaves half a line: no entry, and Torn says so.
	segs, _ := filepath.Glob(filepath.Join(dir, "segment-*.jsonl"))
	f, _ := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":8,"time":`)
	f.Close()
	if got := poll(); len(got) != 0 || !tl.Torn() {
		t.Fatalf("after a torn line: %v torn=%v", got, tl.Torn())
	}
}
