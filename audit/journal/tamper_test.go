package journal

import (
	"bytes"
	"context"
	gocrypto "crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// buildJournal writes 20 entries with checkpoints at 5, 10, 15 and 20, each
// copied to a DirAnchor, signed by key (of either suite).
func buildJournal(t *testing.T, key gocrypto.Signer) (dir string, a DirAnchor) {
	t.Helper()
	dir, a = t.TempDir(), DirAnchor{Dir: t.TempDir()}
	j := mustOpen(t, dir, key, Options{CheckpointEvery: 5, Anchor: a})
	appendN(t, j, 0, 20)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, a
}

var theKeys = map[suite.Suite]gocrypto.Signer{}

// fixedKey is the standard key most tests share; keyOf one for each suite.
func fixedKey(t *testing.T) ed25519.PrivateKey { return keyOf(t, suite.Standard).(ed25519.PrivateKey) }

func keyOf(t *testing.T, s suite.Suite) gocrypto.Signer {
	if theKeys[s] == nil {
		theKeys[s] = testKeyOf(t, s)
	}
	return theKeys[s]
}

func writeLines(t *testing.T, dir string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, segName(1)), bytes.Join(lines, nil), 0o640); err != nil {
		t.Fatal(err)
	}
}

// reencode rewrites entries from..end as a forger without the key would: a
// consistent hash chain under suite s, new hashes, seq in order.
func reencode(t *testing.T, s suite.Suite, lines [][]byte, from int, edit func(*Entry)) [][]byte {
	t.Helper()
	x := newHasher(s)
	prev := ""
	var buf bytes.Buffer
	out := make([][]byte, len(lines))
	copy(out, lines)
	for i := range lines {
		if len(lines[i]) == 0 {
			continue
		}
		e, err := ParseEntry(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		if i+1 < from {
			prev = e.Hash
			continue
		}
		if i+1 == from {
			edit(&e)
		}
		e.Prev = prev
		e.Seq = i + 1
		line, _, _, err := encodeLine(&buf, &e, x)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = line
		prev = e.Hash
	}
	return out
}

func readRecords(t *testing.T, dir string) []ckptRecord {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, checkpointsFile))
	if err != nil {
		t.Fatal(err)
	}
	var recs []ckptRecord
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var r ckptRecord
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

func writeRecords(t *testing.T, dir string, recs []ckptRecord) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		enc.Encode(r)
	}
	if err := os.WriteFile(filepath.Join(dir, checkpointsFile), buf.Bytes(), 0o640); err != nil {
		t.Fatal(err)
	}
}

// flipSignatureBit flips one bit of the signature proper (past the 4-byte key
// hash) and re-encodes it, so the note stays well-formed base64 whatever the
// key: flipping a base64 character instead can make an invalid one, which
// reads as "malformed note", not as a forged signature.
func flipSignatureBit(t *testing.T, n string) string {
	t.Helper()
	i := strings.LastIndex(n, " ")
	end := strings.LastIndex(n, "\n")
	if i < 0 || end < i {
		t.Fatalf("no signature line in note %q", n)
	}
	sig, err := base64.StdEncoding.DecodeString(n[i+1 : end])
	if err != nil || len(sig) < 5 {
		t.Fatalf("signature of note: %v", err)
	}
	sig[len(sig)/2] ^= 0x01
	return n[:i+1] + base64.StdEncoding.EncodeToString(sig) + n[end:]
}

func signBody(t *testing.T, key gocrypto.Signer, body string) string {
	t.Helper()
	s, err := suite.NoteSigner("atrest.journal/test", key)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: body}, s)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

// Every kind of tampering is caught the same way in a journal of either
// suite: SHA-256 and Ed25519, or SM3 and SM2.
func TestTamperingIsCaught(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		t.Run(s.Name(), func(t *testing.T) { testTampering(t, s) })
	}
}

