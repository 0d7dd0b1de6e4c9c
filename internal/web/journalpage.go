package web

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// newest returns the newest n entries that pass f, newest first, reading
// only as far back as they go.
func newest(dir string, f journal.Filter, n int) ([]journal.Entry, error) {
	res, err := queryPage(dir, journalQuery{Filter: f, Page: 1}, n)
	return res.Entries, err
}

// pageResult is one page of a journal query, newest first.
type pageResult struct {
	Entries []journal.Entry `json:"entries"`
	Page    int             `json:"page"`
	Size    int             `json:"size"`
	// More says older entries pass the filter too: ask for
	// before=NextBefore. Newer says newer ones do: after=PrevAfter.
	More       bool `json:"more"`
	NextBefore int  `json:"next_before,omitempty"`
	Newer      bool `json:"newer"`
	PrevAfter  int  `json:"prev_after,omitempty"`
	Bad        int  `json:"unreadable_lines,omitempty"`
}

// maxDepth bounds what a numbered page may skip; before= and after= go
// anywhere at the cost of one page.
const maxDepth = 5000

// queryPage reads one page of the entries that pass q's filter, newest
// first: page (1-based) counted from the newest, or the page just older
// than q.Before, or just newer than q.After. It reads the journal from the
// page's place (found by binary search on seq and time) for as many
// entries as the page shows and skips, so its cost does not grow with the
// journal. There is no total count: that would mean reading everything.
func queryPage(dir string, q journalQuery, size int) (pageResult, error) {
	res := pageResult{Page: q.Page, Size: size}
	f := q.Filter
	if q.After > 0 {
		return newerPage(dir, q, size)
	}
	skip := (q.Page - 1) * size
	if skip+size > maxDepth {
		return res, fmt.Errorf("page %d of %d entries is deeper than %d entries: use before= (the older-entries link) or narrow the time range", q.Page, size, maxDepth)
	}
	f.Before = q.Before
	var err error
	if res.More, err = res.read(journal.Newest(dir, f), skip, size); err != nil {
		return res, err
	}
	res.Newer = q.Before > 0 || q.Page > 1
	res.setCursors()
	return res, nil
}

// read appends to r.Entries up to size entries from it, after skipping
// skip, and counts the bad lines on the way; more says another entry
// followed.
func (r *pageResult) read(it iter.Seq2[journal.Entry, error], skip, size int) (more bool, err error) {
	for e, err := range it {
		if err != nil {
			if _, ok := err.(*journal.Problem); ok {
				r.Bad++
				continue
			}
			return false, err
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(r.Entries) == size {
			return true, nil
		}
		r.Entries = append(r.Entries, e)
	}
	return false, nil
}

// newerPage is the page just newer than q.After: the oldest size entries
// after it, shown newest first.
func newerPage(dir string, q journalQuery, size int) (pageResult, error) {
	res := pageResult{Page: q.Page, Size: size, More: true}
	f := q.Filter
	f.After = q.After
	var err error
	if res.Newer, err = res.read(journal.Oldest(dir, f), 0, size); err != nil {
		return res, err
	}
	slices.Reverse(res.Entries)
	res.setCursors()
	return res, nil
}

func (r *pageResult) setCursors() {
	if len(r.Entries) == 0 {
		return
	}
	if r.More {
		r.NextBefore = r.Entries[len(r.Entries)-1].Seq
	}
	if r.Newer {
		r.PrevAfter = r.Entries[0].Seq
	}
}

// journalQuery is the journal browser's (and /api/journal's) filter,
// from query parameters.
type journalQuery struct {
	Kind, Subject, Outcome, Since, Until string
	Page                                 int
	Before, After                        int // page cursors: sequence numbers
	Filter                               journal.Filter
}

func parseJournalQuery(v url.Values, now time.Time) (journalQuery, error) {
	q := journalQuery{Kind: strings.TrimSpace(v.Get("kind")), Subject: strings.TrimSpace(v.Get("subject")),
		Outcome: strings.TrimSpace(v.Get("outcome")), Since: strings.TrimSpace(v.Get("since")),
		Until: strings.TrimSpace(v.Get("until")), Page: 1}
	q.Filter = journal.Filter{Kind: q.Kind, Subject: q.Subject, Outcome: q.Outcome}
	var err error
	if q.Filter.Since, err = parseWhen(q.Since, now); err != nil {
		return q, fmt.Errorf("since: %w", err)
	}
	if q.Filter.Until, err = parseWhen(q.Until, now); err != nil {
		return q, fmt.Errorf("until: %w", err)
	}
	for _, p := range []struct {
		name string
		to   *int
	}{{"page", &q.Page}, {"before", &q.Before}, {"after", &q.After}} {
		if s := v.Get(p.name); s != "" {
			if n, err := strconv.Atoi(s); err != nil || n < 1 {
				return q, fmt.Errorf("%s %q: want a number from 1", p.name, s)
			} else {
				*p.to = n
			}
		}
	}
	if q.Before > 0 && q.After > 0 {
		return q, fmt.Errorf("before and after: give one")
	}
	return q, nil
}

// parseWhen reads a point in time: a duration back from now (90m, 24h,
// 7d), a date (2026-11-24, local midnight), a local date and time
// (2026-11-24T10:00 or with a space), or RFC 3339.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscan(n, &days); err == nil && days >= 0 && fmt.Sprint(days) == n {
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want a duration back from now (24h, 7d), a date (2026-11-24), a local time (2026-11-24T10:00) or RFC 3339", s)
}

