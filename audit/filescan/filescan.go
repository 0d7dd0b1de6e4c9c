// Package filescan is the file-tree scan: it walks roots with filesrc, runs the
// detectors over every text unit with audit.ScanText, and turns matches into
// findings that carry only a mask and a keyed fingerprint.
package filescan

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/audit/detect"
	"github.com/atrest/atrest/audit/filesrc"
	"github.com/atrest/atrest/crypto"
)

// Options configures a file scan.
type Options struct {
	Files       filesrc.Options
	Fingerprint *crypto.Fingerprinter
	// Workers matches chunks of one big file in parallel; default GOMAXPROCS.
	Workers int
	// Examples, when above 0, bounds the finding records emitted: the first
	// Examples findings of each type in each file (members included). Every
	// finding is still counted, in the file record's by_type and the summary.
	Examples int
}

// Summary is the closing record of a scan.
type Summary struct {
	Record    string   `json:"record"` // always "summary"
	Roots     []string `json:"roots"`
	Files     int      `json:"files"`
	Scanned   int      `json:"scanned"`
	Encrypted int      `json:"encrypted"`
	Binary    int      `json:"binary"`
	Skipped   int      `json:"skipped"`
	Errors    int      `json:"errors"`
	Findings  int      `json:"findings"`
	// Listed is how many finding records were emitted: Findings, unless
	// Options.Examples bounded them.
	Listed int            `json:"findings_listed"`
	ByType map[string]int `json:"by_type"`
	// PlaintextColumns counts the columns of database files (SQLite) that
	// hold identifiers in plaintext, judged as scan db judges them.
	PlaintextColumns int `json:"plaintext_columns,omitempty"`
	// NotRead counts, by class, the files and container members that could
	// hold text and were not read (unreadable, image-only PDF, bomb …).
	NotRead map[string]int `json:"not_read,omitempty"`
	Bytes   int64          `json:"bytes"`
	Seconds float64        `json:"seconds"`
}

func (Summary) Kind() string { return "summary" }

// Unread is how many files and members could hold text and were not read.
func (s Summary) Unread() int {
	n := 0
	for _, c := range s.NotRead {
		n += c
	}
	return n
}

// NotReadLine says what was not read, largest class first: "4 pdf image-only, 1 read error".
func (s Summary) NotReadLine() string {
	classes := make([]string, 0, len(s.NotRead))
	for c := range s.NotRead {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool {
		a, b := s.NotRead[classes[i]], s.NotRead[classes[j]]
		return a > b || a == b && classes[i] < classes[j]
	})
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = fmt.Sprintf("%d %s", s.NotRead[c], c)
	}
	return strings.Join(parts, ", ")
}

// Progress is a snapshot for a progress display.
type Progress struct {
	Files    int64
	Bytes    int64
	Findings int64
}

// Scanner runs one scan; Progress may be called from another goroutine while
// Run is under way.
type Scanner struct {
	opts                   Options
	files, bytes, findings atomic.Int64
}

// New returns a Scanner.
func New(opts Options) *Scanner {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	return &Scanner{opts: opts}
}

// Progress reports how far the scan has got.
func (s *Scanner) Progress() Progress {
	return Progress{Files: s.files.Load(), Bytes: s.bytes.Load(), Findings: s.findings.Load()}
}

