package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/atomicfile"
	"golang.org/x/mod/sumdb/note"
)

// state is the journal's tail as a writer needs it.
type state struct {
	size       int    // entries
	last       string // hash of entry size, "" when empty
	tree       compactRange
	seg        int    // newest segment number, 0 when none
	off        int64  // end of the last whole line in segment seg
	segEntries int    // entries in segment seg
	segMonth   string // YYYY-MM (UTC) of segment seg's first entry; "" not read yet
	ckptSize   int    // size of the newest checkpoint
	ckptBytes  int64  // length of checkpoints.jsonl as last read
	origin     string
}

// refresh brings j.st up to date with the files, which other processes may
// have extended since j last held the lock. Called with the lock held.
func (j *Journal) refresh() error {
	if !j.loaded {
		if err := j.load(); err != nil {
			return err
		}
	} else if err := j.refreshCheckpoint(); err != nil {
		return err
	}
	if err := j.catchUp(); err != nil {
		j.loaded = false
		return err
	}
	j.loaded = true
	return nil
}

// load starts from the newest checkpoint record (or the empty journal) and
// checks that the key signing it is ours.
func (j *Journal) load() error {
	if j.seg != nil {
		j.seg.Close()
		j.seg = nil
	}
	j.st = state{}
	rec, n, err := j.readLastCheckpoint()
	if err != nil || rec == nil {
		return err
	}
	if err := j.checkFirstSuite(); err != nil {
		return err
	}
	cp, err := openCheckpoint([]byte(rec.Note), newKeyVerifiers(j.key.Public()))
	if err != nil {
		return fmt.Errorf("journal: newest checkpoint in %s: %v: is this the journal's signing key?", checkpointsFile, err)
	}
	tree := compactRange{n: rec.Size, nodes: rec.Range}
	if cp.Size != rec.Size || !tree.valid() || tree.root(j.hasher) != cp.Root || rec.Segment < 1 || rec.Offset < 0 {
		return fmt.Errorf("%w: newest record in %s does not match its signed checkpoint; run audit verify", ErrBroken, checkpointsFile)
	}
	j.st = state{size: rec.Size, last: rec.Hash, tree: tree, seg: rec.Segment, off: rec.Offset,
		segEntries: rec.SegEntries, ckptSize: rec.Size, ckptBytes: n, origin: cp.Origin}
	return nil
}

// checkFirstSuite holds the suite entry 1 records against the key's.
func (j *Journal) checkFirstSuite() error {
	line, err := firstLine(filepath.Join(j.dir, segName(1)))
	if errors.Is(err, fs.ErrNotExist) {
		// Entry 1 was pruned: base.json says the suite.
		base, berr := readBase(j.dir)
		if berr != nil || base == nil {
			return fmt.Errorf("%w: %s is missing and there is no %s; run audit verify", ErrBroken, segName(1), baseFile)
		}
		s, serr := suite.Get(base.Suite)
		if serr != nil {
			return fmt.Errorf("%w: %s: %v", ErrBroken, baseFile, serr)
		}
		if s != j.suite {
			return fmt.Errorf("journal: this journal's suite is %s (%s), the signing key's is %s", s.Name(), baseFile, j.suite.Name())
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v; run audit verify", ErrBroken, segName(1), err)
	}
	return j.sameSuite(line)
}

// sameSuite refuses to append to a journal of another suite than the key's.
func (j *Journal) sameSuite(entry1 []byte) error {
	s, err := lineSuite(entry1)
	if err != nil {
		return fmt.Errorf("%w: %s:1: %v; run audit verify", ErrBroken, segName(1), err)
	}
	if s != j.suite {
		return fmt.Errorf("journal: this journal's suite is %s (entry 1), the signing key's is %s: a journal keeps its suite for life",
			s.Name(), j.suite.Name())
	}
	return nil
}

// refreshCheckpoint notices checkpoints written by other processes.
func (j *Journal) refreshCheckpoint() error {
	fi, err := os.Stat(filepath.Join(j.dir, checkpointsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || fi.Size() == j.st.ckptBytes {
		return err
	}
	rec, n, err := j.readLastCheckpoint()
	if err != nil || rec == nil {
		return err
	}
	j.st.ckptSize, j.st.ckptBytes = rec.Size, n
	return nil
}

func (j *Journal) readLastCheckpoint() (*ckptRecord, int64, error) {
	path := filepath.Join(j.dir, checkpointsFile)
	line, frag, off, err := lastLine(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("journal: %w", err)
	}
	if len(frag) > 0 {
		return nil, 0, fmt.Errorf("%w: %s at byte %d has no trailing newline; appends stop until journal.Recover is run",
			ErrTorn, checkpointsFile, off+int64(len(line))+1)
	}
	if len(line) == 0 {
		return nil, 0, nil
	}
	var rec ckptRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, 0, fmt.Errorf("%w: last line of %s: %v", ErrTorn, checkpointsFile, err)
	}
	return &rec, off + int64(len(line)) + 1, nil
}

// catchUp reads the entries after j.st, checking each as it goes, and opens
// the newest segment for appending.
func (j *Journal) catchUp() error {
	h := j.hasher
	for {
		if j.st.seg == 0 {
			if _, err := os.Stat(filepath.Join(j.dir, segName(1))); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return fmt.Errorf("journal: %w", err)
			}
			j.st.seg = 1
		}
		name := segName(j.st.seg)
		path := filepath.Join(j.dir, name)
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("%w: %s: %v (tail cut?)", ErrBroken, name, err)
		}
		if fi.Size() < j.st.off {
			return fmt.Errorf("%w: %s is %d bytes, shorter than the %d already recorded (tail cut?); run audit verify",
				ErrBroken, name, fi.Size(), j.st.off)
		}
		if fi.Size() > j.st.off {
			if err := j.readTail(h, path, name, fi.Size()); err != nil {
				return err
			}
		}
		if _, err := os.Stat(filepath.Join(j.dir, segName(j.st.seg+1))); err == nil {
			j.st.seg++
			j.st.off, j.st.segEntries = 0, 0
			continue
		}
		if j.seg == nil || j.seg.Name() != path {
			if j.seg != nil {
				j.seg.Close()
			}
			j.seg, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return fmt.Errorf("journal: %w", err)
			}
		}
		return nil
	}
}

