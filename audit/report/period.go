package report

import (
	"fmt"
	"strings"
	"time"
)

// Period is the time a report covers: From inclusive, To exclusive, in
// the installation's time zone (config timezone, default the host's).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"` // exclusive
	// Label is the normalised FROM..TO (dates, or RFC 3339 times), which the
	// journal entries of reports and reviews carry as their subject.
	Label string `json:"label"`
	// Zone names the time zone the dates are days of (Asia/Shanghai), and
	// Offset its UTC offset at From (+08:00).
	Zone   string `json:"zone"`
	Offset string `json:"utc_offset"`
}

const dateLayout = "2006-01-02"

// ParsePeriod reads a period in loc:
//
//	2026-12                   a month
//	2026-Q4                   a quarter
//	2026-10-01..2026-12-31    dates; TO includes that whole day
//	FROM..TO in RFC 3339      exact times, TO exclusive
//
// Months and quarters are labelled as their dates (2026-12-01..2026-12-31),
// so a review of 2026-12 and a report of 2026-12-01..2026-12-31 name the
// same period.
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.Local
	}
	s = strings.TrimSpace(s)
	if from, to, ok := monthOrQuarter(s, loc); ok {
		return datePeriod(from, to), nil
	}
	a, b, ok := strings.Cut(s, "..")
	if !ok || a == "" || b == "" {
		return Period{}, fmt.Errorf("period %q: want a month (2026-12), a quarter (2026-Q4) or FROM..TO (2026-10-01..2026-12-31)", s)
	}
	from, fromDate, err := parseBound(a, loc)
	if err != nil {
		return Period{}, fmt.Errorf("period %q: from: %w", s, err)
	}
	to, toDate, err := parseBound(b, loc)
	if err != nil {
		return Period{}, fmt.Errorf("period %q: to: %w", s, err)
	}
	var label string
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
	return Period{From: from, To: to, Label: label, Zone: loc.String(), Offset: from.Format("-07:00")}, nil
}

// datePeriod is the whole days from..to (to included) of a month or quarter.
func datePeriod(from, toExclusive time.Time) Period {
	last := toExclusive.AddDate(0, 0, -1)
	return Period{From: from, To: toExclusive, Label: from.Format(dateLayout) + ".." + last.Format(dateLayout),
		Zone: from.Location().String(), Offset: from.Format("-07:00")}
}

// monthOrQuarter reads 2026-12 and 2026-Q4.
func monthOrQuarter(s string, loc *time.Location) (from, to time.Time, ok bool) {
	if t, err := time.ParseInLocation("2006-01", s, loc); err == nil {
		return t, t.AddDate(0, 1, 0), true
	}
	var year, q int
	if n, err := fmt.Sscanf(strings.ToUpper(s), "%4d-Q%1d", &year, &q); err == nil && n == 2 && q >= 1 && q <= 4 && len(s) == 7 {
		from = time.Date(year, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 3, 0), true
	}
	return from, to, false
}

// Unfinished reports whether the period has not ended at now: its figures
// stop at now, and a report says so.
func (q Period) Unfinished(now time.Time) bool { return now.Before(q.To) }

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