func testTampering(t *testing.T, s suite.Suite) {
	key, other := keyOf(t, s), testKeyOf(t, s)
	otherSuite := suite.SM
	if s == suite.SM {
		otherSuite = suite.Standard
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string, a DirAnchor)
		anchor bool
		kind   ProblemKind
		msg    string
	}{
		{
			name: "edited byte in a field",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				l := segLines(t, dir, 1)
				l[11] = bytes.Replace(l[11], []byte(`"outcome":"ok"`), []byte(`"outcome":"OK"`), 1)
				writeLines(t, dir, l)
			},
			kind: ProblemHash,
			msg:  "journal: chain broken at entry 12 (segment-000001.jsonl:12): hash mismatch",
		},
		{
			name: "edited figure",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				l := segLines(t, dir, 1)
				l[2] = bytes.Replace(l[2], []byte(`"files":2`), []byte(`"files":0`), 1)
				writeLines(t, dir, l)
			},
			kind: ProblemHash,
			msg:  "journal: chain broken at entry 3 (segment-000001.jsonl:3): hash mismatch",
		},
		{
			name: "deleted line",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				l := segLines(t, dir, 1)
				writeLines(t, dir, append(l[:11:11], l[12:]...))
			},
			kind: ProblemSeq,
			msg:  "journal: chain broken at entry 12 (segment-000001.jsonl:12): found entry 13 where entry 12 belongs (entry 12 deleted or moved)",
		},
		{
			name: "inserted copy of a line",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				l := segLines(t, dir, 1)
				writeLines(t, dir, append(l[:12:12], append([][]byte{l[4]}, l[12:]...)...))
			},
			kind: ProblemSeq,
			msg:  "journal: chain broken at entry 13 (segment-000001.jsonl:13): found entry 5 where entry 13 belongs (line inserted, repeated or moved)",
		},
		{
			name: "inserted forged entry with its own valid hash",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				l := segLines(t, dir, 1)
				prev, _ := ParseEntry(l[11])
				forged := Entry{Seq: 13, Time: prev.Time, Actor: prev.Actor, Kind: "backup.run", Subject: "yb-nightly", Outcome: "ok", Prev: prev.Hash}
				var buf bytes.Buffer
				line, _, _, _ := encodeLine(&buf, &forged, newHasher(s))
				writeLines(t, dir, append(l[:12:12], append([][]byte{line}, l[12:]...)...))
			},
			kind: ProblemSeq,
			msg:  "journal: chain broken at entry 14 (segment-000001.jsonl:14): found entry 13 where entry 14 belongs (line inserted, repeated or moved)",
		},
		{
			name: "garbage line in the middle",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				l := segLines(t, dir, 1)
				writeLines(t, dir, append(l[:8:8], append([][]byte{[]byte("rm -rf /var/log\n")}, l[8:]...)...))
			},
			kind: ProblemMalformed,
			msg:  "journal: chain broken at entry 9 (segment-000001.jsonl:9): not valid JSON",
		},
		{
			name: "swapped lines",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				l := segLines(t, dir, 1)
				l[6], l[7] = l[7], l[6]
				writeLines(t, dir, l)
			},
			kind: ProblemSeq,
			msg:  "journal: chain broken at entry 7 (segment-000001.jsonl:7): found entry 8 where entry 7 belongs (entry 7 deleted or moved)",
		},
		{
			name: "history rewritten with a consistent chain",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				writeLines(t, dir, reencode(t, s, segLines(t, dir, 1), 12, func(e *Entry) { e.Outcome = "fail" }))
			},
			kind: ProblemCheckpoint,
			msg:  "journal: bad checkpoint at entry 15 (checkpoints.jsonl:3): root does not match entries 1..15",
		},
		{
			name: "suite switched in entry 1, chain rehashed with the other hash",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				writeLines(t, dir, reencode(t, otherSuite, segLines(t, dir, 1), 1, func(e *Entry) { e.Suite = otherSuite.Name() }))
			},
			kind: ProblemSuite,
			msg: "journal: suite mismatch at entry 1 (segment-000001.jsonl:1): the journal's suite is " + otherSuite.Name() +
				", the verification key is of suite " + s.Name(),
		},
		{
			name: "suite removed from entry 1",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				l := segLines(t, dir, 1)
				l[0] = bytes.Replace(l[0], []byte(`"suite":"`+s.Name()+`",`), nil, 1)
				writeLines(t, dir, l)
			},
			kind: map[suite.Suite]ProblemKind{suite.Standard: ProblemHash, suite.SM: ProblemSuite}[s],
			msg: map[suite.Suite]string{
				suite.Standard: "journal: chain broken at entry 1 (segment-000001.jsonl:1): hash mismatch",
				suite.SM:       "journal: suite mismatch at entry 1 (segment-000001.jsonl:1): the journal's suite is standard, the verification key is of suite sm",
			}[s],
		},
		{
			name: "forged checkpoint signature",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				recs := readRecords(t, dir)
				recs[1].Note = flipSignatureBit(t, recs[1].Note)
				writeRecords(t, dir, recs)
			},
			kind: ProblemCheckpoint,
			msg:  "journal: bad checkpoint at entry 10 (checkpoints.jsonl:2): signature does not verify (forged or edited checkpoint)",
		},
		{
			name: "checkpoint signed by another key",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				recs := readRecords(t, dir)
				body, _, _ := strings.Cut(recs[1].Note, "\n\n")
				recs[1].Note = signBody(t, other, body+"\n")
				writeRecords(t, dir, recs)
			},
			kind: ProblemCheckpoint,
			msg:  "journal: bad checkpoint at entry 10 (checkpoints.jsonl:2): not signed by the journal key (forged checkpoint?)",
		},
		{
			name: "checkpoint with a wrong root",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				recs := readRecords(t, dir)
				recs[1].Note = signBody(t, key, checkpointBody(Checkpoint{Origin: "atrest.journal/test", Size: 10,
					Root: tlog.RecordHash([]byte("not the tree")), Time: time.Now()}))
				writeRecords(t, dir, recs)
			},
			kind: ProblemCheckpoint,
			msg:  "journal: bad checkpoint at entry 10 (checkpoints.jsonl:2): root does not match entries 1..10",
		},
		{
			name: "forged plain-text checkpoint",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				path := filepath.Join(dir, checkpointFile)
				b, _ := os.ReadFile(path)
				os.WriteFile(path, bytes.Replace(b, []byte("\n20\n"), []byte("\n19\n"), 1), 0o640)
			},
			kind: ProblemCheckpoint,
			msg:  "journal: bad checkpoint at entry 19 (checkpoint): signature does not verify (forged or edited checkpoint)",
		},
		{
			name: "cut tail, local checkpoints left",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				writeLines(t, dir, segLines(t, dir, 1)[:17])
			},
			kind: ProblemTailCut,
			msg:  "journal: tail cut at entry 18 (checkpoints.jsonl:4): a checkpoint covers 20 entries, the journal has 17",
		},
		{
			name:   "cut tail and checkpoints, against the anchor",
			tamper: cutEverything,
			anchor: true,
			kind:   ProblemTailCut,
			msg:    "journal: tail cut at entry 16 (anchor:checkpoints/0000000000000020.note): the anchored checkpoint covers 20 entries, the local journal has 15",
		},
		{
			name: "edited anchor object",
			tamper: func(t *testing.T, dir string, a DirAnchor) {
				p := filepath.Join(a.Dir, "checkpoints", "0000000000000015.note")
				b, _ := os.ReadFile(p)
				os.Remove(p)
				os.WriteFile(filepath.Join(a.Dir, "checkpoints", "0000000000000025.note"), bytes.Replace(b, []byte("\n15\n"), []byte("\n25\n"), 1), 0o640)
			},
			anchor: true,
			kind:   ProblemCheckpoint,
			msg:    "journal: bad checkpoint at entry 21 (anchor:checkpoints/0000000000000025.note): signature does not verify (forged or edited checkpoint)",
		},
		{
			name: "history rewritten by someone with the key, against the anchor",
			tamper: func(t *testing.T, dir string, _ DirAnchor) {
				for _, n := range []string{segName(1), checkpointsFile, checkpointFile} {
					os.Remove(filepath.Join(dir, n))
				}
				j := mustOpen(t, dir, key, Options{CheckpointEvery: 5})
				appendN(t, j, 100, 25)
				j.Close()
			},
			anchor: true,
			kind:   ProblemCheckpoint,
			msg:    "journal: bad checkpoint at entry 20 (anchor:checkpoints/0000000000000020.note): anchored root does not match entries 1..20 (history rewritten?)",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, a := buildJournal(t, key)
			if rep := mustVerify(t, dir, key, a); rep.Suite != s.Name() {
				t.Fatalf("journal of suite %q, want %s", rep.Suite, s.Name())
			}
			c.tamper(t, dir, a)
			var anchor Anchor
			if c.anchor {
				anchor = a
			}
			rep, err := Verify(dir, key.Public(), anchor)
			var p *Problem
			if !errors.As(err, &p) || !errors.Is(err, ErrBroken) || rep.FirstBad != p {
				t.Fatalf("verify: %v (report %+v)", err, rep)
			}
			if p.Kind != c.kind || err.Error() != c.msg {
				t.Errorf("got  %s: %v\nwant %s: %s", p.Kind, err, c.kind, c.msg)
			}
		})
	}
}

