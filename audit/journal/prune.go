package journal

import (
	"bytes"
	"context"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/atomicfile"
)

// Retention: the law asks that records be kept at least six months, and a
// journal that grows for ever is a cost. Prune deletes whole segments whose
// every entry is older than the retention, and only below a checkpoint that
// is anchored, so the anchor still proves what the deleted entries added up
// to. It leaves base.json behind: the last deleted entry's hash, the compact
// range of the tree before it, and a checkpoint signed at exactly that size.
// Verification then starts there: the base's note must verify, the range
// and the hash must give its root, and the first kept entry must link to
// the hash. Segments roll over at the turn of each month (UTC) as well as at
// SegmentEntries and SegmentBytes, so a month is the unit of pruning.

const baseFile = "base.json"

// baseRecord is base.json.
type baseRecord struct {
	Seq    int         `json:"seq"`   // the last pruned entry
	Hash   string      `json:"hash"`  // its entry hash, hex
	Range  []tlog.Hash `json:"range"` // compact range of entries 1..Seq-1
	Note   string      `json:"note"`  // checkpoint of entries 1..Seq, signed when pruned
	Suite  string      `json:"suite"` // the journal's, since entry 1 is gone
	Time   time.Time   `json:"time"`
	Pruned []prunedSeg `json:"pruned"` // every segment pruned so far
}

type prunedSeg struct {
	Name     string    `json:"name"`
	First    int       `json:"first"`
	Last     int       `json:"last"`
	LastTime time.Time `json:"last_time"`
	Pruned   time.Time `json:"pruned"`
}

// Base says where verification of a pruned journal starts.
type Base struct {
	Seq      int        // entries 1..Seq were pruned
	Pruned   time.Time  // when, last
	Oldest   time.Time  // the newest time among the pruned entries
	Segments int        // segment files pruned so far
	Note     Checkpoint // the checkpoint of entries 1..Seq
}

