package journal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest/atrest/crypto/suite"
)

// copyDir copies a fixture journal so a test can append to it.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// A journal written before suites existed (testdata/pre-suite, made by the
// code of that time) verifies unchanged, reads as standard, and takes
// appends that do not mark a suite again.
func TestJournalFromBeforeSuites(t *testing.T) {
	key, err := suite.LoadSigningKey("testdata/pre-suite/journal.key")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify("testdata/pre-suite/journal", key.Public(), nil)
	if err != nil || rep.Suite != "standard" || rep.Entries != 12 || rep.NewestCheckpoint.Size != 12 {
		t.Fatalf("pre-suite journal: %v %+v", err, rep)
	}
	dir := copyDir(t, "testdata/pre-suite/journal")
	j := mustOpen(t, dir, key, Options{})
	appendN(t, j, 0, 3)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, dir, key, nil); rep.Entries != 15 || rep.Suite != "standard" {
		t.Errorf("after appends: %+v", rep)
	}
	if l := segLines(t, dir, 1); bytes.Contains(bytes.Join(l, nil), []byte(`"suite"`)) {
		t.Error("an append to a pre-suite journal marked a suite")
	}
}

// An sm journal: entry 1 says so, every entry hash is SM3 of the line
// without its hash member (as doc.go says, with openssl dgst -sm3 by hand),
// and neither a writer nor a verifier with a key of the other suite is let
// in.
func TestSMJournal(t *testing.T) {
	key := testKeyOf(t, suite.SM)
	dir := t.TempDir()
	j := mustOpen(t, dir, key, Options{CheckpointEvery: 2})
	appendN(t, j, 0, 5)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, dir, key, nil); rep.Suite != "sm" || rep.Entries != 5 || rep.Checkpoints != 3 {
		t.Fatalf("report %+v", rep)
	}
	lines := segLines(t, dir, 1)
	if !bytes.Contains(lines[0], []byte(`,"suite":"sm","prev":"",`)) || bytes.Contains(lines[1], []byte(`"suite"`)) {
		t.Errorf("suite not on entry 1 alone:\n%s%s", lines[0], lines[1])
	}
	for i, l := range lines[:5] {
		l = bytes.TrimSuffix(l, []byte("\n"))
		k := bytes.LastIndex(l, []byte(`,"hash":"`))
		sum := suite.SM.Sum(append(append([]byte{}, l[:k]...), '}'))
		if !bytes.Contains(l, []byte(hex.EncodeToString(sum[:]))) {
			t.Errorf("line %d: hash is not SM3 of the line without its hash member", i+1)
		}
		if _, err := ParseEntry(l); err != nil {
			t.Errorf("line %d: %v", i+1, err)
		}
	}
	std := testKeyOf(t, suite.Standard)
	if _, err := Open(dir, std, Options{}); err == nil || !strings.Contains(err.Error(), "this journal's suite is sm (entry 1), the signing key's is standard") {
		t.Errorf("open an sm journal with an Ed25519 key: %v", err)
	}
	_, err := Verify(dir, std.Public(), nil)
	var p *Problem
	if !errors.As(err, &p) || p.Kind != ProblemSuite || p.Seq != 1 {
		t.Errorf("verify an sm journal with an Ed25519 key: %v", err)
	}
	for e, err := range Query(dir, Filter{}) {
		if err != nil || e.Seq < 1 {
			t.Fatalf("query an sm journal: %v", err)
		}
	}

	// And the reverse: a standard journal refuses an SM2 key.
	sdir := t.TempDir()
	sj := mustOpen(t, sdir, std, Options{})
	appendN(t, sj, 0, 1)
	sj.Close()
	for _, cut := range []bool{false, true} {
		if cut { // no checkpoint to start from: the writer reads entry 1 itself
			os.Remove(filepath.Join(sdir, checkpointsFile))
			os.Remove(filepath.Join(sdir, checkpointFile))
		}
		if _, err := Open(sdir, key, Options{}); err == nil || !strings.Contains(err.Error(), "suite is standard (entry 1), the signing key's is sm") {
			t.Errorf("open a standard journal with an SM2 key (checkpoints removed: %v): %v", cut, err)
		}
	}
}
