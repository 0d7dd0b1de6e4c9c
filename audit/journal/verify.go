package journal

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/tlog"
)

// ProblemKind classifies what Verify found wrong.
type ProblemKind string

const (
	ProblemHash       ProblemKind = "hash"       // an entry's content does not match its hash
	ProblemSeq        ProblemKind = "seq"        // entries missing, repeated, inserted or reordered
	ProblemPrev       ProblemKind = "prev"       // the hash chain link is broken
	ProblemMalformed  ProblemKind = "malformed"  // a line that is not a journal entry
	ProblemTorn       ProblemKind = "torn"       // the last line was cut short
	ProblemCheckpoint ProblemKind = "checkpoint" // bad signature, or root does not match the entries
	ProblemTailCut    ProblemKind = "tail-cut"   // a checkpoint covers more entries than there are
	ProblemSuite      ProblemKind = "suite"      // entry 1's suite is not the verification key's
)

// Problem is the first thing wrong with a journal. It is an error whose
// message names the entry and where it is; errors.Is(p, ErrBroken) holds, and
// errors.Is(p, ErrTorn) for a torn line.
type Problem struct {
	Kind   ProblemKind
	Seq    int    // the entry where the journal goes wrong (its position in the chain)
	Line   int    // 1-based line in File; 0 for an anchor object
	File   string // segment or checkpoint file, or "anchor:<name>"
	Reason string
}

func (p *Problem) Error() string {
	what := "chain broken"
	switch p.Kind {
	case ProblemTorn:
		what = "torn last line"
	case ProblemCheckpoint:
		what = "bad checkpoint"
	case ProblemTailCut:
		what = "tail cut"
	case ProblemSuite:
		what = "suite mismatch"
	}
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("journal: %s at entry %d (%s): %s", what, p.Seq, loc, p.Reason)
}

func (p *Problem) Is(target error) bool {
	return target == ErrBroken || (target == ErrTorn && p.Kind == ProblemTorn)
}

// Report is what Verify found.
type Report struct {
	Suite string // the journal's, from entry 1 ("standard" or "sm"); "" when it has none
	// Base is set when entries were pruned: verification started from its
	// signed checkpoint, and checkpoints below it could not be checked.
	Base             *Base
	Entries          int         // entries verified (all of them when FirstBad is nil)
	Segments         int         // segment files read
	Checkpoints      int         // local checkpoints verified
	NewestCheckpoint *Checkpoint // newest local checkpoint verified, nil if none
	Anchored         *Checkpoint // newest anchored checkpoint verified, nil without anchor
	FirstBad         *Problem
}

// Unsigned is the number of entries no verified checkpoint covers yet.
func (r Report) Unsigned() int {
	if r.NewestCheckpoint == nil {
		return r.Entries
	}
	return r.Entries - r.NewestCheckpoint.Size
}

// Verify checks the journal in dir: every entry's hash, sequence number and
// link to the one before; every checkpoint's signature by pub and its root
// against the entries; and, with an anchor, that the newest anchored
// checkpoint matches the local entries. The hash (SHA-256 or SM3) is the
// suite entry 1 records, which must be pub's (Ed25519: standard, SM2: sm). A journal that fails gives a Report
// with FirstBad set and the same *Problem as the error. Other errors
// (unreadable files, an unreachable anchor) leave FirstBad nil.
func Verify(dir string, pub crypto.PublicKey, anchor Anchor) (Report, error) {
	return VerifyContext(context.Background(), dir, pub, anchor)
}

// VerifyContext is Verify with a context for the anchor calls.
func VerifyContext(ctx context.Context, dir string, pub crypto.PublicKey, anchor Anchor) (Report, error) {
	return verify(ctx, dir, pub, anchor, nil)
}

