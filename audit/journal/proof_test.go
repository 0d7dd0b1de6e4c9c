package journal

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/tlog"
)

func TestProveAndCheckEntries(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		t.Run(s.Name(), func(t *testing.T) { testProve(t, s) })
	}
}

func testProve(t *testing.T, s suite.Suite) {
	dir := t.TempDir()
	key := keyOf(t, s)
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
	if cp, err := CheckProven(p, key.Public()); err != nil || cp.Size != 32 {
		t.Fatalf("check: %v", err)
	}

	edited := *p
	edited.Lines = append([][]byte(nil), p.Lines...)
	edited.Lines[1] = bytes.Replace(p.Lines[1], []byte(`"outcome":"ok"`), []byte(`"outcome":"no"`), 1)
	if _, err := CheckProven(&edited, key.Public()); err == nil || !strings.Contains(err.Error(), "entry 6: hash mismatch") {
		t.Errorf("edited entry: %v", err)
	}
	swapped := *p
	swapped.Proofs = append(swapped.Proofs[:0:0], p.Proofs...)
	swapped.Proofs[3] = p.Proofs[0]
	if _, err := CheckProven(&swapped, key.Public()); err == nil || !strings.Contains(err.Error(), "entry 20: not in the signed tree") {
		t.Errorf("wrong proof: %v", err)
	}
	other := testKeyOf(t, s)
	if _, err := CheckProven(p, other.Public()); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Errorf("other key: %v", err)
	}

	msg, err := SignNote(key, "atrest.bundle", "atrest.bundle/v1\nsha256 abc\n")
	if err != nil {
		t.Fatal(err)
	}
	if text, err := OpenNote(msg, key.Public()); err != nil || text != "atrest.bundle/v1\nsha256 abc\n" {
		t.Fatalf("open note: %q %v", text, err)
	}
	if _, err := OpenNote(msg, other.Public()); err == nil {
		t.Fatal("a note opened with another key")
	}
}

// For SHA-256 the journal's own inclusion proofs are tlog's, bit for bit,
// and both check them; for SM3 they check against the compact range's root.
func TestInclusionProofsMatchTlog(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		x := newHasher(s)
		var m merkleLevels
		var tree compactRange
		var stored []tlog.Hash
		hr := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(ix))
			for i, k := range ix {
				out[i] = stored[k]
			}
			return out, nil
		})
		for n := 1; n <= 70; n++ {
			data := []byte{byte(n), byte(n >> 8)}
			leaf := x.leaf(data)
			m.add(x, leaf)
			tree.add(x, leaf)
			if s == suite.Standard {
				hs, err := tlog.StoredHashes(int64(n-1), data, hr)
				if err != nil {
					t.Fatal(err)
				}
				stored = append(stored, hs...)
			}
			root := tree.root(x)
			if m.hash(x, 0, n) != root {
				t.Fatalf("%s: size %d: levels and compact range disagree", s.Name(), n)
			}
			for idx := 0; idx < n; idx++ {
				p, err := m.prove(x, n, idx)
				if err != nil {
					t.Fatal(err)
				}
				if err := checkInclusion(x, p, n, idx, x.leaf([]byte{byte(idx + 1), byte((idx + 1) >> 8)}), root); err != nil {
					t.Fatalf("%s: size %d leaf %d: %v", s.Name(), n, idx, err)
				}
				if len(p) > 0 {
					bad := append(tlog.RecordProof(nil), p...)
					bad[0][0] ^= 1
					if checkInclusion(x, bad, n, idx, x.leaf([]byte{byte(idx + 1), byte((idx + 1) >> 8)}), root) == nil {
						t.Fatalf("%s: size %d leaf %d: a damaged proof checks", s.Name(), n, idx)
					}
				}
				if s != suite.Standard {
					continue
				}
				want, err := tlog.ProveRecord(int64(n), int64(idx), hr)
				if err != nil {
					t.Fatal(err)
				}
				if len(want) != len(p) {
					t.Fatalf("size %d leaf %d: %d hashes, tlog %d", n, idx, len(p), len(want))
				}
				for i := range p {
					if p[i] != want[i] {
						t.Fatalf("size %d leaf %d: proof differs from tlog's", n, idx)
					}
				}
				if err := tlog.CheckRecord(p, int64(n), root, int64(idx), tlog.RecordHash([]byte{byte(idx + 1), byte((idx + 1) >> 8)})); err != nil {
					t.Fatalf("size %d leaf %d: tlog refuses the proof: %v", n, idx, err)
				}
			}
		}
	}
}
