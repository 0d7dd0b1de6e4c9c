package report

import (
	"fmt"
	"strings"
	"time"
)

// Period is the time a report covers: From inclusive, To exclusive.
type Period struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"` // exclusive
	Label string    `json:"label"`
}

const dateLayout = "2006-01-02"

// ParsePeriod reads FROM..TO, each a date (2026-10-01) in loc or an RFC 3339
// time. A date as TO includes that whole day; an RFC 3339 TO is the exact
// (exclusive) end. The label is the normalised text, which the journal
// entries of reports and reviews carry as their subject.
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.Local
	}
	a, b, ok := strings.Cut(strings.TrimSpace(s), "..")
	if !ok || a == "" || b == "" {
		return Period{}, fmt.Errorf("period %q: want FROM..TO, e.g. 2026-10-01..2026-12-31", s)
	}
	from, fromDate, err := parseBound(a, loc)
	if err != nil {
		return Period{}, fmt.Errorf("period %q: from: %w", s, err)
	}
	to, toDate, err := parseBound(b, loc)
	if err != nil {
		return Period{}, fmt.Errorf("period %q: to: %w", s, err)
	}
	label := strings.TrimSpace(a) + ".." + strings.TrimSpace(b)
	if fromDate {
		label = from.Format(dateLayout)
	} else {
		label = from.Format(time.RFC3339)
	}
	if toDate {
		label += ".." + to.Format(dateLayout)
		to = to.AddDate(0, 0, 1)
	} else {
		label += ".." + to.Format(time.RFC3339)
	}
	if !to.After(from) {
		return Period{}, fmt.Errorf("period %q: ends before it starts", s)
	}
	return Period{From: from, To: to, Label: label}, nil
}

func parseBound(s string, loc *time.Location) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation(dateLayout, s, loc); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is neither a date (2026-10-01) nor an RFC 3339 time", s)
}

// covers reports whether q covers all of p.
func (q Period) covers(p Period) bool { return !q.From.After(p.From) && !q.To.Before(p.To) }

// overlaps reports whether q and p share any time.
func (q Period) overlaps(p Period) bool { return q.From.Before(p.To) && p.From.Before(q.To) }

// LastDay is the last day a date period includes, for display.
func (q Period) LastDay() time.Time { return q.To.Add(-time.Nanosecond) }