// cutEverything removes entries 16..20 and every trace of them locally:
// only the anchor still knows.
func cutEverything(t *testing.T, dir string, _ DirAnchor) {
	writeLines(t, dir, segLines(t, dir, 1)[:15])
	recs := readRecords(t, dir)
	writeRecords(t, dir, recs[:3])
	os.WriteFile(filepath.Join(dir, checkpointFile), []byte(recs[2].Note), 0o640)
}

func TestDeletedSegment(t *testing.T) {
	key := fixedKey(t)
	dir := t.TempDir()
	j := mustOpen(t, dir, key, Options{SegmentEntries: 5})
	appendN(t, j, 0, 20)
	j.Close()
	os.Remove(filepath.Join(dir, segName(2)))
	_, err := Verify(dir, pub(key), nil)
	const want = "journal: chain broken at entry 6 (segment-000003.jsonl:1): found entry 11 where entry 6 belongs (entries 6..10 deleted or moved)"
	if err == nil || err.Error() != want {
		t.Errorf("verify: %v\nwant %s", err, want)
	}
}

func TestCutTailNeedsTheAnchor(t *testing.T) {
	dir, a := buildJournal(t, fixedKey(t))
	cutEverything(t, dir, a)
	if rep := mustVerify(t, dir, fixedKey(t), nil); rep.Entries != 15 {
		t.Errorf("without the anchor a clean cut verifies as 15 entries: %+v", rep)
	}
	// And the writer refuses to build on a journal cut under its checkpoint.
	writeLines(t, dir, segLines(t, dir, 1)[:12])
	if _, err := Open(dir, fixedKey(t), Options{}); !errors.Is(err, ErrBroken) {
		t.Errorf("open of a cut journal: %v", err)
	}
}

