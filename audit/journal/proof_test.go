package journal

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestProveAndCheckEntries(t *testing.T) {
	dir := t.TempDir()
	key := fixedKey(t)
	j := mustOpen(t, dir, key, Options{SegmentEntries: 7})
	appendN(t, j, 0, 30)
	if err := j.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 30, 2) // after the checkpoint: not provable yet
	j.Close()
	if _, err := Prove(dir, []int{5, 31}); err == nil {
		// Close signed a checkpoint over 32 entries: 31 is covered now.
	} else {
		t.Fatalf("prove 31 after close: %v", err)
	}
	p, err := Prove(dir, []int{20, 5, 6, 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Lines) != 4 || p.Seqs[0] != 5 || p.Size != 32 {
		t.Fatalf("proven %v of size %d", p.Seqs, p.Size)
	}
	if cp, err := CheckProven(p, pub(key)); err != nil || cp.Size != 32 {
		t.Fatalf("check: %v", err)
	}

	edited := *p
	edited.Lines = append([][]byte(nil), p.Lines...)
	edited.Lines[1] = bytes.Replace(p.Lines[1], []byte(`"outcome":"ok"`), []byte(`"outcome":"no"`), 1)
	if _, err := CheckProven(&edited, pub(key)); err == nil || !strings.Contains(err.Error(), "entry 6: hash mismatch") {
		t.Errorf("edited entry: %v", err)
	}
	swapped := *p
	swapped.Proofs = append(swapped.Proofs[:0:0], p.Proofs...)
	swapped.Proofs[3] = p.Proofs[0]
	if _, err := CheckProven(&swapped, pub(key)); err == nil || !strings.Contains(err.Error(), "entry 20: not in the signed tree") {
		t.Errorf("wrong proof: %v", err)
	}
	other, _ := testKey(t)
	if _, err := CheckProven(p, pub(other)); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Errorf("other key: %v", err)
	}

	msg, err := SignNote(key, "atrest.bundle", "atrest.bundle/v1\nsha256 abc\n")
	if err != nil {
		t.Fatal(err)
	}
	if text, err := OpenNote(msg, pub(key)); err != nil || text != "atrest.bundle/v1\nsha256 abc\n" {
		t.Fatalf("open note: %q %v", text, err)
	}
	if _, err := OpenNote(msg, pub(other)); err == nil {
		t.Fatal("a note opened with another key")
	}
}