func (j *Journal) readTail(h *hasher, path, name string, end int64) error {
	r, err := openAt(path, j.st.off, end)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer r.Close()
	lr := newLineReader(r)
	for {
		at := j.st.off
		line, complete, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("journal: %s: %w", name, err)
		}
		if !complete {
			return fmt.Errorf("%w: %s at byte %d has no trailing newline; appends stop until journal.Recover is run",
				ErrTorn, name, at)
		}
		li, err := parseLine(line)
		if err != nil {
			return fmt.Errorf("%w: %s at byte %d: %v; run audit verify", ErrBroken, name, at, err)
		}
		if j.st.size == 0 {
			if err := j.sameSuite(line); err != nil {
				return err
			}
		}
		sum, leaf := h.entryHash(line, li)
		if li.seq != j.st.size+1 || string(li.prev) != j.st.last || !bytes.Equal(sum, li.hash) {
			return fmt.Errorf("%w: %s at byte %d: entry %d does not follow entry %d; run audit verify",
				ErrBroken, name, at, li.seq, j.st.size)
		}
		j.st.tree.add(h, leaf)
		j.st.size++
		j.st.last = string(li.hash)
		j.st.off += int64(len(line)) + 1
		j.st.segEntries++
	}
}

// checkpointLocked signs the tree at the current size, appends the record to
// checkpoints.jsonl and refreshes the plain-text copy. Lock held.
func (j *Journal) checkpointLocked() (*pendingCheckpoint, error) {
	origin := j.opts.Origin
	if origin == "" {
		origin = j.st.origin
	}
	if origin == "" {
		origin = defaultOrigin(j.actor.Host)
	}
	signer, ok := j.origins[origin]
	if !ok {
		var err error
		if signer, err = suite.NoteSigner(origin, j.key); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		j.origins[origin] = signer
	}
	cp := Checkpoint{Origin: origin, Size: j.st.size, Root: j.st.tree.root(j.hasher), Time: j.opts.Now().UTC()}
	msg, err := note.Sign(&note.Note{Text: checkpointBody(cp)}, signer)
	if err != nil {
		return nil, fmt.Errorf("journal: sign checkpoint: %w", err)
	}
	rec := ckptRecord{Size: cp.Size, Note: string(msg), Hash: j.st.last, Segment: j.st.seg,
		Offset: j.st.off, SegEntries: j.st.segEntries, Range: j.st.tree.nodes}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, fmt.Errorf("journal: checkpoint: %w", err)
	}
	path := filepath.Join(j.dir, checkpointsFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("journal: checkpoint: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && j.st.ckptBytes == 0 {
		err = syncDir(j.dir)
	}
	if err != nil {
		os.Truncate(path, j.st.ckptBytes)
		return nil, fmt.Errorf("journal: checkpoint: %w", err)
	}
	j.st.ckptSize, j.st.ckptBytes, j.st.origin = cp.Size, j.st.ckptBytes+int64(buf.Len()), origin
	j.wrote = false
	if err := atomicfile.Write(filepath.Join(j.dir, checkpointFile), msg, 0o640); err != nil {
		return nil, fmt.Errorf("journal: checkpoint: %w", err)
	}
	return &pendingCheckpoint{name: anchorName(cp.Size), data: msg}, nil
}
