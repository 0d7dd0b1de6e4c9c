package journal

import (
	"bytes"
	"context"
	gocrypto "crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/tlog"
)

// testKey makes a standard signing key the way `atrest init` does and
// loads it back; it returns the key file too.
func testKey(t testing.TB) (ed25519.PrivateKey, string) {
	t.Helper()
	key, path := testKeyFile(t, suite.Standard)
	return key.(ed25519.PrivateKey), path
}

// testKeyOf makes a signing key of suite s the way `atrest init` does.
func testKeyOf(t testing.TB, s suite.Suite) gocrypto.Signer {
	t.Helper()
	key, _ := testKeyFile(t, s)
	return key
}

func testKeyFile(t testing.TB, s suite.Suite) (gocrypto.Signer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.key")
	if _, err := crypto.EnsureKeyFile(path, s.NewSigningKey); err != nil {
		t.Fatal(err)
	}
	key, err := suite.LoadSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return key, path
}

func pub(key ed25519.PrivateKey) ed25519.PublicKey { return key.Public().(ed25519.PublicKey) }

func testEntry(i int) Entry {
	return Entry{Kind: "scan.files", Subject: fmt.Sprintf("exports-%d", i%3), Outcome: "ok",
		Figures: map[string]any{"files": i, "duration_seconds": 0.25,
			"by_type": map[string]int{"cn_resident_id": i % 5}}}
}

func mustOpen(t testing.TB, dir string, key gocrypto.Signer, opts Options) *Journal {
	t.Helper()
	j, err := Open(dir, key, opts)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func appendN(t testing.TB, j *Journal, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := j.Append(testEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func mustVerify(t testing.TB, dir string, key gocrypto.Signer, a Anchor) Report {
	t.Helper()
	rep, err := Verify(dir, key.Public(), a)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func segLines(t testing.TB, dir string, seg int) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, segName(seg)))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))
}

