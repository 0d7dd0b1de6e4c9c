package journal

import (
	"context"
	"crypto/ed25519"
	"errors"
	"github.com/atrest/atrest/crypto/suite"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keepCheckpoint is what an officer does: copy the newest signed note out.
func keepCheckpoint(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rewriteWithKey is an attacker who holds the signing key: entries from..
// re-encoded with an edit, every local checkpoint dropped and signed anew,
// so the journal verifies on its own.
func rewriteWithKey(t *testing.T, dir string, key ed25519.PrivateKey, from int) {
	t.Helper()
	lines := segLines(t, dir, 1)
	writeLines(t, dir, reencode(t, suite.Standard, lines, from, func(e *Entry) { e.Outcome = "ok"; e.Subject = "rewritten" }))
	os.Remove(filepath.Join(dir, checkpointsFile))
	os.Remove(filepath.Join(dir, checkpointFile))
	j := mustOpen(t, dir, key, Options{})
	if err := j.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir, pub(key), nil); err != nil {
		t.Fatalf("the rewritten journal should verify on its own: %v", err)
	}
}

func TestVerifyFromKeptCheckpoints(t *testing.T) {
	dir := t.TempDir()
	key := fixedKey(t)
	j := mustOpen(t, dir, key, Options{})
	appendN(t, j, 0, 10)
	j.Checkpoint(context.Background())
	kept10 := keepCheckpoint(t, dir)
	appendN(t, j, 10, 10)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	kept20 := keepCheckpoint(t, dir)
	kept := []KeptCheckpoint{{File: "cp-2026-11.txt", Note: kept10}, {File: "cp-2026-12.txt", Note: kept20}}

	// Untouched and grown: extends both.
	j = mustOpen(t, dir, key, Options{})
	appendN(t, j, 20, 3)
	j.Close()
	rep, res, err := VerifyFrom(context.Background(), dir, pub(key), nil, kept)
	if err != nil || len(res) != 2 || !res[0].Extends || !res[1].Extends || rep.Entries != 23 {
		t.Fatalf("intact journal: %v, %+v", err, res)
	}

	// History rewritten from entry 14 with the real key.
	rewriteWithKey(t, dir, key, 14)
	_, res, err = VerifyFrom(context.Background(), dir, pub(key), nil, kept)
	var p *Problem
	if !errors.As(err, &p) || p.Kind != ProblemCheckpoint || p.Seq != 20 ||
		!strings.Contains(p.Reason, "does not extend the checkpoint kept in cp-2026-12.txt (size 20") ||
		!strings.Contains(p.Reason, "entries 11..20 were rewritten") {
		t.Fatalf("rewrite: %v", err)
	}
	if !res[0].Extends || res[1].Extends {
		t.Errorf("results %+v: want the first extended, the second not", res)
	}

	// A kept checkpoint beyond today's end: the tail was cut.
	dir2 := t.TempDir()
	j = mustOpen(t, dir2, key, Options{})
	appendN(t, j, 0, 5)
	j.Close()
	_, _, err = VerifyFrom(context.Background(), dir2, pub(key), nil, kept[1:])
	if !errors.As(err, &p) || p.Kind != ProblemTailCut || !strings.Contains(p.Reason, "cp-2026-12.txt covers 20 entries, the journal has 5") {
		t.Fatalf("cut: %v", err)
	}

	// A kept file signed by another key is refused outright.
	other, _ := testKey(t)
	if _, _, err := VerifyFrom(context.Background(), dir, pub(other), nil, kept[:1]); err == nil || !strings.Contains(err.Error(), "kept checkpoint in cp-2026-11.txt") {
		t.Fatalf("other key: %v", err)
	}
}

func TestReadKeptCheckpointsSplitsAppendedNotes(t *testing.T) {
	dir := t.TempDir()
	key := fixedKey(t)
	j := mustOpen(t, dir, key, Options{})
	appendN(t, j, 0, 3)
	j.Checkpoint(context.Background())
	a := keepCheckpoint(t, dir)
	appendN(t, j, 3, 3)
	j.Close()
	b := keepCheckpoint(t, dir)
	f := filepath.Join(t.TempDir(), "kept.txt")
	os.WriteFile(f, append(append(append([]byte{}, a...), '\n'), b...), 0o600)
	got, err := ReadKeptCheckpoints(f)
	if err != nil || len(got) != 2 || string(got[0].Note) != string(a) || string(got[1].Note) != string(b) {
		t.Fatalf("got %d notes (%v)", len(got), err)
	}
	os.WriteFile(f, []byte("not a note\n"), 0o600)
	if _, err := ReadKeptCheckpoints(f); err == nil || !strings.Contains(err.Error(), "no signed note") {
		t.Fatalf("garbage: %v", err)
	}
}

func FuzzReadKeptCheckpoints(f *testing.F) {
	f.Add([]byte("atrest.journal/h\n3\nAAAA\n\n— atrest.journal/h abc\n"))
	f.Add([]byte("\n\n— \n\nx\n\n— y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range splitNotes(b) {
			if len(n) == 0 || len(n) > len(b) {
				t.Fatalf("note of %d bytes from %d", len(n), len(b))
			}
		}
	})
}
