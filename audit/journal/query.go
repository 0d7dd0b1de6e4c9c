package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"strings"
	"time"

	"github.com/atrest/atrest/crypto/suite"
)

// Filter selects entries. Zero fields select everything.
type Filter struct {
	Since time.Time // inclusive
	Until time.Time // exclusive
	// Kind and Subject match exactly or as a prefix that ends at a '.' or '/'
	// boundary: Kind "scan" matches "scan.files" but not "scanner".
	Kind    string
	Subject string
	Outcome string // exact
	// After and Before bound the sequence numbers (exclusive): a page
	// continues where the last one ended. 0: no bound.
	After, Before int
}

// Match reports whether e passes the filter.
func (f Filter) Match(e Entry) bool {
	return (f.After <= 0 || e.Seq > f.After) && (f.Before <= 0 || e.Seq < f.Before) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until)) &&
		prefixMatch(e.Kind, f.Kind) && prefixMatch(e.Subject, f.Subject) &&
		(f.Outcome == "" || e.Outcome == f.Outcome)
}

func prefixMatch(s, p string) bool {
	if p == "" || s == p {
		return true
	}
	if !strings.HasPrefix(s, p) {
		return false
	}
	if strings.HasSuffix(p, ".") || strings.HasSuffix(p, "/") {
		return true
	}
	c := s[len(p)]
	return c == '.' || c == '/'
}

// Query yields the entries of the journal in dir that pass f, oldest first.
// A line that is not a valid entry (its own hash included) is yielded as an
// error and the walk goes on if the caller continues; the chain is Verify's
// business, not Query's. Figures come back as float64 numbers.
func Query(dir string, f Filter) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		sn, err := takeSnapshot(dir)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		seq := 0 // last entry seen, to place errors
		for i, sf := range sn.segs {
			if !readSegment(dir, sf, 0, i == len(sn.segs)-1, f, nil, false, &seq, yield) {
				return
			}
		}
	}
}

// readSegment yields the entries of sf from byte start on (a line start),
// oldest first, that pass f, and stops before the first entry past upper
// (nil: none); it reports whether to go on. Problems carry their line
// number when reading from the segment's start (0 otherwise) and the
// sequence number the bad line would have had. With skim, a line whose
// kind cannot match f is skipped without being decoded (a page's reading;
// Query reports every bad line).
func readSegment(dir string, sf segFile, start int64, isLast bool, f Filter, upper bound, skim bool, seq *int, yield func(Entry, error) bool) bool {
	r, err := openAt(filepath.Join(dir, sf.name), start, sf.size)
	if err != nil {
		return yield(Entry{}, fmt.Errorf("journal: %w", err))
	}
	defer r.Close()
	size := 256 << 10 // a whole segment's reading
	if start > 0 || upper != nil {
		size = searchWindow // a page's, or one entry's
	}
	lr := &lineReader{r: bufio.NewReaderSize(r, size)}
	for n := 1; ; n++ {
		lineNo := n
		if start > 0 {
			lineNo = 0
		}
		line, complete, err := lr.next()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return yield(Entry{}, fmt.Errorf("journal: %s: %w", sf.name, err))
		}
		if !complete {
			kind, reason := ProblemMalformed, "no trailing newline, yet more lines follow"
			if isLast {
				kind, reason = ProblemTorn, "no trailing newline (crash during an append?)"
			}
			return yield(Entry{}, &Problem{Kind: kind, Seq: *seq + 1, File: sf.name, Line: lineNo, Reason: reason})
		}
		if skim && !mayMatch(line, f) {
			if sq, t, ok := lineKey(line); ok {
				if upper != nil && upper(sq, t) {
					return false
				}
				*seq = sq
			}
			continue
		}
		e, err := parseForQuery(line)
		if err != nil {
			if !yield(Entry{}, &Problem{Kind: ProblemMalformed, Seq: *seq + 1, File: sf.name, Line: lineNo, Reason: err.Error()}) {
				return false
			}
			*seq++
			continue
		}
		if upper != nil && upper(e.Seq, e.Time) {
			return false
		}
		*seq = e.Seq
		if f.Match(e) && !yield(e, nil) {
			return false
		}
	}
}

func parseForQuery(line []byte) (Entry, error) {
	li, err := parseLine(line)
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return Entry{}, err
	}
	if e.Seq != li.seq || e.Prev != string(li.prev) || e.Hash != string(li.hash) {
		return Entry{}, errors.New("duplicate members")
	}
	// A line past the first does not name its suite: the hash may be
	// either suite's. Verify holds the whole journal to one.
	if h, _ := newHasher(suite.Standard).entryHash(line, li); string(h) != e.Hash {
		if h, _ := newHasher(suite.SM).entryHash(line, li); string(h) != e.Hash {
			return Entry{}, errors.New("hash mismatch")
		}
	}
	return e, nil
}
