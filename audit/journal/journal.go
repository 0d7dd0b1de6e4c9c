package journal

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/note"
)

// Options tune a Journal; the zero value is usable.
type Options struct {
	// Origin names the log in its checkpoints. Default: the origin of the
	// newest existing checkpoint, else "atrest.journal/<hostname>".
	Origin string
	// SegmentEntries and SegmentBytes start a new segment file when the
	// current one reaches either. Defaults 100000 and 64 MiB. A new month
	// (UTC) starts a new segment too, so retention can prune by the month.
	SegmentEntries int
	SegmentBytes   int64
	// CheckpointEvery writes a signed checkpoint once this many entries have
	// been appended since the last one (checked after each Append or batch).
	// Default 1000. Close always checkpoints what it appended.
	CheckpointEvery int
	// Anchor, when set, receives a copy of every checkpoint.
	Anchor        Anchor
	AnchorTimeout time.Duration // per Put; default 30s
	// Actor fields override the ones taken from the process (OS user,
	// hostname, pid, program name); an entry's own Actor fields win over both.
	Actor Actor
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Journal appends to a journal directory. Its methods are safe for
// concurrent use, and other processes may append to the same directory at
// the same time.
type Journal struct {
	dir   string
	key   crypto.Signer
	suite suite.Suite // the key's, which must be the journal's (entry 1)
	opts  Options
	actor Actor

	mu      sync.Mutex
	lockf   *os.File
	seg     *os.File // open segment file, number st.seg
	st      state
	loaded  bool
	wrote   bool // this Journal appended since its last checkpoint
	closed  bool
	hasher  *hasher // used under mu
	encBuf  bytes.Buffer
	origins map[string]note.Signer
}

var (
	// ErrTorn marks a journal whose last line was cut short (a crash during
	// an append). Appends stop until Recover is run; Verify reports it.
	ErrTorn = errors.New("journal: torn last line")
	// ErrBroken marks a journal that fails verification.
	ErrBroken = errors.New("journal: broken")
	// ErrClosed is returned by a closed Journal.
	ErrClosed = errors.New("journal: closed")
)

// Open opens (creating if needed) the journal in dir. key signs checkpoints
// (an ed25519.PrivateKey, or an SM2 *sm2.PrivateKey for an sm journal); it
// must be the key that signed the existing ones. Its suite is the journal's:
// a new journal takes it and records it in entry 1, an existing one must
// have it. Open reads the journal's tail and refuses a torn or inconsistent
// one.
func Open(dir string, key crypto.Signer, opts Options) (*Journal, error) {
	s, err := suite.Of(key)
	if err != nil {
		return nil, fmt.Errorf("journal: signing key: %w", err)
	}
	if opts.SegmentEntries <= 0 {
		opts.SegmentEntries = 100000
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 64 << 20
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 1000
	}
	if opts.AnchorTimeout <= 0 {
		opts.AnchorTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{dir: dir, key: key, suite: s, hasher: newHasher(s), opts: opts, lockf: lf,
		actor: processActor(opts.Actor), origins: map[string]note.Signer{}}
	if err := flock(lf, true); err != nil {
		lf.Close()
		return nil, err
	}
	err = j.refresh()
	funlock(lf)
	if err != nil {
		j.closeFiles()
		return nil, err
	}
	return j, nil
}

// Dir returns the journal directory.
func (j *Journal) Dir() string { return j.dir }

// Append records one entry and returns it as stored. The entry is on disk
// (fsync'd) when Append returns, even if the error is an anchor error
// (errors.Is(err, ErrAnchor)).
func (j *Journal) Append(e Entry) (Entry, error) {
	out, err := j.AppendBatch([]Entry{e})
	if len(out) == 1 {
		return out[0], err
	}
	return Entry{}, err
}

// AppendBatch records entries in order under one lock and one fsync. Either
// all are stored or none.
func (j *Journal) AppendBatch(entries []Entry) ([]Entry, error) {
	for i := range entries {
		if err := checkEntry(&entries[i]); err != nil {
			return nil, err
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil, ErrClosed
	}
	if len(entries) == 0 {
		return nil, nil
	}
	out, cp, err := j.appendLocked(entries)
	if err != nil {
		return out, err // out is non-nil when the entries are stored but the checkpoint failed
	}
	return out, j.anchorPut(cp)
}

func checkEntry(e *Entry) error {
	if len(e.Items) > MaxItems {
		return fmt.Errorf("journal: %d items, more than %d", len(e.Items), MaxItems)
	}
	if e.Kind == "" || e.Outcome == "" {
		return fmt.Errorf("journal: entry needs a kind and an outcome (kind %q, outcome %q)", e.Kind, e.Outcome)
	}
	return checkFigures(e.Figures)
}

// pendingCheckpoint is a signed note still to be copied to the anchor.
type pendingCheckpoint struct {
	name string
	data []byte
}

func (j *Journal) appendLocked(entries []Entry) ([]Entry, *pendingCheckpoint, error) {
	if err := flock(j.lockf, true); err != nil {
		return nil, nil, err
	}
	defer funlock(j.lockf)
	if err := j.refresh(); err != nil {
		return nil, nil, err
	}
	out, err := j.write(entries)
	if err != nil {
		return nil, nil, err
	}
	j.wrote = true
	var cp *pendingCheckpoint
	if j.st.size-j.st.ckptSize >= j.opts.CheckpointEvery {
		cp, err = j.checkpointLocked()
		if err != nil {
			return out, nil, fmt.Errorf("%w (entries %d..%d are stored)", err, out[0].Seq, out[len(out)-1].Seq)
		}
	}
	return out, cp, nil
}

// write encodes and stores entries after the current tail. On failure it
// takes back what it wrote, so the files end where they began.
func (j *Journal) write(entries []Entry) ([]Entry, error) {
	st := j.st
	st.tree = j.st.tree.clone()
	now := j.opts.Now().UTC()
	out := make([]Entry, len(entries))
	var pending []byte
	startSeg, startOff := st.seg, st.off
	var created []string
	fail := func(err error) ([]Entry, error) {
		j.rollback(startSeg, startOff, created)
		return nil, err
	}
	for i, e := range entries {
		e.Seq = st.size + 1
		e.Time = now
		e.Prev = st.last
		e.Actor = mergeActor(e.Actor, j.actor)
		e.Suite = ""
		if e.Seq == 1 {
			e.Suite = j.suite.Name()
		}
		line, _, leaf, err := encodeLine(&j.encBuf, &e, j.hasher)
		if err != nil {
			return fail(err)
		}
		month := now.Format("2006-01")
		if st.segEntries > 0 && st.segMonth == "" {
			st.segMonth = j.segmentMonth(st.seg)
		}
		if j.seg == nil || st.segEntries >= j.opts.SegmentEntries ||
			(st.segEntries > 0 && st.off+int64(len(line)) > j.opts.SegmentBytes) ||
			(st.segEntries > 0 && st.segMonth != "?" && st.segMonth != month) {
			if err := j.flush(pending); err != nil {
				return fail(err)
			}
			pending = pending[:0]
			name, err := j.newSegment(st.seg + 1)
			if err != nil {
				return fail(err)
			}
			created = append(created, name)
			st.seg, st.off, st.segEntries = st.seg+1, 0, 0
		}
		if st.segEntries == 0 {
			st.segMonth = month
		}
		pending = append(pending, line...)
		st.off += int64(len(line))
		st.segEntries++
		st.size++
		st.last = e.Hash
		st.tree.add(j.hasher, leaf)
		out[i] = e
	}
	if err := j.flush(pending); err != nil {
		return fail(err)
	}
	j.st = st
	return out, nil
}

// segmentMonth is the month (UTC) of a segment's first entry, so that a
// segment holds one month at most and retention prunes by the month; "?"
// when it cannot be read (the size limits still roll segments over).
func (j *Journal) segmentMonth(seg int) string {
	line, err := firstLine(filepath.Join(j.dir, segName(seg)))
	if err != nil {
		return "?"
	}
	e, err := parseForQuery(line)
	if err != nil {
		return "?"
	}
	return e.Time.UTC().Format("2006-01")
}

// flush writes b to the open segment and makes it durable.
func (j *Journal) flush(b []byte) error {
	if j.seg == nil {
		return nil
	}
	if len(b) > 0 {
		if _, err := j.seg.Write(b); err != nil {
			return fmt.Errorf("journal: write %s: %w", j.seg.Name(), err)
		}
	}
	if err := j.seg.Sync(); err != nil {
		return fmt.Errorf("journal: fsync %s: %w", j.seg.Name(), err)
	}
	return nil
}

func (j *Journal) newSegment(n int) (string, error) {
	path := filepath.Join(j.dir, segName(n))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
	if err != nil {
		return "", fmt.Errorf("journal: new segment: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return "", fmt.Errorf("journal: new segment: %w", err)
	}
	if j.seg != nil {
		j.seg.Close()
	}
	j.seg = f
	return path, nil
}

// rollback undoes a failed write: it removes the segments the write created
// and cuts the one it started in back to its old end. These bytes were never
// acknowledged to anyone, so this is not a repair of the record.
func (j *Journal) rollback(seg int, off int64, created []string) {
	for _, p := range created {
		os.Remove(p)
	}
	if seg > 0 {
		os.Truncate(filepath.Join(j.dir, segName(seg)), off)
	}
	if j.seg != nil {
		j.seg.Close()
		j.seg = nil
	}
	j.loaded = false // reread everything under the next lock
}

// Checkpoint signs a checkpoint of the whole journal now, unless the newest
// one already covers it, and copies it to the anchor.
func (j *Journal) Checkpoint(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	cp, err := j.checkpointNow()
	if err != nil {
		return err
	}
	return j.anchorPutCtx(ctx, cp)
}

func (j *Journal) checkpointNow() (*pendingCheckpoint, error) {
	if err := flock(j.lockf, true); err != nil {
		return nil, err
	}
	defer funlock(j.lockf)
	if err := j.refresh(); err != nil {
		return nil, err
	}
	if j.st.size == j.st.ckptSize {
		j.wrote = false
		return nil, nil
	}
	return j.checkpointLocked()
}

// Close checkpoints what this Journal appended and releases its files.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	var err error
	if j.wrote {
		var cp *pendingCheckpoint
		cp, err = j.checkpointNow()
		if err == nil {
			err = j.anchorPut(cp)
		}
	}
	j.closed = true
	j.closeFiles()
	return err
}

func (j *Journal) closeFiles() {
	if j.seg != nil {
		j.seg.Close()
		j.seg = nil
	}
	j.lockf.Close()
}

func (j *Journal) anchorPut(cp *pendingCheckpoint) error {
	ctx, cancel := context.WithTimeout(context.Background(), j.opts.AnchorTimeout)
	defer cancel()
	return j.anchorPutCtx(ctx, cp)
}

func (j *Journal) anchorPutCtx(ctx context.Context, cp *pendingCheckpoint) error {
	if cp == nil || j.opts.Anchor == nil {
		return nil
	}
	if err := j.opts.Anchor.Put(ctx, cp.name, cp.data); err != nil {
		return fmt.Errorf("%w: put %s: %w", ErrAnchor, cp.name, err)
	}
	return nil
}

func processActor(over Actor) Actor {
	a := Actor{PID: os.Getpid(), Process: filepath.Base(os.Args[0])}
	if u, err := user.Current(); err == nil {
		a.OSUser = u.Username
	} else if s := os.Getenv("USER"); s != "" {
		a.OSUser = s
	} else {
		a.OSUser = "uid:" + strconv.Itoa(os.Getuid())
	}
	a.Host, _ = os.Hostname()
	return mergeActor(over, a)
}

// mergeActor fills a's empty fields from def.
func mergeActor(a, def Actor) Actor {
	if a.OSUser == "" {
		a.OSUser = def.OSUser
	}
	if a.Host == "" {
		a.Host = def.Host
	}
	if a.PID == 0 {
		a.PID = def.PID
	}
	if a.Process == "" {
		a.Process = def.Process
	}
	if a.WebUser == "" {
		a.WebUser = def.WebUser
	}
	return a
}
