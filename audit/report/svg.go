package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"
)

// Chart geometry: an A4 page's text width at 96 dpi is about 700 px.
const (
	chartW, chartH                   = 700.0, 260.0
	padL, padR, padT, padB           = 64.0, 16.0, 36.0, 44.0
	plotW, plotH                     = chartW - padL - padR, chartH - padT - padB
	yTicks                           = 4
	maxXTicks                        = 7
	failColour, axisColour, gridLine = "#b3261e", "#333", "#ddd"
)

var jobColours = []string{"#1f5fa8", "#2e7d32", "#8e44ad", "#c26a00", "#00838f", "#5d4037"}

// rtoChart draws the drills' RTO over the period as an inline SVG: one
// polyline per job through its passed drills, a red cross on the axis for
// each failed drill; every mark links to its journal entry. It is plain SVG
// rendered here, so the printed page needs no script and no network.
func rtoChart(drills []DrillRun, per Period) template.HTML {
	loc := per.From.Location()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`,
		chartW, chartH, chartW, chartH)
	b.WriteString(`<title>恢复演练 RTO 趋势 / Drill RTO over the period</title>`)

	maxRTO := 0.0
	byJob := map[string][]DrillRun{}
	for _, d := range drills {
		byJob[d.Job] = append(byJob[d.Job], d)
		if d.RTOSeconds != nil && *d.RTOSeconds > maxRTO {
			maxRTO = *d.RTOSeconds
		}
	}
	top := niceCeil(maxRTO)
	span := per.To.Sub(per.From).Seconds()
	x := func(t time.Time) float64 {
		f := t.Sub(per.From).Seconds() / span
		return padL + math.Max(0, math.Min(1, f))*plotW
	}
	y := func(v float64) float64 { return padT + plotH - v/top*plotH }

	// Grid and y axis.
	for i := 0; i <= yTicks; i++ {
		v := top * float64(i) / yTicks
		yy := y(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, padL, yy, padL+plotW, yy, gridLine)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, padL-6, yy, fmtSeconds(v))
	}
	fmt.Fprintf(&b, `<text transform="translate(14 %.1f) rotate(-90)" text-anchor="middle">RTO 恢复时间（秒 s）</text>`, padT+plotH/2)
	// X axis with date ticks.
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, padL, padT+plotH, padL+plotW, padT+plotH, axisColour)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, padL, padT, padL, padT+plotH, axisColour)
	for _, t := range dateTicks(per, loc) {
		xx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, xx, padT+plotH, xx, padT+plotH+4, axisColour)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, xx, padT+plotH+16, t.In(loc).Format("2006-01-02"))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">日期 Date</text>`, padL+plotW/2, chartH-6)

	jobs := sortedKeys(byJob)
	for i, job := range jobs {
		colour := jobColours[i%len(jobColours)]
		runs := byJob[job]
		sort.SliceStable(runs, func(a, c int) bool { return runs[a].Entry.Seq < runs[c].Entry.Seq })
		var pts []string
		for _, d := range runs {
			if d.RTOSeconds != nil {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(d.Entry.Time), y(*d.RTOSeconds)))
			}
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, colour, strings.Join(pts, " "))
		}
		for _, d := range runs {
			xx := x(d.Entry.Time)
			fmt.Fprintf(&b, `<a href="#%s">`, d.Entry.Anchor)
			if d.RTOSeconds != nil {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>#%d %s %s RTO %s</title></circle>`,
					xx, y(*d.RTOSeconds), colour, d.Entry.Seq, esc(job), d.Entry.Time.In(loc).Format("2006-01-02 15:04"), fmtSeconds(*d.RTOSeconds))
			} else if d.Entry.Outcome == "fail" {
				yy := padT + plotH
				fmt.Fprintf(&b, `<path d="M%.1f %.1fl8 8m0 -8l-8 8" stroke="%s" stroke-width="2"><title>#%d %s %s 失败 failed: %s</title></path>`,
					xx-4, yy-4, failColour, d.Entry.Seq, esc(job), d.Entry.Time.In(loc).Format("2006-01-02 15:04"), esc(d.Failure))
			}
			b.WriteString(`</a>`)
		}
		// Legend, one entry per job along the top.
		lx := padL + float64(i)*150
		fmt.Fprintf(&b, `<rect x="%.1f" y="10" width="10" height="10" fill="%s"/><text x="%.1f" y="19">%s</text>`, lx, colour, lx+14, esc(clip(job, 20)))
	}
	lx := padL + float64(len(jobs))*150
	fmt.Fprintf(&b, `<path d="M%.1f 11l8 8m0 -8l-8 8" stroke="%s" stroke-width="2"/><text x="%.1f" y="19">失败 failed</text>`, lx, failColour, lx+14)
	if len(drills) == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">本期间没有恢复演练 / no drill in the period</text>`, padL+plotW/2, padT+plotH/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every variable part went through esc or a number format
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 10 s).
func niceCeil(v float64) float64 {
	if v <= 10 {
		return 10
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// dateTicks picks whole days in the period, at most maxXTicks, evenly spaced.
func dateTicks(per Period, loc *time.Location) []time.Time {
	start := per.From.In(loc)
	day0 := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
	if day0.Before(per.From) {
		day0 = day0.AddDate(0, 0, 1)
	}
	days := int(per.To.Sub(day0).Hours()/24) + 1
	step := (days + maxXTicks - 1) / maxXTicks
	if step < 1 {
		step = 1
	}
	var out []time.Time
	for d := day0; d.Before(per.To); d = d.AddDate(0, 0, step) {
		out = append(out, d)
	}
	return out
}

func fmtSeconds(s float64) string {
	switch {
	case s >= 3600:
		return fmt.Sprintf("%.1fh", s/3600)
	case s >= 100:
		return fmt.Sprintf("%.0fs", s)
	case s < 1: // 0.25s, not 0s
		return fmt.Sprintf("%.2fs", s)
	}
	return fmt.Sprintf("%.1fs", s)
}
