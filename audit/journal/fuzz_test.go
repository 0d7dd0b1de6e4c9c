package journal

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/note"
)

func FuzzParseEntry(f *testing.F) {
	var buf bytes.Buffer
	for i, e := range []Entry{testEntry(1), {Seq: 2, Kind: "user.add", Subject: "a\"b\\c\n", Outcome: "ok", Prev: "00"},
		{Seq: 1 << 40, Kind: "k", Outcome: "o", Detail: "<&>\u2028", Figures: map[string]any{"x": 1.5e300}}} {
		e.Seq = i + 1
		line, _, _, err := encodeLine(&buf, &e, newHasher(suite.Standard))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(line)
		f.Add(line[:len(line)/2])
		f.Add(bytes.Replace(line, []byte(`"prev":""`), []byte(`"prev":"`+e.Hash+`"`), 1))
	}
	f.Add([]byte(`{"seq":1,"prev":"","hash":"` + string(bytes.Repeat([]byte("a"), 64)) + `"}`))
	f.Add([]byte(`{"seq":01,"seq":2}`))
	f.Add([]byte("{\"seq\":99999999999999999999999,\"x\":1}"))
	f.Add([]byte(`{"seq":1,"suite":"sm","prev":"","hash":"` + string(bytes.Repeat([]byte("a"), 64)) + `"}`))
	f.Add([]byte(`{"seq":1,"suite":"gm","prev":"","hash":"` + string(bytes.Repeat([]byte("a"), 64)) + `"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if s, err := lineSuite(line); err == nil && s == nil {
			t.Fatal("lineSuite gave no suite and no error")
		}
		e, err := ParseEntry(line)
		li, lerr := parseLine(bytes.TrimSuffix(line, []byte("\n")))
		if err != nil {
			return
		}
		if lerr != nil || li.seq != e.Seq || string(li.hash) != e.Hash {
			t.Fatalf("ParseEntry accepted what parseLine refuses (%v) or disagrees: %+v", lerr, e)
		}
		std, _ := newHasher(suite.Standard).entryHash(bytes.TrimSuffix(line, []byte("\n")), li)
		sm, _ := newHasher(suite.SM).entryHash(bytes.TrimSuffix(line, []byte("\n")), li)
		if string(std) != e.Hash && string(sm) != e.Hash {
			t.Fatal("ParseEntry accepted a line whose hash does not match")
		}
	})
}

func FuzzOpenCheckpoint(f *testing.F) {
	key, _ := testKey(f)
	s, err := suite.NoteSigner("atrest.journal/h", key)
	if err != nil {
		f.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: checkpointBody(Checkpoint{Origin: "atrest.journal/h", Size: 3})}, s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("atrest.journal/h\n10\nAAAA\n\n— atrest.journal/h AAAA\n"))
	f.Add([]byte("o\n-1\n\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, err := openCheckpoint(msg, newKeyVerifiers(pub(key)))
		if err == nil && !bytes.HasPrefix(msg, []byte(checkpointBody(cp))) {
			t.Fatalf("accepted note does not start with its own body: %q", msg)
		}
		parseCheckpointBody(string(msg))
	})
}

// FuzzJournalFiles: a journal directory holds what a disk, a crash or
// someone with write access left in it. Whatever the segment and the
// checkpoints file hold, Verify, Query, a Tailer, Preflight and Open never
// panic or hang; a journal Verify calls whole reads whole through Query,
// takes an Append, and verifies whole after it.
func FuzzJournalFiles(f *testing.F) {
	key, _ := testKey(f)
	seedDir := f.TempDir()
	j, err := Open(seedDir, key, Options{Origin: "atrest.journal/fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := j.Append(testEntry(i)); err != nil {
			f.Fatal(err)
		}
	}
	j.Close()
	seg, _ := os.ReadFile(filepath.Join(seedDir, segName(1)))
	ck, _ := os.ReadFile(filepath.Join(seedDir, checkpointsFile))
	f.Add(seg, ck)
	f.Add(seg, []byte(nil))
	f.Add(seg[:len(seg)-7], ck)
	f.Add(append(slices.Clone(seg), seg[:40]...), ck)
	f.Add(bytes.Replace(seg, []byte(`"seq":2`), []byte(`"seq":3`), 1), ck)
	f.Add([]byte(nil), ck)
	f.Add(seg, ck[:len(ck)/2])
	f.Fuzz(func(t *testing.T, seg, ck []byte) {
		dir := t.TempDir()
		if len(seg) > 0 {
			os.WriteFile(filepath.Join(dir, segName(1)), seg, 0o640)
		}
		if len(ck) > 0 {
			os.WriteFile(filepath.Join(dir, checkpointsFile), ck, 0o640)
		}
		rep, verr := Verify(dir, pub(key), nil)
		n, qerr := 0, error(nil)
		for _, err := range Query(dir, Filter{}) {
			if err != nil && qerr == nil {
				qerr = err
			}
			n++
		}
		NewTailer(dir).Poll(func(Entry) {})
		Preflight(dir)
		whole := verr == nil && rep.FirstBad == nil
		if whole && (qerr != nil || n != rep.Entries) {
			t.Fatalf("Verify: %d entries, whole; Query: %d, %v", rep.Entries, n, qerr)
		}
		j, err := Open(dir, key, Options{})
		if err != nil {
			return
		}
		_, aerr := j.Append(testEntry(99))
		cerr := j.Close()
		if !whole {
			return
		}
		if aerr != nil || cerr != nil {
			t.Fatalf("a whole journal refused an append: %v %v", aerr, cerr)
		}
		if rep2, err := Verify(dir, pub(key), nil); err != nil || rep2.FirstBad != nil || rep2.Entries != rep.Entries+1 {
			t.Fatalf("whole before the append, not after: %v %+v", err, rep2.FirstBad)
		}
	})
}