type journalData struct {
	common
	Q       journalQuery
	Res     pageResult
	Error   string
	Prev    string
	Next    string
	First   int // seq of the page's newest entry
	Last    int // and of its oldest
	Kinds   []string
	Outcome []string
}

const pageSize = 50

func (s *Server) journalPage(q *req) {
	d := journalData{common: s.common(&q.sess, "审计日志 Journal", "journal"),
		Kinds: []string{"scan.db", "scan.files", "backup.run", "backup.check", "backup.prune", "drill.run", "serve", "config.reload",
			"login", "logout", "access.denied", "user", "init", "journal"},
		Outcome: []string{"ok", "findings", "incomplete", "fail", "error", "skipped", "cancelled", "denied", "rate_limited", "deleted"}}
	jq, err := parseJournalQuery(q.r.URL.Query(), s.now())
	d.Q = jq
	code := http.StatusOK
	if err == nil {
		d.Res, err = queryPage(s.o.JournalDir, jq, pageSize)
	}
	if err != nil {
		d.Error, code = oneLine(err.Error()), http.StatusBadRequest
	}
	link := func(cursor string, seq int) string {
		v := url.Values{}
		for k, x := range map[string]string{"kind": jq.Kind, "subject": jq.Subject, "outcome": jq.Outcome,
			"since": jq.Since, "until": jq.Until} {
			if x != "" {
				v.Set(k, x)
			}
		}
		v.Set(cursor, fmt.Sprint(seq))
		return "/journal?" + v.Encode()
	}
	if n := len(d.Res.Entries); n > 0 {
		d.First, d.Last = d.Res.Entries[0].Seq, d.Res.Entries[n-1].Seq
	}
	if d.Res.PrevAfter > 0 {
		d.Prev = link("after", d.Res.PrevAfter)
	}
	if d.Res.NextBefore > 0 {
		d.Next = link("before", d.Res.NextBefore)
	}
	s.render(q.w, code, "journal", d)
}

type entryData struct {
	common
	E       journal.Entry
	Figures []figureLine
}

type figureLine struct {
	Name  string
	Value string
}

func (s *Server) entryPage(q *req) {
	var seq int
	if _, err := fmt.Sscan(q.r.PathValue("seq"), &seq); err != nil || seq < 1 {
		s.errorPage(q.w, q.r, &q.sess, http.StatusNotFound, "没有这条日志", "No such journal entry.")
		return
	}
	e, err := journal.Lookup(s.o.JournalDir, seq)
	if err != nil {
		if !errors.Is(err, journal.ErrNoEntry) {
			s.logf("journal entry %d: %s", seq, oneLine(err.Error()))
		}
		s.errorPage(q.w, q.r, &q.sess, http.StatusNotFound, "没有这条日志", "No such journal entry.")
		return
	}
	d := entryData{common: s.common(&q.sess, fmt.Sprintf("日志 Entry #%d", seq), "journal"), E: e,
		Figures: flatFigures("", e.Figures)}
	s.render(q.w, http.StatusOK, "entry", d)
}

// flatFigures lists nested figures as dotted names, sorted.
func flatFigures(prefix string, figs map[string]any) []figureLine {
	var out []figureLine
	for _, k := range slices.Sorted(maps.Keys(figs)) {
		switch v := figs[k].(type) {
		case map[string]any:
			out = append(out, flatFigures(prefix+k+".", v)...)
		default:
			out = append(out, figureLine{prefix + k, fmt.Sprint(v)})
		}
	}
	return out
}