func TestTornLastLine(t *testing.T) {
	key := fixedKey(t)
	dir := t.TempDir()
	j := mustOpen(t, dir, key, Options{})
	appendN(t, j, 0, 3)
	j.Close()
	l := segLines(t, dir, 1)
	torn := l[1][:len(l[1])/2] // a crash half way through writing entry 4
	f, _ := os.OpenFile(filepath.Join(dir, segName(1)), os.O_WRONLY|os.O_APPEND, 0)
	f.Write(torn)
	f.Close()

	const want = "journal: torn last line at entry 4 (segment-000001.jsonl:4): no trailing newline (crash during an append?)"
	rep, err := Verify(dir, pub(key), nil)
	if err == nil || err.Error() != want || !errors.Is(err, ErrTorn) || rep.Entries != 3 {
		t.Fatalf("verify: %v\nwant %s", err, want)
	}
	if _, err := Open(dir, key, Options{}); !errors.Is(err, ErrTorn) {
		t.Errorf("open of a torn journal: %v", err)
	}
	// The file is left as it was: nothing dropped or repaired.
	if b, _ := os.ReadFile(filepath.Join(dir, segName(1))); !bytes.HasSuffix(b, torn) {
		t.Error("verify or open changed the torn file")
	}
	n := 0
	var qerr error
	for _, err := range Query(dir, Filter{}) {
		if err != nil {
			qerr = err
		} else {
			n++
		}
	}
	if n != 3 || !errors.Is(qerr, ErrTorn) {
		t.Errorf("query: %d entries, err %v", n, qerr)
	}

	// Bad JSON that does end in a newline is torn too.
	dir2 := t.TempDir()
	j = mustOpen(t, dir2, key, Options{})
	appendN(t, j, 0, 2)
	j.Close()
	f, _ = os.OpenFile(filepath.Join(dir2, segName(1)), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("{\"seq\":3,\"ti\x00\x00\x00\n"))
	f.Close()
	_, err = Verify(dir2, pub(key), nil)
	if err == nil || err.Error() != "journal: torn last line at entry 3 (segment-000001.jsonl:3): not valid JSON (crash during an append?)" {
		t.Errorf("verify: %v", err)
	}

	// Recovery is explicit, keeps the bytes and goes on the record.
	out, err := Recover(dir, key, Options{}, "power cut at 03:12, ticket OPS-42")
	if err != nil || len(out) != 1 || out[0].Seq != 4 || out[0].Kind != "journal.recover" {
		t.Fatalf("recover: %v %+v", err, out)
	}
	kept, err := os.ReadFile(filepath.Join(dir, tornDir, segName(1)+"."+strconv.Itoa(len(bytes.Join(l[:3], nil)))+".partial"))
	if err != nil || !bytes.Equal(kept, torn) {
		t.Errorf("torn bytes not kept: %v", err)
	}
	if !strings.Contains(out[0].Detail, "OPS-42") || !strings.Contains(out[0].Detail, "torn/segment-000001.jsonl.") {
		t.Errorf("recover entry detail %q", out[0].Detail)
	}
	if rep := mustVerify(t, dir, key, nil); rep.Entries != 4 {
		t.Errorf("after recover: %+v", rep)
	}
	if _, err := Recover(dir, key, Options{}, "again"); !errors.Is(err, ErrNothingTorn) {
		t.Errorf("second recover: %v", err)
	}
	// Recover never takes a whole line that parses: that is tampering.
	l = segLines(t, dir, 1)
	l[3] = bytes.Replace(l[3], []byte(`"ok"`), []byte(`"ko"`), 1)
	writeLines(t, dir, l)
	if _, err := Recover(dir, key, Options{}, "x"); !errors.Is(err, ErrNothingTorn) {
		t.Errorf("recover of an edited line: %v", err)
	}
}

