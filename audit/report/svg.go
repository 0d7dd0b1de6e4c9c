package report

import (
	"html/template"
	"sort"

	"github.com/atrest/atrest/internal/chart"
)

// rtoChart draws the drills' RTO over the period for print: an A4 page's
// text width at 96 dpi is about 700 px, and the marks link to the
// appendix's entries.
func rtoChart(drills []DrillRun, per Period) template.HTML {
	byJob := map[string][]DrillRun{}
	for _, d := range drills {
		byJob[d.Job] = append(byJob[d.Job], d)
	}
	var ss []chart.Series
	for _, job := range sortedKeys(byJob) {
		runs := byJob[job]
		sort.SliceStable(runs, func(a, c int) bool { return runs[a].Entry.Seq < runs[c].Entry.Seq })
		s := chart.Series{Name: job}
		for _, d := range runs {
			if d.RTOSeconds == nil && d.Entry.Outcome != "fail" {
				continue // could not run: no mark
			}
			p := chart.Point{T: d.Entry.Time, Link: "#" + d.Entry.Anchor, Fail: d.RTOSeconds == nil}
			if p.Fail {
				p.Title = "失败 failed: " + d.Failure
			} else {
				p.V = *d.RTOSeconds
				p.Title = "RTO " + chart.Seconds(p.V)
			}
			s.Points = append(s.Points, p)
		}
		ss = append(ss, s)
	}
	return chart.RTO(ss, chart.Options{Width: 700, Height: 260, Loc: per.From.Location(), From: per.From, To: per.To,
		Inline: true, Title: "恢复演练 RTO 趋势 / Drill RTO over the period",
		Empty: "本期间没有恢复演练 / no drill in the period"})
}
