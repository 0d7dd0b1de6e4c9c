package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"time"
)

// Reading a page of the journal without reading the journal.
//
// Entry sequence numbers ascend along the segments, and so do entry times
// (Append stamps them from one clock under the lock; a clock stepped back
// breaks this only around the step). So the position of an entry by seq or
// by time is found by binary search: over the segments by their first
// entry, then inside one segment by byte offset, reading one line per step.
// From there Newest reads backwards and Oldest forwards, a block at a time,
// and stop as soon as the caller has what it wants. A page then costs the
// entries it shows and skips, and a few dozen reads to find its place: the
// same for a journal of a thousand entries and of a million.

// Newest yields the entries that pass f, newest first. It starts at the
// upper bound (f.Before, f.Until) and stops at the lower one (f.After,
// f.Since), so its cost follows what it yields and skips, not the length of
// the journal. Lines that are not valid entries are yielded as *Problem
// errors and the walk goes on if the caller continues.
func Newest(dir string, f Filter) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		s, err := newSeeker(dir)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		defer s.close()
		seg, off, err := s.find(upperBound(f))
		if err != nil {
			yield(Entry{}, err)
			return
		}
		for ; seg >= 0; seg-- {
			end := s.segs[seg].size
			if off >= 0 {
				end, off = off, -1
			}
			if !s.backward(seg, end, f, yield) {
				return
			}
		}
	}
}

// Oldest yields the entries that pass f, oldest first, starting at the
// lower bound (f.After, f.Since) found by binary search: Query's order at
// a page's cost.
func Oldest(dir string, f Filter) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		s, err := newSeeker(dir)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		defer s.close()
		seg, off := 0, int64(0)
		if lb := lowerBound(f); lb != nil {
			if seg, off, err = s.find(lb); err != nil {
				yield(Entry{}, err)
				return
			}
		}
		seq := 0 // the entry before the first one read
		if seg < len(s.segs) {
			if _, sq, _, ok, _ := s.keyFrom(seg, off, s.segs[seg].size); ok {
				seq = sq - 1
			}
		}
		for ; seg < len(s.segs); seg++ {
			start := int64(0)
			if off >= 0 {
				start, off = off, -1
			}
			if !s.forward(seg, start, f, &seq, yield) {
				return
			}
		}
	}
}

// Lookup returns the entry with sequence number seq, reading a few lines
// around it; ErrNoEntry if the journal has none.
func Lookup(dir string, seq int) (Entry, error) {
	for e, err := range Oldest(dir, Filter{After: seq - 1}) {
		if err != nil {
			var p *Problem
			if errors.As(err, &p) {
				continue
			}
			return Entry{}, err
		}
		if e.Seq == seq {
			return e, nil
		}
		break
	}
	return Entry{}, fmt.Errorf("%w: %d", ErrNoEntry, seq)
}

// ErrNoEntry is Lookup's answer for a sequence number the journal does not
// hold.
var ErrNoEntry = errors.New("journal: no such entry")

// bound is a place in the journal: the first entry that is at or past it.
// past must be monotone along the journal (false, then true).
type bound func(seq int, t time.Time) bool

// upperBound: the first entry Newest must not yield (nil: the end).
func upperBound(f Filter) bound {
	if f.Before <= 0 && f.Until.IsZero() {
		return nil
	}
	return func(seq int, t time.Time) bool {
		return (f.Before > 0 && seq >= f.Before) || (!f.Until.IsZero() && !t.Before(f.Until))
	}
}

// lowerBound: the first entry Oldest may yield (nil: the start).
func lowerBound(f Filter) bound {
	if f.After <= 0 && f.Since.IsZero() {
		return nil
	}
	return func(seq int, t time.Time) bool {
		return (f.After <= 0 || seq > f.After) && (f.Since.IsZero() || !t.Before(f.Since))
	}
}

// seeker reads one snapshot of the journal's segments.
type seeker struct {
	dir   string
	segs  []segFile
	files map[int]*os.File
	// win caches the bytes last read for the search, from winOff in
	// segment winSeg.
	win    []byte
	winSeg int
	winOff int64
}

// newSeeker takes a snapshot of the journal in dir: its segments and
// their sizes now, which later appends do not change.
func newSeeker(dir string) (*seeker, error) {
	sn, err := takeSnapshot(dir)
	if err != nil {
		return nil, err
	}
	return &seeker{dir: dir, segs: sn.segs, winSeg: -1}, nil
}

func (s *seeker) close() {
	for _, f := range s.files {
		f.Close()
	}
}

func (s *seeker) file(seg int) (*os.File, error) {
	if f := s.files[seg]; f != nil {
		return f, nil
	}
	f, err := os.Open(filepath.Join(s.dir, s.segs[seg].name))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if s.files == nil {
		s.files = map[int]*os.File{}
	}
	s.files[seg] = f
	return f, nil
}

