package journal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Tailer reads a journal directory incrementally: the first Poll reads every
// entry (a daemon's rebuild of its views at start), later polls only what was
// appended since, by this process or another (the CLI). It keeps a byte offset
// per segment, so a poll costs what was appended, not the whole journal, and
// checks each line with ParseEntry.
//
// Like Query it does not check the chain: that is Verify's business.
type Tailer struct {
	dir     string
	seg     int   // segment being read; 0 before the first
	off     int64 // bytes of seg consumed (whole lines only)
	lastSeq int   // highest sequence number handed out
	// torn is set when the journal ends in a line without its newline while
	// no writer holds the lock: a crash cut it, and appends fail until an
	// operator runs recovery.
	torn bool
}

// NewTailer returns a Tailer for the journal in dir.
func NewTailer(dir string) *Tailer { return &Tailer{dir: dir} }

// Torn reports whether the last Poll found the journal ending in a line
// without its newline while no writer held the lock: a crash cut it, and
// appends fail until an operator runs Recover.
func (t *Tailer) Torn() bool { return t.torn }

// Poll hands every entry stored since the last poll to fn, oldest first,
// and returns the lines it could not parse (each is reported once).
func (t *Tailer) Poll(fn func(Entry)) (bad []error, err error) {
	segs, locked, err := t.snapshot()
	if err != nil {
		return nil, err
	}
	t.torn = false
	for i, s := range segs {
		if s.num < t.seg {
			continue
		}
		if s.num > t.seg {
			t.seg, t.off = s.num, 0
		}
		if s.size <= t.off {
			continue
		}
		b, fragment, err := t.readSegment(s, fn)
		bad = append(bad, b...)
		if err != nil {
			return bad, err
		}
		t.torn = fragment && locked && i == len(segs)-1
	}
	return bad, nil
}

type segExtent struct {
	num  int
	name string
	size int64
}

// snapshot lists the segments and their sizes under a shared lock, so that
// an append that is being written (or rolled back after a failed write) is
// either wholly in the sizes or not at all.
func (t *Tailer) snapshot() (segs []segExtent, locked bool, err error) {
	if lf, err := os.Open(filepath.Join(t.dir, "lock")); err == nil {
		defer lf.Close()
		if err := flock(lf, false); err != nil {
			return nil, false, err
		}
		defer funlock(lf)
		locked = true
	}
	ents, err := os.ReadDir(t.dir)
	if err != nil {
		return nil, false, fmt.Errorf("journal %s: %w", t.dir, err)
	}
	for _, de := range ents {
		n, ok := parseSegName(de.Name())
		if !ok || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			return nil, false, fmt.Errorf("journal %s: %w", t.dir, err)
		}
		segs = append(segs, segExtent{num: n, name: de.Name(), size: fi.Size()})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].num < segs[j].num })
	return segs, locked, nil
}

// readSegment reads s from t.off to its snapshot size. A last line without
// its newline is left unread: it is either still being written or torn, and
// in both cases not yet an entry.
func (t *Tailer) readSegment(s segExtent, fn func(Entry)) (bad []error, fragment bool, err error) {
	f, err := os.Open(filepath.Join(t.dir, s.name))
	if err != nil {
		return nil, false, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.NewSectionReader(f, t.off, s.size-t.off), 256<<10)
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return bad, len(line) > 0, nil // a fragment stays for the next poll
		}
		if err != nil {
			return bad, false, fmt.Errorf("journal: read %s: %w", s.name, err)
		}
		t.off += int64(len(line))
		e, err := ParseEntry(bytes.TrimSuffix(line, []byte("\n")))
		if err != nil {
			bad = append(bad, fmt.Errorf("%s after entry %d: %w", s.name, t.lastSeq, err))
			continue
		}
		if e.Seq <= t.lastSeq {
			continue
		}
		t.lastSeq = e.Seq
		fn(e)
	}
}
