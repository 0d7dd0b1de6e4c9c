package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// newest returns the newest n entries that pass f, newest first, reading
// the journal once with bounded memory.
func newest(dir string, f journal.Filter, n int) ([]journal.Entry, error) {
	res, err := queryPage(dir, f, 1, n)
	return res.Entries, err
}

// pageResult is one page of a journal query, newest first.
type pageResult struct {
	Entries []journal.Entry `json:"entries"`
	Page    int             `json:"page"`
	Size    int             `json:"size"`
	Matched int             `json:"matched"`
	More    bool            `json:"more"`
	Bad     int             `json:"unreadable_lines,omitempty"`
}

// maxDepth bounds what a page may skip: paging deeper needs a narrower
// filter (since/until), so that memory stays bounded.
const maxDepth = 5000

// queryPage reads the journal once, keeping the newest page*size matches
// in a ring, and returns page (1-based) of them, newest first.
func queryPage(dir string, f journal.Filter, page, size int) (pageResult, error) {
	res := pageResult{Page: page, Size: size}
	need := page * size
	if need > maxDepth {
		return res, fmt.Errorf("page %d of %d entries is deeper than %d entries: narrow the time range", page, size, maxDepth)
	}
	ring := make([]journal.Entry, need)
	for e, err := range journal.Query(dir, f) {
		if err != nil {
			if _, ok := err.(*journal.Problem); ok {
				res.Bad++
				continue
			}
			return res, err
		}
		ring[res.Matched%need] = e
		res.Matched++
	}
	// newest-first index i is ring[(Matched-1-i) mod need]
	for i := (page - 1) * size; i < min(res.Matched, need); i++ {
		res.Entries = append(res.Entries, ring[(res.Matched-1-i)%need])
	}
	res.More = res.Matched > need
	return res, nil
}

// journalQuery is the journal browser's (and /api/journal's) filter,
// from query parameters.
type journalQuery struct {
	Kind, Subject, Outcome, Since, Until string
	Page                                 int
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
	if p := v.Get("page"); p != "" {
		if _, err := fmt.Sscan(p, &q.Page); err != nil || q.Page < 1 {
			return q, fmt.Errorf("page %q: want a number from 1", p)
		}
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
	Kinds   []string
	Outcome []string
}

const pageSize = 50

func (s *Server) journalPage(q *req) {
	d := journalData{common: s.common(&q.sess, "审计日志 Journal", "journal"),
		Kinds: []string{"scan.db", "scan.files", "backup.run", "backup.check", "drill.run", "serve", "config.reload",
			"login", "logout", "access.denied", "user", "init", "journal"},
		Outcome: []string{"ok", "findings", "fail", "error", "skipped", "cancelled", "denied", "rate_limited"}}
	jq, err := parseJournalQuery(q.r.URL.Query(), s.now())
	d.Q = jq
	code := http.StatusOK
	if err == nil {
		d.Res, err = queryPage(s.o.JournalDir, jq.Filter, jq.Page, pageSize)
	}
	if err != nil {
		d.Error, code = oneLine(err.Error()), http.StatusBadRequest
	}
	link := func(page int) string {
		v := url.Values{}
		for k, x := range map[string]string{"kind": jq.Kind, "subject": jq.Subject, "outcome": jq.Outcome,
			"since": jq.Since, "until": jq.Until} {
			if x != "" {
				v.Set(k, x)
			}
		}
		v.Set("page", fmt.Sprint(page))
		return "/journal?" + v.Encode()
	}
	if jq.Page > 1 {
		d.Prev = link(jq.Page - 1)
	}
	if d.Res.More && (jq.Page+1)*pageSize <= maxDepth {
		d.Next = link(jq.Page + 1)
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
	for e, err := range journal.Query(s.o.JournalDir, journal.Filter{}) {
		if err != nil || e.Seq < seq {
			continue
		}
		if e.Seq > seq {
			break
		}
		d := entryData{common: s.common(&q.sess, fmt.Sprintf("日志 Entry #%d", seq), "journal"), E: e,
			Figures: flatFigures("", e.Figures)}
		s.render(q.w, http.StatusOK, "entry", d)
		return
	}
	s.errorPage(q.w, q.r, &q.sess, http.StatusNotFound, "没有这条日志", "No such journal entry.")
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
