package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// series is one drill job's runs for the RTO chart.
type series struct {
	Name   string
	Points []point
}

type point struct {
	T    time.Time
	V    float64 // RTO seconds; 0 for a failed drill
	Fail bool
	Seq  int
}

// rtoChart draws the RTO trend as inline SVG, on the server: one line per
// drill job through its passing drills, a red cross on the time axis for
// each failed one, each mark a link to its journal entry with a tooltip.
// Colours come from classes in the stylesheet (no style attributes: the
// CSP allows none). Every string that reaches the SVG is escaped here.
func rtoChart(ss []series, width, height int, loc *time.Location) template.HTML {
	var minT, maxT time.Time
	maxV := 0.0
	n := 0
	for _, s := range ss {
		for _, p := range s.Points {
			if minT.IsZero() || p.T.Before(minT) {
				minT = p.T
			}
			if p.T.After(maxT) {
				maxT = p.T
			}
			maxV = math.Max(maxV, p.V)
			n++
		}
	}
	if n == 0 {
		return template.HTML(`<p class="empty">暂无演练记录 — no drills journaled yet.</p>`)
	}
	const left, right, top, bottom = 56, 16, 14, 34
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	step := niceStep(maxV / 4)
	yMax := step * math.Ceil(maxV/step)
	if yMax == 0 {
		yMax = step
	}
	span := maxT.Sub(minT)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return left + pw/2
		}
		return left + pw*float64(t.Sub(minT))/float64(span)
	}
	y := func(v float64) float64 { return top + ph - ph*v/yMax }

	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`,
		width, height, width, height)
	b.WriteString(`<title>RTO 恢复时间趋势 — restore time of each drill, seconds</title>`)
	for v := 0.0; v <= yMax+step/2; v += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, left, y(v), width-right, y(v))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, left-6, y(v)+4, esc(fmtSeconds(v)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, left, y(0), width-right, y(0))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="start">%s</text>`, left, height-8, esc(minT.In(loc).Format("2006-01-02 15:04")))
	if span > 0 {
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, width-right, height-8, esc(maxT.In(loc).Format("2006-01-02 15:04")))
	}
	for i, s := range ss {
		cls := fmt.Sprintf("s%d", i%6)
		var pts []string
		for _, p := range s.Points {
			if !p.Fail {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(p.V)))
			}
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline class="line %s" points="%s"/>`, cls, strings.Join(pts, " "))
		}
		for _, p := range s.Points {
			when := p.T.In(loc).Format("2006-01-02 15:04:05 -07:00")
			fmt.Fprintf(&b, `<a href="/journal/%d">`, p.Seq)
			if p.Fail {
				cx, cy := x(p.T), y(0)
				fmt.Fprintf(&b, `<g class="fail"><title>%s %s: 失败 FAILED (#%d)</title>`, esc(s.Name), esc(when), p.Seq)
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/></g>`,
					cx-5, cy-5, cx+5, cy+5, cx-5, cy+5, cx+5, cy-5)
			} else {
				fmt.Fprintf(&b, `<circle class="dot %s" cx="%.1f" cy="%.1f" r="4"><title>%s %s: RTO %s (#%d)</title></circle>`,
					cls, x(p.T), y(p.V), esc(s.Name), esc(when), esc(fmtSeconds(p.V)), p.Seq)
			}
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	if len(ss) > 1 {
		b.WriteString(`<p class="legend">`)
		for i, s := range ss {
			fmt.Fprintf(&b, `<span class="key s%d">%s</span> `, i%6, esc(s.Name))
		}
		b.WriteString(`</p>`)
	}
	return template.HTML(b.String())
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// fmtSeconds writes a duration in seconds the way the pages do: "41.2 s"
// under a minute, "3 min 12 s" under an hour, then hours and minutes.
func fmtSeconds(v float64) string {
	switch {
	case v < 1: // 0.25 s, not 0 s
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".") + " s"
	case v < 60:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") + " s"
	case v < 3600 && int(v)%60 == 0:
		return fmt.Sprintf("%d min", int(v)/60)
	case v < 3600:
		return fmt.Sprintf("%d min %d s", int(v)/60, int(v)%60)
	case int(v)%3600/60 == 0:
		return fmt.Sprintf("%d h", int(v)/3600)
	}
	return fmt.Sprintf("%d h %d min", int(v)/3600, int(v)%3600/60)
}

// fmtAge is a duration for humans, bilingual-neutral: 3h12m, 2d4h.
func fmtAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