// find returns where b falls: the segment and the offset of the first line
// at or past b. With b nil, or past everything, it is the end of the last
// segment (off -1: "the whole segment"); before everything, segment 0 at 0.
func (s *seeker) find(b bound) (seg int, off int64, err error) {
	last := len(s.segs) - 1
	if b == nil || last < 0 {
		return last, -1, nil
	}
	// The first segment whose first entry is past b; b falls in the one
	// before it (or at its very start).
	lo, hi := 0, len(s.segs)
	for lo < hi {
		mid := (lo + hi) / 2
		past, err := s.pastAt(mid, 0, b)
		if err != nil {
			return 0, 0, err
		}
		if past {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == 0 {
		return 0, 0, nil
	}
	seg = lo - 1
	off, err = s.search(seg, b)
	return seg, off, err
}

// pastAt reports whether the first readable line at or after off in seg is
// past b; a segment with no readable line from there is not.
func (s *seeker) pastAt(seg int, off int64, b bound) (bool, error) {
	_, seq, t, ok, err := s.keyFrom(seg, off, s.segs[seg].size)
	return ok && b(seq, t), err
}

// maxScan is how close the binary search inside a segment gets before it
// reads lines in order: what one read holds.
const maxScan = searchWindow / 2

// search returns the offset in seg of the first line past b, or the
// segment's size if none is.
func (s *seeker) search(seg int, b bound) (int64, error) {
	lo, hi := int64(0), s.segs[seg].size // lo is a line start; the answer is in [lo, hi]
	for hi-lo > maxScan {
		mid := lo + (hi-lo)/2
		start, seq, t, ok, err := s.keyFrom(seg, mid, hi)
		if err != nil {
			return 0, err
		}
		if !ok { // no readable line starts in [mid, hi)
			break
		}
		if b(seq, t) {
			hi = start
		} else {
			lo = start + 1 // past this line's first byte; the next line start follows
		}
	}
	// Read lines from lo until one is past b.
	for lo < hi {
		start, seq, t, ok, err := s.keyFrom(seg, lo, hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			return hi, nil
		}
		if b(seq, t) {
			return start, nil
		}
		lo = start + 1
	}
	return hi, nil
}

// keyFrom reads the first line that starts at or after off (and before
// end) whose seq and time can be read, and returns where it starts. A line
// starts at 0 or just after a newline.
func (s *seeker) keyFrom(seg int, off, end int64) (start int64, seq int, t time.Time, ok bool, err error) {
	start = off
	if off > 0 { // the line starts after the first newline at or after off-1
		nl, err := s.newlineFrom(seg, off-1)
		if err != nil || nl < 0 {
			return 0, 0, time.Time{}, false, err
		}
		start = nl + 1
	}
	for start < end {
		b, err := s.bytesAt(seg, start, keyBytes)
		if err != nil {
			return 0, 0, time.Time{}, false, err
		}
		if sq, tm, good := lineKey(b); good {
			return start, sq, tm, true, nil
		}
		nl, err := s.newlineFrom(seg, start) // not an entry's start: the next line
		if err != nil || nl < 0 {
			return 0, 0, time.Time{}, false, err
		}
		start = nl + 1
	}
	return 0, 0, time.Time{}, false, nil
}

// keyBytes is enough of a line to hold its key: {"seq":N,"time":"…".
const keyBytes = 128

// newlineFrom is the offset of the first '\n' in seg at or after pos, -1
// if none.
func (s *seeker) newlineFrom(seg int, pos int64) (int64, error) {
	for pos < s.segs[seg].size {
		b, err := s.bytesAt(seg, pos, 1)
		if err != nil {
			return 0, err
		}
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return pos + int64(i), nil
		}
		pos += int64(len(b))
	}
	return -1, nil
}

// searchWindow is how much bytesAt reads at once: one read finds a line's
// start and key in a binary search step, and serves the last steps, which
// fall inside the same window, without another.
const searchWindow = 16 << 10

// bytesAt returns seg's bytes from off on: at least n of them, or all
// that are left, from a cache of the last window read.
func (s *seeker) bytesAt(seg int, off int64, n int) ([]byte, error) {
	size := s.segs[seg].size
	want := min(int64(n), size-off)
	if seg == s.winSeg && off >= s.winOff && off+want <= s.winOff+int64(len(s.win)) {
		return s.win[off-s.winOff:], nil
	}
	f, err := s.file(seg)
	if err != nil {
		return nil, err
	}
	m := min(int64(max(searchWindow, n)), size-off)
	if int64(cap(s.win)) < m {
		s.win = make([]byte, m)
	}
	s.win = s.win[:m]
	if k, err := f.ReadAt(s.win, off); err != nil && !(errors.Is(err, io.EOF) && int64(k) == m) {
		s.win = s.win[:0]
		return nil, fmt.Errorf("journal: read %s: %w", f.Name(), err)
	}
	s.winSeg, s.winOff = seg, off
	return s.win, nil
}

// lineKey reads seq and time from the start of a stored line,
// {"seq":N,"time":"…", without decoding the rest: enough to find a place.
// b may hold less or more than the line. The entry itself is checked in
// full when it is yielded.
func lineKey(b []byte) (int, time.Time, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(seqPrefix))
	if !ok {
		return 0, time.Time{}, false
	}
	seq, i := 0, 0
	for ; i < len(rest) && i < 18 && rest[i] >= '0' && rest[i] <= '9'; i++ {
		seq = seq*10 + int(rest[i]-'0')
	}
	if i == 0 || seq < 1 {
		return 0, time.Time{}, false
	}
	rest, ok = bytes.CutPrefix(rest[i:], []byte(`,"time":"`))
	if !ok {
		return 0, time.Time{}, false
	}
	j := bytes.IndexByte(rest, '"')
	if j < 0 || j > 64 {
		return 0, time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return seq, t, err == nil
}

// backward yields the entries of seg that end at or before end, newest
// first; it reports whether to go on.
func (s *seeker) backward(seg int, end int64, f Filter, yield func(Entry, error) bool) bool {
	file, err := s.file(seg)
	if err != nil {
		return yield(Entry{}, err)
	}
	name := s.segs[seg].name
	lower := lowerBound(f)
	b, err := newBackLines(file, end)
	if err != nil {
		return yield(Entry{}, err)
	}
	for {
		line, err := b.prev()
		var p *Problem
		switch {
		case err == io.EOF:
			return true
		case errors.As(err, &p):
			p.File = name
			if !yield(Entry{}, p) {
				return false
			}
			continue
		case err != nil:
			return yield(Entry{}, err)
		}
		if !mayMatch(line, f) {
			if seq, t, ok := lineKey(line); ok && lower != nil && !lower(seq, t) {
				return false
			}
			continue
		}
		e, err := parseForQuery(line)
		if err != nil {
			if !yield(Entry{}, &Problem{Kind: ProblemMalformed, File: name, Reason: err.Error()}) {
				return false
			}
			continue
		}
		if lower != nil && !lower(e.Seq, e.Time) {
			return false
		}
		if f.Match(e) && !yield(e, nil) {
			return false
		}
	}
}

// mayMatch is a cheap test of a stored line against f.Kind before the
// line is decoded and its hash checked: an entry of kind K holds
// "kind":"K unescaped (kinds are plain names), and nothing else in a line
// can (a quote inside a string is escaped). A line that fails it is
// skipped unread, so a page filtered by kind does not count the bad lines
// of other kinds.
func mayMatch(line []byte, f Filter) bool {
	return f.Kind == "" || bytes.Contains(line, []byte(`"kind":"`+f.Kind))
}

// backLines reads a file's lines backwards, a block at a time.
type backLines struct {
	f    *os.File
	pos  int64  // file offset of buf[0]
	buf  []byte // bytes not yet returned; ends with '\n' unless empty
	skip *Problem
}

const backBlock = 64 << 10

// newBackLines reads the lines that end at or before end. Bytes after the
// last newline before end are a fragment (a torn line, or one being
// written): the first prev reports it.
func newBackLines(f *os.File, end int64) (*backLines, error) {
	b := &backLines{f: f, pos: end}
	if end > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], end-1); err != nil {
			return nil, fmt.Errorf("journal: read %s: %w", f.Name(), err)
		}
		if last[0] != '\n' {
			b.skip = &Problem{Kind: ProblemTorn, Reason: "no trailing newline (crash during an append?)"}
		}
	}
	return b, nil
}