func readBase(dir string) (*baseRecord, error) {
	b, err := os.ReadFile(filepath.Join(dir, baseFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var rec baseRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.Seq < 1 {
		return nil, fmt.Errorf("%w: %s: not a base record", ErrBroken, baseFile)
	}
	return &rec, nil
}

// start checks a base record with the verification key and returns the tree
// and chain hash to go on from.
func (b *baseRecord) start(vs *keyVerifiers) (tree compactRange, last []byte, h *hasher, cp Checkpoint, err error) {
	s, err := suite.Get(b.Suite)
	if err != nil {
		return tree, nil, nil, cp, fmt.Errorf("%s names %v", baseFile, err)
	}
	h = newHasher(s)
	if cp, err = openCheckpoint([]byte(b.Note), vs); err != nil {
		return tree, nil, nil, cp, fmt.Errorf("%s: %v", baseFile, err)
	}
	raw, err := hex.DecodeString(b.Hash)
	tree = compactRange{n: b.Seq - 1, nodes: b.Range}
	if err != nil || len(raw) != hashSize || !tree.valid() {
		return tree, nil, nil, cp, fmt.Errorf("%s: hash or range malformed", baseFile)
	}
	tree = tree.clone()
	tree.add(h, h.leaf(raw))
	if cp.Size != b.Seq || tree.root(h) != cp.Root {
		return tree, nil, nil, cp, fmt.Errorf("%s: the pruned entries' range and hash do not give its signed root", baseFile)
	}
	return tree, []byte(b.Hash), h, cp, nil
}

func (b *baseRecord) info(cp Checkpoint) *Base {
	out := &Base{Seq: b.Seq, Pruned: b.Time, Segments: len(b.Pruned), Note: cp}
	for _, p := range b.Pruned {
		if p.LastTime.After(out.Oldest) {
			out.Oldest = p.LastTime
		}
	}
	return out
}

// PruneResult says what Prune did (or, dry, would do).
type PruneResult struct {
	Segments []string // the segment files deleted
	Through  int      // entries up to this one are gone (0: nothing pruned)
	Entries  int      // entries deleted by this prune
	Reason   string   // why nothing (more) could go, when that is the case
}

// Prune deletes the segments whose every entry is older than retention,
// never the newest segment and never beyond the newest checkpoint the
// anchor holds; the journal must verify first. It journals what it did
// (kind journal.prune) through a Journal it opens with key.
func Prune(ctx context.Context, dir string, key crypto.Signer, anchor Anchor, retention time.Duration, now time.Time, dry bool) (PruneResult, error) {
	var res PruneResult
	if anchor == nil {
		return res, errors.New("journal: prune: needs journal.anchor: entries go only below a checkpoint copied elsewhere")
	}
	rep, err := VerifyContext(ctx, dir, key.Public(), anchor)
	if err != nil {
		return res, fmt.Errorf("journal: prune: the journal does not verify, nothing pruned: %w", err)
	}
	if rep.Anchored == nil {
		res.Reason = "no checkpoint is anchored yet"
		return res, nil
	}
	sn, err := takeSnapshot(dir)
	if err != nil {
		return res, err
	}
	base, err := readBase(dir)
	if err != nil {
		return res, err
	}
	cut := now.Add(-retention)
	var leftover, drop []prunedSeg
	for _, sf := range sn.segs[:max(len(sn.segs)-1, 0)] {
		first, last, lastTime, err := segmentBounds(dir, sf)
		if err != nil {
			return res, err
		}
		seg := prunedSeg{Name: sf.name, First: first, Last: last, LastTime: lastTime}
		switch {
		case base != nil && last <= base.Seq:
			leftover = append(leftover, seg) // an interrupted prune's: the base covers it already
			continue
		case !lastTime.Before(cut):
			res.Reason = fmt.Sprintf("%s holds entries newer than the retention (%s)", sf.name, lastTime.Format(time.RFC3339))
		case last > rep.Anchored.Size:
			res.Reason = fmt.Sprintf("%s holds entries after the newest anchored checkpoint (%d)", sf.name, rep.Anchored.Size)
		default:
			drop = append(drop, seg)
			continue
		}
		break
	}
	for _, d := range append(leftover, drop...) {
		res.Segments = append(res.Segments, d.Name)
	}
	if len(drop) == 0 {
		if res.Reason == "" {
			res.Reason = "nothing but the newest segment is left"
		}
		if !dry {
			return res, removeSegments(dir, leftover)
		}
		return res, nil
	}
	through := drop[len(drop)-1].Last
	res.Through, res.Entries = through, through
	if base != nil {
		res.Entries = through - base.Seq
	}
	if dry {
		return res, nil
	}
	next, err := newBase(dir, sn.segs, base, through, key, rep.Suite, now)
	if err != nil {
		return res, err
	}
	for i := range drop {
		drop[i].Pruned = now.UTC()
	}
	if base != nil {
		next.Pruned = append(append([]prunedSeg(nil), base.Pruned...), drop...)
	} else {
		next.Pruned = drop
	}
	// The base first, then the segments: a crash between leaves segments
	// that verification skips and the next prune deletes.
	data, _ := json.MarshalIndent(next, "", " ")
	if err := atomicfile.Write(filepath.Join(dir, baseFile), append(data, '\n'), 0o640); err != nil {
		return res, fmt.Errorf("journal: prune: %w", err)
	}
	if err := removeSegments(dir, append(leftover, drop...)); err != nil {
		return res, err
	}
	j, err := Open(dir, key, Options{})
	if err != nil {
		return res, err
	}
	_, err = j.Append(Entry{Kind: "journal.prune", Subject: dir, Outcome: "ok",
		Figures: map[string]any{"through": through, "entries": res.Entries, "segments": len(drop),
			"retention_days": retention.Hours() / 24, "anchored": rep.Anchored.Size},
		Detail: fmt.Sprintf("entries 1..%d older than the retention deleted (%d segments); verification now starts from a checkpoint of entry %d, below the anchored checkpoint %d",
			through, len(drop), through, rep.Anchored.Size)})
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return res, err
}

func removeSegments(dir string, segs []prunedSeg) error {
	for _, d := range segs {
		if err := os.Remove(filepath.Join(dir, d.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("journal: prune: %w", err)
		}
	}
	return syncDir(dir)
}

// segmentBounds reads a segment's first and last entry numbers and the time
// of its last entry.
func segmentBounds(dir string, sf segFile) (first, last int, lastTime time.Time, err error) {
	path := filepath.Join(dir, sf.name)
	fl, err := firstLine(path)
	if err != nil {
		return 0, 0, lastTime, fmt.Errorf("journal: %s: %v", sf.name, err)
	}
	ll, _, _, err := lastLine(path)
	if err != nil || len(ll) == 0 {
		return 0, 0, lastTime, fmt.Errorf("journal: %s: no last line", sf.name)
	}
	f, errF := parseForQuery(fl)
	l, errL := parseForQuery(ll)
	if errF != nil || errL != nil {
		return 0, 0, lastTime, fmt.Errorf("%w: %s: an unreadable first or last entry", ErrBroken, sf.name)
	}
	return f.Seq, l.Seq, l.Time, nil
}

// newBase reads the entries from the old base (or entry 1) through entry
// through, and signs a checkpoint of that size.
func newBase(dir string, segs []segFile, old *baseRecord, through int, key crypto.Signer, suiteName string, now time.Time) (*baseRecord, error) {
	s, err := suite.Get(suiteName)
	if err != nil {
		return nil, err
	}
	h := newHasher(s)
	var tree compactRange
	origin := ""
	if old != nil {
		if tree, _, h, _, err = old.start(newKeyVerifiers(key.Public())); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBroken, err)
		}
	}
	var rec baseRecord
	for _, sf := range segs {
		if tree.n >= through {
			break
		}
		r, err := openAt(filepath.Join(dir, sf.name), 0, sf.size)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		lr := newLineReader(r)
		for tree.n < through {
			line, complete, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil || !complete {
				r.Close()
				return nil, fmt.Errorf("%w: %s: unreadable line while pruning", ErrBroken, sf.name)
			}
			li, err := parseLayout(line)
			if err != nil {
				r.Close()
				return nil, fmt.Errorf("%w: %s: %v", ErrBroken, sf.name, err)
			}
			if li.seq <= tree.n {
				continue // below the old base: a segment an interrupted prune left
			}
			if li.seq != tree.n+1 {
				r.Close()
				return nil, fmt.Errorf("%w: %s: entry %d where %d belongs", ErrBroken, sf.name, li.seq, tree.n+1)
			}
			hexHash, leaf := h.entryHash(line, li)
			if li.seq == through {
				rec.Range = append([]tlog.Hash(nil), tree.nodes...)
				rec.Hash = string(hexHash)
			}
			tree.add(h, leaf)
		}
		r.Close()
	}
	if tree.n != through {
		return nil, fmt.Errorf("%w: entry %d not found while pruning", ErrBroken, through)
	}
	if rec, err := readLastCheckpointRecord(dir); err == nil && rec != nil {
		if cp, err := parseCheckpointBody(string(bytes.SplitN([]byte(rec.Note), []byte("\n\n"), 2)[0]) + "\n"); err == nil {
			origin = cp.Origin
		}
	}
	if origin == "" {
		host, _ := os.Hostname()
		origin = defaultOrigin(host)
	}
	signer, err := suite.NoteSigner(origin, key)
	if err != nil {
		return nil, fmt.Errorf("journal: prune: %w", err)
	}
	cp := Checkpoint{Origin: origin, Size: through, Root: tree.root(h), Time: now.UTC()}
	msg, err := note.Sign(&note.Note{Text: checkpointBody(cp)}, signer)
	if err != nil {
		return nil, fmt.Errorf("journal: prune: sign: %w", err)
	}
	rec.Seq, rec.Note, rec.Suite, rec.Time = through, string(msg), s.Name(), now.UTC()
	return &rec, nil
}

// readLastCheckpointRecord is the newest line of checkpoints.jsonl.
func readLastCheckpointRecord(dir string) (*ckptRecord, error) {
	line, _, _, err := lastLine(filepath.Join(dir, checkpointsFile))
	if err != nil || len(line) == 0 {
		return nil, err
	}
	var rec ckptRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}