// verify is VerifyContext holding the entries also against extra
// checkpoints (kept ones, see VerifyFrom).
func verify(ctx context.Context, dir string, pub crypto.PublicKey, anchor Anchor, extra []*ckptCheck) (Report, error) {
	var rep Report
	keySuite, err := suite.Of(pub)
	if err != nil {
		return rep, fmt.Errorf("journal: verify: %w", err)
	}
	if _, err := os.Stat(dir); err != nil {
		return rep, fmt.Errorf("journal: %w", err)
	}
	sn, err := takeSnapshot(dir)
	if err != nil {
		return rep, err
	}
	v := &verifier{dir: dir, vs: newKeyVerifiers(pub), keySuite: keySuite, bySize: map[int][]*ckptCheck{}, rep: &rep}
	if v.base, err = readBase(dir); err != nil {
		v.fail(&Problem{Kind: ProblemMalformed, File: baseFile, Reason: "not a base record (written by a prune)"})
		return rep, rep.FirstBad
	}
	if err := v.loadCheckpoints(sn.ckptSize); err != nil {
		return rep, err
	}
	if anchor != nil {
		if err := v.loadAnchor(ctx, anchor); err != nil {
			return rep, err
		}
	}
	for _, c := range extra {
		v.add(c)
	}
	if err := v.scan(sn.segs); err != nil {
		return rep, err
	}
	if rep.FirstBad == nil {
		v.afterScan()
	}
	if rep.FirstBad != nil {
		return rep, rep.FirstBad
	}
	return rep, nil
}

// ckptCheck is one checkpoint to hold against the entries.
type ckptCheck struct {
	file   string
	line   int
	size   int
	cp     Checkpoint
	bad    string // why the note itself is bad; "" when it verified
	anchor bool
	kept   bool // a checkpoint an officer kept elsewhere (VerifyFrom)
	// verified is set once the entries gave this checkpoint's root.
	verified bool
}

type verifier struct {
	dir      string
	base     *baseRecord // entries 1..base.Seq were pruned (nil: none)
	vs       *keyVerifiers
	keySuite suite.Suite
	bySize   map[int][]*ckptCheck
	pending  []*Problem // problems found outside the chain order
	rep      *Report
	h        *hasher
	covered  int // entries 1..covered lie under some checkpoint
}

func (v *verifier) fail(p *Problem) {
	if v.rep.FirstBad == nil {
		v.rep.FirstBad = p
	}
}

func (v *verifier) add(c *ckptCheck) {
	v.bySize[c.size] = append(v.bySize[c.size], c)
	v.covered = max(v.covered, c.size)
}

// loadCheckpoints reads checkpoints.jsonl up to n bytes and the plain-text
// newest checkpoint. Notes are opened now; they are held against the
// entries when the scan reaches their size.
func (v *verifier) loadCheckpoints(n int64) error {
	if n > 0 {
		r, err := openAt(filepath.Join(v.dir, checkpointsFile), 0, n)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		defer r.Close()
		lr := newLineReader(r)
		prevSize := 0
		for lineNo := 1; ; lineNo++ {
			line, complete, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("journal: %s: %w", checkpointsFile, err)
			}
			if !complete {
				v.pending = append(v.pending, &Problem{Kind: ProblemTorn, Seq: prevSize, File: checkpointsFile, Line: lineNo,
					Reason: "no trailing newline (crash while writing a checkpoint?)"})
				break
			}
			var rec ckptRecord
			if err := json.Unmarshal(line, &rec); err != nil || rec.Size < 1 {
				v.pending = append(v.pending, &Problem{Kind: ProblemCheckpoint, Seq: prevSize, File: checkpointsFile, Line: lineNo,
					Reason: "not a checkpoint record"})
				continue
			}
			c := &ckptCheck{file: checkpointsFile, line: lineNo, size: rec.Size}
			c.cp, err = openCheckpoint([]byte(rec.Note), v.vs)
			switch {
			case err != nil:
				c.bad = err.Error()
			case c.cp.Size != rec.Size:
				c.bad = fmt.Sprintf("record says size %d, the signed note %d", rec.Size, c.cp.Size)
			case rec.Size <= prevSize:
				c.bad = fmt.Sprintf("size %d after a checkpoint of size %d (records reordered?)", rec.Size, prevSize)
			}
			prevSize = max(prevSize, rec.Size)
			v.add(c)
		}
	}
	// The plain-text copy is a convenience, but a forged one is still forged.
	msg, err := os.ReadFile(filepath.Join(v.dir, checkpointFile))
	if err == nil {
		c := &ckptCheck{file: checkpointFile}
		c.cp, err = openCheckpoint(msg, v.vs)
		if err != nil {
			c.bad = err.Error()
			if cp, perr := parseCheckpointBody(string(bytes.SplitN(msg, []byte("\n\n"), 2)[0]) + "\n"); perr == nil {
				c.size = cp.Size
			}
		}
		if c.size == 0 {
			c.size = c.cp.Size
		}
		v.add(c)
	}
	return nil
}