func TestTornCheckpointRecord(t *testing.T) {
	key := fixedKey(t)
	dir := t.TempDir()
	j := mustOpen(t, dir, key, Options{})
	appendN(t, j, 0, 3)
	j.Close()
	f, _ := os.OpenFile(filepath.Join(dir, checkpointsFile), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte(`{"size":4,"no`))
	f.Close()
	_, err := Verify(dir, pub(key), nil)
	if err == nil || err.Error() != "journal: torn last line at entry 3 (checkpoints.jsonl:2): no trailing newline (crash while writing a checkpoint?)" {
		t.Errorf("verify: %v", err)
	}
	if _, err := Open(dir, key, Options{}); !errors.Is(err, ErrTorn) {
		t.Errorf("open: %v", err)
	}
	if _, err := Recover(dir, key, Options{}, "crash"); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, dir, key, nil); rep.Entries != 4 || rep.NewestCheckpoint.Size != 4 {
		t.Errorf("after recover: %+v", rep)
	}
}

func TestVerifyEmptyAndMissing(t *testing.T) {
	key := fixedKey(t)
	dir := t.TempDir()
	if rep := mustVerify(t, dir, key, DirAnchor{Dir: t.TempDir()}); rep.Entries != 0 || rep.NewestCheckpoint != nil {
		t.Errorf("empty: %+v", rep)
	}
	if _, err := Verify(filepath.Join(dir, "nope"), pub(key), nil); err == nil || errors.Is(err, ErrBroken) {
		t.Errorf("missing dir: %v", err)
	}
	// An unreachable anchor is an error, not a verdict.
	if _, err := Verify(dir, pub(key), brokenList{}); !errors.Is(err, ErrAnchor) || errors.Is(err, ErrBroken) {
		t.Errorf("unreachable anchor: %v", err)
	}
}

type brokenList struct{ DirAnchor }

func (brokenList) List(context.Context, string) ([]string, error) {
	return nil, errors.New("connection refused")
}