// prev returns the line before those returned so far, without its newline
// (valid until the next call); io.EOF at the start of the file. A fragment
// or a line longer than any entry comes back as a *Problem, skipped.
func (b *backLines) prev() ([]byte, error) {
	for {
		if b.skip != nil { // drop bytes up to the newline before them
			if i := bytes.LastIndexByte(b.buf, '\n'); i >= 0 || b.pos == 0 {
				p := b.skip
				b.skip, b.buf = nil, b.buf[:i+1]
				return nil, p
			}
			b.buf = b.buf[:0]
		} else if j := len(b.buf) - 1; j >= 0 {
			if i := bytes.LastIndexByte(b.buf[:j], '\n'); i >= 0 || b.pos == 0 {
				line := b.buf[i+1 : j]
				b.buf = b.buf[:i+1]
				return line, nil
			}
			if j > MaxLineBytes {
				b.skip = &Problem{Kind: ProblemMalformed, Reason: "a line longer than the longest entry"}
				continue
			}
		} else if b.pos == 0 {
			return nil, io.EOF
		}
		n := min(int64(backBlock), b.pos)
		nb := make([]byte, n+int64(len(b.buf)))
		if _, err := b.f.ReadAt(nb[:n], b.pos-n); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("journal: read %s: %w", b.f.Name(), err)
		}
		copy(nb[n:], b.buf)
		b.buf, b.pos = nb, b.pos-n
	}
}

// forward yields the entries of seg from the line at start on, oldest
// first; it reports whether to go on. seq is the entry before, which
// numbers a bad line.
func (s *seeker) forward(seg int, start int64, f Filter, seq *int, yield func(Entry, error) bool) bool {
	return readSegment(s.dir, s.segs[seg], start, seg == len(s.segs)-1, f, upperBound(f), true, seq, yield)
}