// loadAnchor fetches the newest anchored checkpoint.
func (v *verifier) loadAnchor(ctx context.Context, a Anchor) error {
	names, err := a.List(ctx, anchorPrefix)
	if err != nil {
		return fmt.Errorf("%w: list: %w", ErrAnchor, err)
	}
	newest, name := 0, ""
	for _, n := range names {
		if size, ok := parseAnchorName(n); ok && size > newest {
			newest, name = size, n
		}
	}
	if name == "" {
		return nil
	}
	msg, err := a.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("%w: get %s: %w", ErrAnchor, name, err)
	}
	c := &ckptCheck{file: "anchor:" + name, size: newest, anchor: true}
	c.cp, err = openCheckpoint(msg, v.vs)
	if err != nil {
		c.bad = err.Error()
	} else if c.cp.Size != newest {
		c.bad = fmt.Sprintf("object name says size %d, the signed note %d", newest, c.cp.Size)
	}
	v.add(c)
	return nil
}

// scan walks every entry in order, checking the chain and, at each
// checkpointed size, the Merkle root.
func (v *verifier) scan(segs []segFile) error {
	v.h = newHasher(v.keySuite)
	var tree compactRange
	last := []byte{}
	if v.base != nil {
		var cp Checkpoint
		var err error
		if tree, last, v.h, cp, err = v.base.start(v.vs); err != nil {
			v.fail(&Problem{Kind: ProblemCheckpoint, Seq: v.base.Seq, File: baseFile, Reason: err.Error()})
			return nil
		}
		v.rep.Suite, v.rep.Entries, v.rep.Base = v.base.Suite, tree.n, v.base.info(cp)
		if cs := v.bySize[tree.n]; cs != nil && !v.checkRoots(cs, &tree) {
			return nil
		}
	}
	for i, sf := range segs {
		isLast := i == len(segs)-1
		r, err := openAt(filepath.Join(v.dir, sf.name), 0, sf.size)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		v.rep.Segments++
		lr := newLineReader(r)
		for lineNo := 1; ; lineNo++ {
			line, complete, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return fmt.Errorf("journal: %s: %w", sf.name, err)
			}
			want := tree.n + 1
			p := &Problem{Seq: want, File: sf.name, Line: lineNo}
			if v.base != nil && belowBase(line, v.base.Seq) {
				continue // a segment an interrupted prune left behind
			}
			if want == 1 && complete {
				if kind, reason := v.firstSuite(line); kind != "" {
					p.Kind, p.Reason = kind, reason
					v.fail(p)
					r.Close()
					return nil
				}
			}
			li, leaf, reason, kind := v.checkLine(line, complete, isLast && lr.off == sf.size, want)
			if kind == "" {
				switch {
				case li.seq != want:
					kind, reason = ProblemSeq, seqReason(li.seq, want)
				case !bytes.Equal(li.prev, last):
					kind, reason = ProblemPrev, fmt.Sprintf("prev does not match the hash of entry %d", want-1)
				}
			}
			if kind != "" {
				p.Kind, p.Reason = kind, reason
				v.fail(p)
				r.Close()
				return nil
			}
			last = append(last[:0], li.hash...)
			tree.add(v.h, leaf)
			v.rep.Entries = tree.n
			if cs := v.bySize[tree.n]; cs != nil && !v.checkRoots(cs, &tree) {
				r.Close()
				return nil
			}
		}
		r.Close()
	}
	return nil
}

// belowBase reports a line whose entry was pruned (its number is at most
// the base's): such lines are left only by a prune that was interrupted.
func belowBase(line []byte, seq int) bool {
	li, err := parseLayout(line)
	return err == nil && li.seq <= seq
}

// firstSuite reads the journal's suite from entry 1 and hashes the rest of
// the journal with it. A line that is not JSON is left to checkLine.
func (v *verifier) firstSuite(line []byte) (ProblemKind, string) {
	s, err := lineSuite(line)
	if errors.Is(err, errNotJSON) {
		return "", ""
	}
	if err != nil {
		return ProblemMalformed, err.Error()
	}
	v.rep.Suite = s.Name()
	if s != v.keySuite {
		return ProblemSuite, fmt.Sprintf("the journal's suite is %s, the verification key is of suite %s", s.Name(), v.keySuite.Name())
	}
	v.h = newHasher(s)
	return "", ""
}