// Run scans roots and calls emit, one record at a time, with every finding
// (or, with Options.Examples, the first few of each type in each file) and
// every file record, then returns the summary (which it does not emit).
// A finding comes as a *audit.Finding that is valid only until emit
// returns: the scan reuses it for the next one, since boxing millions of
// findings one by one cost a dense log's scan a third of its speed.
func (s *Scanner) Run(ctx context.Context, roots []string, emit func(audit.Record) error) (Summary, error) {
	start := time.Now()
	sum := Summary{Record: "summary", Roots: roots, ByType: map[string]int{}}
	var mu sync.Mutex        // serialises emit and the summary
	var listed audit.Finding // the finding emit is given, reused (under mu)
	var emitErr error
	send := func(r audit.Record) {
		if emitErr == nil {
			emitErr = emit(r)
		}
	}
	// Findings are counted by type per file, members included, for the
	// file's record and, with Options.Examples, to list only the first few.
	tallies := map[string]*tally{}
	scan := func(u filesrc.Unit) (int, error) {
		n := 0
		path, member := MaskIdentifiers(u.Path), MaskIdentifiers(u.Member)
		if u.Table != nil {
			n, err := s.table(u.Table, path, member, func(r audit.Record) {
				mu.Lock()
				send(r)
				mu.Unlock()
			})
			mu.Lock()
			sum.PlaintextColumns += n
			mu.Unlock()
			return n, err
		}
		mu.Lock()
		t := tallies[u.Path]
		if t == nil {
			t = &tally{}
			tallies[u.Path] = t
		}
		mu.Unlock()
		limit := s.opts.Examples
		var unit [8]int // by typeIndex, folded into the summary at the end
		// Mask and fingerprint in the chunk workers; only the emit is serial.
		// When not every finding is listed, only those listed are masked and
		// fingerprinted, on emit.
		err := audit.ScanTextPrepared(ctx, u.Text, s.opts.Workers,
			func() func(detect.Match, int) hit {
				fp := s.opts.Fingerprint.Hasher() // this worker's
				return func(m detect.Match, line int) hit {
					h := hit{f: audit.Finding{Record: "finding", Path: path, Member: member, Line: line, Type: m.Type}}
					if limit > 0 {
						h.value = m.Value // lent from the chunk: used on emit, not kept
					} else {
						h.f.Masked, h.f.Fingerprint = fp.MaskAndSum(m.Value)
					}
					return h
				}
			},
			func(h hit) {
				n++
				s.findings.Add(1)
				i := typeIndex(h.f.Type)
				mu.Lock()
				defer mu.Unlock()
				if i < len(t.found) {
					t.found[i]++
					unit[i]++
					if limit > 0 && t.found[i] > limit {
						return
					}
				} else {
					sum.ByType[string(h.f.Type)]++ // not a type detect lists: counted, always listed
				}
				if h.value != "" {
					h.f.Masked, h.f.Fingerprint = s.opts.Fingerprint.MaskAndSum(h.value)
				}
				sum.Listed++
				listed = h.f
				send(&listed)
			})
		mu.Lock()
		sum.Findings += n
		for i, c := range unit {
			if c > 0 {
				sum.ByType[string(detect.Types[i])] += c
			}
		}
		mu.Unlock()
		return n, err
	}
	report := func(r audit.FileRecord) {
		raw := r.Path
		r.Path, r.Member, r.Reason = MaskIdentifiers(r.Path), MaskIdentifiers(r.Member), MaskIdentifiers(r.Reason)
		s.files.Add(1)
		s.bytes.Add(r.Size)
		mu.Lock()
		defer mu.Unlock()
		if r.NotRead != "" {
			if sum.NotRead == nil {
				sum.NotRead = map[string]int{}
			}
			sum.NotRead[r.NotRead]++
		}
		if r.Member == "" {
			if t := tallies[raw]; t != nil {
				r.ByType = t.byType()
				delete(tallies, raw)
			}
			sum.Files++
			sum.Bytes += r.Size
			switch r.State {
			case audit.StateScanned:
				sum.Scanned++
			case audit.StateEncrypted:
				sum.Encrypted++
			case audit.StateBinary:
				sum.Binary++
			case audit.StateSkipped:
				sum.Skipped++
			case audit.StateError:
				sum.Errors++
			}
		}
		send(r)
	}
	err := filesrc.Walk(ctx, roots, s.opts.Files, scan, report)
	sum.Seconds = time.Since(start).Seconds()
	if err == nil {
		err = emitErr
	}
	return sum, err
}

// hit is a finding on its way to emit; value is kept only when the finding
// may not be listed, to be masked and fingerprinted if it is.
type hit struct {
	f     audit.Finding
	value string
}

// tally counts one file's findings by typeIndex.
type tally struct{ found [8]int }

func (t *tally) byType() map[string]int {
	var m map[string]int
	for i, c := range t.found {
		if c > 0 {
			if m == nil {
				m = map[string]int{}
			}
			m[string(detect.Types[i])] = c
		}
	}
	return m
}

// typeIndex numbers the detector types, so that a scan counts them without a
// map lookup per finding; a type detect.Types lacks gets an index past them.
func typeIndex(t detect.Type) int {
	for i, x := range detect.Types {
		if x == t {
			return i
		}
	}
	return 1 << 30
}

// MaskIdentifiers replaces every identifier in s (a file or member name, a
// reason) with its mask: an export named after a person's ID number must not
// print the number (SPEC §2 covers paths as much as contents).
func MaskIdentifiers(s string) string {
	if s == "" {
		return s
	}
	ms := detect.Find([]byte(s))
	if len(ms) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		b.WriteString(s[last:m.Start])
		b.WriteString(crypto.Mask(m.Value))
		last = m.End
	}
	b.WriteString(s[last:])
	return b.String()
}