func TestAppendWritesReadableChainedLines(t *testing.T) {
	key, _ := testKey(t)
	dir := t.TempDir()
	clock := time.Date(2026, 11, 25, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	j := mustOpen(t, dir, key, Options{Now: func() time.Time { return clock }})
	e, err := j.Append(Entry{Kind: "backup.run", Subject: "yb-nightly", Outcome: "ok",
		Actor: Actor{WebUser: "auditor1"}, Detail: "a<b & c>d", Figures: map[string]any{"bytes": 1234}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 1 || e.Prev != "" || e.Time != clock.UTC() || e.Actor.PID != os.Getpid() || e.Actor.Host == "" ||
		e.Actor.OSUser == "" || e.Actor.WebUser != "auditor1" {
		t.Errorf("entry defaults not filled: %+v", e)
	}
	e2, err := j.Append(Entry{Kind: "user.add", Subject: "auditor2", Outcome: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Seq != 2 || e2.Prev != e.Hash {
		t.Errorf("second entry seq %d prev %q, want 2 and %q", e2.Seq, e2.Prev, e.Hash)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	lines := segLines(t, dir, 1)
	want := `{"seq":1,"time":"2026-11-25T00:00:00.123456789Z","actor":{"os_user":"` + e.Actor.OSUser +
		`","host":"` + e.Actor.Host + `","pid":` + strconv.Itoa(os.Getpid()) + `,"process":"` + e.Actor.Process +
		`","web_user":"auditor1"},"kind":"backup.run","subject":"yb-nightly","outcome":"ok","figures":{"bytes":1234},` +
		`"detail":"a<b & c>d","suite":"standard","prev":"","hash":"` + e.Hash + "\"}\n"
	if string(lines[0]) != want {
		t.Errorf("line 1:\n got %s\nwant %s", lines[0], want)
	}
	// The documented hash: SHA-256 of the line without its hash member.
	for i, l := range lines[:2] {
		l = bytes.TrimSuffix(l, []byte("\n"))
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		k := bytes.LastIndex(l, []byte(`,"hash":"`))
		canonical := append(append([]byte{}, l[:k]...), '}')
		sum := sha256.Sum256(canonical)
		if hex.EncodeToString(sum[:]) != m["hash"] {
			t.Errorf("line %d: hash is not SHA-256 of the line without its hash member", i+1)
		}
		// Re-encoding the entry gives the same bytes: the canonical form.
		pe, err := ParseEntry(l)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		got, _, _, err := encodeLine(&buf, &pe, newHasher(suite.Standard))
		if err != nil || !bytes.Equal(bytes.TrimSuffix(got, []byte("\n")), l) {
			t.Errorf("line %d does not re-encode to itself:\n%s\n%s", i+1, got, l)
		}
	}
	rep := mustVerify(t, dir, key, nil)
	if rep.Entries != 2 || rep.NewestCheckpoint == nil || rep.NewestCheckpoint.Size != 2 || rep.Unsigned() != 0 {
		t.Errorf("report %+v", rep)
	}
	// The checkpoint is a C2SP tlog-checkpoint in a signed note, root = tlog.TreeHash.
	msg, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if err != nil {
		t.Fatal(err)
	}
	var hashes []tlog.Hash
	hr := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, l := range lines[:2] {
		l = bytes.TrimSuffix(l, []byte("\n"))
		k := bytes.LastIndex(l, []byte(`,"hash":"`))
		sum := sha256.Sum256(append(append([]byte{}, l[:k]...), '}'))
		hs, err := tlog.StoredHashes(int64(i), sum[:], hr)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	root, _ := tlog.TreeHash(2, hr)
	host, _ := os.Hostname()
	wantBody := "atrest.journal/" + host + "\n2\n" + root.String() + "\ntime 2026-11-25T00:00:00.123456789Z\n\n— atrest.journal/" + host + " "
	if !strings.HasPrefix(string(msg), wantBody) {
		t.Errorf("checkpoint note:\n%s\nwant prefix\n%s", msg, wantBody)
	}
}

func TestCompactRangeMatchesTlog(t *testing.T) {
	var hashes []tlog.Hash
	hr := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = hashes[x]
		}
		return out, nil
	})
	var r compactRange
	x := newHasher(suite.Standard)
	for n := 0; n < 1100; n++ {
		want, err := tlog.TreeHash(int64(n), hr)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.root(x); got != want || !r.valid() {
			t.Fatalf("size %d: root %v, tlog %v", n, got, want)
		}
		data := []byte(strconv.Itoa(n))
		hs, err := tlog.StoredHashes(int64(n), data, hr)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
		r.add(x, tlog.RecordHash(data))
	}
}

func TestReopenContinuesChain(t *testing.T) {
	key, _ := testKey(t)
	dir := t.TempDir()
	a := DirAnchor{Dir: t.TempDir()}
	var last Entry
	for round := 0; round < 4; round++ {
		j := mustOpen(t, dir, key, Options{Anchor: a, CheckpointEvery: 3})
		for i := 0; i < 5; i++ {
			e, err := j.Append(testEntry(i))
			if err != nil {
				t.Fatal(err)
			}
			if e.Seq != last.Seq+1 || e.Prev != last.Hash {
				t.Fatalf("round %d: entry %d prev %q, want seq %d prev %q", round, e.Seq, e.Prev, last.Seq+1, last.Hash)
			}
			last = e
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
	rep := mustVerify(t, dir, key, a)
	if rep.Entries != 20 || rep.NewestCheckpoint.Size != 20 || rep.Anchored == nil || rep.Anchored.Size != 20 {
		t.Errorf("report %+v", rep)
	}
	names, _ := a.List(context.Background(), "")
	if len(names) == 0 || names[len(names)-1] != "checkpoints/0000000000000020.note" {
		t.Errorf("anchor objects %v", names)
	}
}

func TestOpenRefusesAnotherKey(t *testing.T) {
	key, _ := testKey(t)
	other, _ := testKey(t)
	dir := t.TempDir()
	j := mustOpen(t, dir, key, Options{})
	appendN(t, j, 0, 2)
	j.Close()
	if _, err := Open(dir, other, Options{}); err == nil || !strings.Contains(err.Error(), "signing key") {
		t.Errorf("open with another key: %v", err)
	}
}

func TestSegmentsAndBatches(t *testing.T) {
	key, _ := testKey(t)
	dir := t.TempDir()
	j := mustOpen(t, dir, key, Options{SegmentEntries: 7, CheckpointEvery: 10})
	var batch []Entry
	for i := 0; i < 23; i++ {
		batch = append(batch, testEntry(i))
	}
	out, err := j.AppendBatch(batch)
	if err != nil || len(out) != 23 || out[22].Seq != 23 {
		t.Fatalf("batch: %v (%d entries)", err, len(out))
	}
	appendN(t, j, 0, 5)
	j.Close()
	// A small byte limit rolls too.
	j = mustOpen(t, dir, key, Options{SegmentEntries: 1000, SegmentBytes: 1000})
	appendN(t, j, 0, 6)
	j.Close()
	rep := mustVerify(t, dir, key, nil)
	if rep.Entries != 34 || rep.Segments < 6 {
		t.Errorf("report %+v", rep)
	}
	n := 0
	for e, err := range Query(dir, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := e.Figures["files"].(float64); !ok {
			t.Fatalf("figures %v: want float64 numbers", e.Figures)
		}
		if n++; e.Seq != n {
			t.Fatalf("query gave entry %d at position %d", e.Seq, n)
		}
	}
	if n != 34 {
		t.Errorf("query gave %d entries", n)
	}
}

func TestQueryFilters(t *testing.T) {
	key, _ := testKey(t)
	dir := t.TempDir()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	j := mustOpen(t, dir, key, Options{Now: func() time.Time { return now }})
	add := func(kind, subject, outcome string) {
		if _, err := j.Append(Entry{Kind: kind, Subject: subject, Outcome: outcome}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
	}
	add("scan.files", "/srv/exports", "findings")
	add("scan.db", "yb-prod", "ok")
	add("scanner.x", "yb-prod", "ok")
	add("backup.run", "yb-nightly", "ok")
	add("backup.check", "yb-nightly", "fail")
	j.Close()
	seqs := func(f Filter) string {
		var s []string
		for e, err := range Query(dir, f) {
			if err != nil {
				t.Fatal(err)
			}
			s = append(s, strconv.Itoa(e.Seq))
		}
		return strings.Join(s, ",")
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, "1,2,3,4,5"},
		{Filter{Kind: "scan"}, "1,2"},
		{Filter{Kind: "scan.db"}, "2"},
		{Filter{Kind: "backup", Outcome: "fail"}, "5"},
		{Filter{Subject: "/srv"}, "1"},
		{Filter{Subject: "yb"}, ""},
		{Filter{Subject: "yb-prod"}, "2,3"},
		{Filter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, "2,3"},
	} {
		if got := seqs(c.f); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.f, got, c.want)
		}
	}
}

func TestFiguresHoldNoValues(t *testing.T) {
	key, _ := testKey(t)
	j := mustOpen(t, t.TempDir(), key, Options{})
	defer j.Close()
	for _, figs := range []map[string]any{
		{"id": "11010519491231002X"},
		{"by_type": map[string]any{"x": "138****5678"}},
		{"list": []int{1}},
		{"nan": 0.0 / zero()},
	} {
		if _, err := j.Append(Entry{Kind: "scan.db", Outcome: "ok", Figures: figs}); err == nil {
			t.Errorf("figures %v accepted", figs)
		}
	}
	if _, err := j.Append(Entry{Kind: "scan.db", Outcome: "ok", Figures: map[string]any{
		"rows": int64(3), "ok": true, "took": time.Second, "n": json.Number("7"), "m": map[string]float64{"a": 1}}}); err != nil {
		t.Error(err)
	}
	if _, err := j.Append(Entry{Subject: "x"}); err == nil {
		t.Error("entry without kind accepted")
	}
}

func zero() float64 { return 0 }

type failingAnchor struct{ DirAnchor }

func (failingAnchor) Put(context.Context, string, []byte) error {
	return errors.New("bucket unreachable")
}

func TestAnchorFailureKeepsTheAppend(t *testing.T) {
	key, _ := testKey(t)
	dir := t.TempDir()
	j := mustOpen(t, dir, key, Options{Anchor: failingAnchor{}, CheckpointEvery: 2})
	if _, err := j.Append(testEntry(1)); err != nil {
		t.Fatal(err)
	}
	e, err := j.Append(testEntry(2))
	if !errors.Is(err, ErrAnchor) || e.Seq != 2 {
		t.Fatalf("append at checkpoint: entry %d, err %v", e.Seq, err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("close with nothing new: %v", err)
	}
	if rep := mustVerify(t, dir, key, nil); rep.Entries != 2 || rep.NewestCheckpoint.Size != 2 {
		t.Errorf("report %+v", rep)
	}
}

func TestTwoJournalsInOneProcess(t *testing.T) {
	key, _ := testKey(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := Open(dir, key, Options{CheckpointEvery: 7})
			if err != nil {
				t.Error(err)
				return
			}
			defer j.Close()
			for i := 0; i < 50; i++ {
				if _, err := j.Append(testEntry(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if rep := mustVerify(t, dir, key, nil); rep.Entries != 200 {
		t.Errorf("report %+v", rep)
	}
}

// TestTwoProcessesAppend re-runs the test binary as two children that
// append at once; the chain must come out whole.
func TestTwoProcessesAppend(t *testing.T) {
	if dir := os.Getenv("ATREST_JOURNAL_CHILD_DIR"); dir != "" {
		childAppend(t, dir)
		return
	}
	key, keyPath := testKey(t)
	dir := t.TempDir()
	anchor := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for i := 0; i < 2; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcessesAppend$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "ATREST_JOURNAL_CHILD_DIR="+dir, "ATREST_JOURNAL_CHILD_KEY="+keyPath,
			"ATREST_JOURNAL_CHILD_ANCHOR="+anchor, "ATREST_JOURNAL_CHILD_ID="+strconv.Itoa(i))
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
	}
	rep := mustVerify(t, dir, key, DirAnchor{Dir: anchor})
	if rep.Entries != 1000 || rep.NewestCheckpoint.Size != 1000 || rep.Anchored.Size != 1000 {
		t.Errorf("report %+v", rep)
	}
	per := map[string]int{}
	switches := 0
	prev := ""
	for e, err := range Query(dir, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		per[e.Subject]++
		if prev != "" && e.Subject != prev {
			switches++
		}
		prev = e.Subject
	}
	if per["child-0"] != 500 || per["child-1"] != 500 {
		t.Errorf("entries per child %v", per)
	}
	t.Logf("the children took turns %d times", switches)
}

func childAppend(t *testing.T, dir string) {
	key, err := crypto.LoadSigningKey(os.Getenv("ATREST_JOURNAL_CHILD_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := Open(dir, key, Options{CheckpointEvery: 50, Anchor: DirAnchor{Dir: os.Getenv("ATREST_JOURNAL_CHILD_ANCHOR")}})
	if err != nil {
		t.Fatal(err)
	}
	subject := "child-" + os.Getenv("ATREST_JOURNAL_CHILD_ID")
	for i := 0; i < 500; i++ {
		if _, err := j.Append(Entry{Kind: "scan.files", Subject: subject, Outcome: "ok",
			Figures: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestItemsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	key, _ := testKey(t)
	j := mustOpen(t, dir, key, Options{})
	items := []Item{{Kind: "column", Name: "yb.cb_ryxx.zjhm", State: "plaintext", Type: "cn_resident_id", Note: "high"},
		{Kind: "file", Name: "exports/名单.csv", State: "scanned", Counts: map[string]int{"cn_mobile": 3}}}
	if _, err := j.Append(Entry{Kind: "scan.db", Subject: "yb", Outcome: "findings", Items: items}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(Entry{Kind: "scan.db", Subject: "yb", Outcome: "ok", Items: make([]Item, MaxItems+1)}); err == nil {
		t.Error("an entry with too many items was taken")
	}
	j.Close()
	mustVerify(t, dir, key, nil)
	for e, err := range Query(dir, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Items) != 2 || e.Items[1].Counts["cn_mobile"] != 3 || e.Items[0].Name != "yb.cb_ryxx.zjhm" {
			t.Fatalf("items read back: %+v", e.Items)
		}
	}
}