// checkLine checks one line on its own: shape and hash.
//
// Only lines past every checkpoint go through json.Valid, which would
// otherwise be most of the cost of Verify. A line a checkpoint covers is
// either byte for byte what Append wrote with encoding/json, hence valid
// JSON, or it changes that checkpoint's root and is reported there.
func (v *verifier) checkLine(line []byte, complete, final bool, seq int) (li lineInfo, leaf tlog.Hash, reason string, kind ProblemKind) {
	if !complete {
		if final {
			return li, leaf, "no trailing newline (crash during an append?)", ProblemTorn
		}
		return li, leaf, "no trailing newline, yet more lines follow", ProblemMalformed
	}
	li, err := parseLayout(line)
	if err == nil && seq > v.covered && !json.Valid(line) {
		err = errNotJSON
	}
	if err != nil {
		if !errors.Is(err, errNotJSON) && !json.Valid(line) {
			err = errNotJSON
		}
		if final && errors.Is(err, errNotJSON) {
			return li, leaf, "not valid JSON (crash during an append?)", ProblemTorn
		}
		return li, leaf, err.Error(), ProblemMalformed
	}
	sum, leaf := v.h.entryHash(line, li)
	if !bytes.Equal(sum, li.hash) {
		return li, leaf, "hash mismatch", ProblemHash
	}
	return li, leaf, "", ""
}

func seqReason(got, want int) string {
	if got == want+1 {
		return fmt.Sprintf("found entry %d where entry %d belongs (entry %d deleted or moved)", got, want, want)
	}
	if got > want {
		return fmt.Sprintf("found entry %d where entry %d belongs (entries %d..%d deleted or moved)", got, want, want, got-1)
	}
	return fmt.Sprintf("found entry %d where entry %d belongs (line inserted, repeated or moved)", got, want)
}

// checkRoots holds the checkpoints of one size against the tree; false
// when one fails.
func (v *verifier) checkRoots(cs []*ckptCheck, tree *compactRange) bool {
	root := tree.root(v.h)
	for _, c := range cs {
		p := &Problem{Kind: ProblemCheckpoint, Seq: c.size, File: c.file, Line: c.line}
		switch {
		case c.bad != "":
			p.Reason = c.bad
		case c.cp.Root != root && c.kept:
			p.Reason = v.keptReason(c)
		case c.cp.Root != root && c.anchor:
			p.Reason = fmt.Sprintf("anchored root does not match entries 1..%d (history rewritten?)", c.size)
		case c.cp.Root != root:
			p.Reason = fmt.Sprintf("root does not match entries 1..%d", c.size)
		}
		if p.Reason != "" {
			v.fail(p)
			return false
		}
		c.verified = true
		cp := c.cp
		switch {
		case c.anchor:
			v.rep.Anchored = &cp
		case c.file == checkpointsFile:
			v.rep.Checkpoints++
			if v.rep.NewestCheckpoint == nil || cp.Size >= v.rep.NewestCheckpoint.Size {
				v.rep.NewestCheckpoint = &cp
			}
		}
	}
	return true
}

// afterScan reports checkpoints beyond the end of the entries and problems
// that have no place in the chain.
func (v *verifier) afterScan() {
	var beyond []*ckptCheck
	for size, cs := range v.bySize {
		if size > v.rep.Entries || size == 0 {
			beyond = append(beyond, cs...)
		}
	}
	sort.Slice(beyond, func(i, k int) bool { return beyond[i].size < beyond[k].size })
	for _, c := range beyond {
		p := &Problem{Seq: v.rep.Entries + 1, File: c.file, Line: c.line}
		switch {
		case c.bad != "":
			p.Kind, p.Reason = ProblemCheckpoint, c.bad
		case c.size == 0:
			p.Kind, p.Reason = ProblemCheckpoint, "checkpoint of an empty journal"
		case c.anchor:
			p.Kind, p.Reason = ProblemTailCut, fmt.Sprintf("the anchored checkpoint covers %d entries, the local journal has %d", c.size, v.rep.Entries)
		case c.kept:
			p.Kind, p.Reason = ProblemTailCut, fmt.Sprintf("the checkpoint kept in %s covers %d entries, the journal has %d",
				strings.TrimPrefix(c.file, "kept:"), c.size, v.rep.Entries)
		default:
			p.Kind, p.Reason = ProblemTailCut, fmt.Sprintf("a checkpoint covers %d entries, the journal has %d", c.size, v.rep.Entries)
		}
		v.fail(p)
		return
	}
	for _, p := range v.pending {
		v.fail(p)
		return
	}
}
