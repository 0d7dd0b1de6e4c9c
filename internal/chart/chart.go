// Package chart draws the drills' RTO trend as inline SVG, on the server,
// for the dashboard and for the printed report alike: one line per drill
// job through its passing drills, a red cross on the time axis for each
// failed one, each mark a link with a tooltip. No script, nothing fetched.
// The dashboard styles the chart with classes (its CSP allows no style
// attributes); the printed report has no stylesheet for SVG, so it asks for
// colours inline. Every string that reaches the SVG is escaped here.
package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Series is one drill job's runs.
type Series struct {
	Name   string
	Points []Point
}

// Point is one drill run.
type Point struct {
	T     time.Time
	V     float64 // RTO seconds; ignored for a failed drill
	Fail  bool
	Link  string // where the mark links (an entry's page or anchor)
	Title string // tooltip after the job and time: "RTO 41.2 s (#812)"
}

// Options shape a chart.
type Options struct {
	Width, Height int
	Loc           *time.Location
	// From and To fix the time axis (a report's period); zero: the data's.
	From, To time.Time
	// Inline colours the marks with attributes, for a page without a
	// stylesheet for SVG (print); otherwise classes s0..s5, grid, axis, fail.
	Inline bool
	Title  string // the SVG's title
	Empty  string // what to say when there is no run
}

var colours = []string{"#1f5fa8", "#2e7d32", "#8e44ad", "#c26a00", "#00838f", "#5d4037"}

const failColour, axisColour, gridColour = "#b3261e", "#333", "#ddd"

// RTO draws the chart.
func RTO(ss []Series, o Options) template.HTML {
	esc := template.HTMLEscapeString
	minT, maxT, maxV, n := o.From, o.To, 0.0, 0
	for _, s := range ss {
		for _, p := range s.Points {
			if o.From.IsZero() && (minT.IsZero() || p.T.Before(minT)) {
				minT = p.T
			}
			if o.To.IsZero() && p.T.After(maxT) {
				maxT = p.T
			}
			if !p.Fail {
				maxV = math.Max(maxV, p.V)
			}
			n++
		}
	}
	if n == 0 && o.From.IsZero() {
		return template.HTML(`<p class="empty">` + esc(o.Empty) + `</p>`)
	}
	const left, right, top, bottom = 60, 16, 24, 36
	pw, ph := float64(o.Width-left-right), float64(o.Height-top-bottom)
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
		return left + pw*math.Max(0, math.Min(1, float64(t.Sub(minT))/float64(span)))
	}
	y := func(v float64) float64 { return top + ph - ph*v/yMax }
	attr := func(class, inline string) string {
		if o.Inline {
			return inline
		}
		return `class="` + class + `"`
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="11" xmlns="http://www.w3.org/2000/svg">`,
		o.Width, o.Height, o.Width, o.Height)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(o.Title))
	for v := 0.0; v <= yMax+step/2; v += step {
		fmt.Fprintf(&b, `<line %s x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, attr("grid", `stroke="`+gridColour+`"`), left, y(v), o.Width-right, y(v))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, left-6, y(v)+4, esc(Seconds(v)))
	}
	fmt.Fprintf(&b, `<line %s x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, attr("axis", `stroke="`+axisColour+`"`), left, y(0), o.Width-right, y(0))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="start">%s</text>`, left, o.Height-8, esc(minT.In(o.Loc).Format("2006-01-02 15:04")))
	if span > 0 {
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, o.Width-right, o.Height-8, esc(maxT.In(o.Loc).Format("2006-01-02 15:04")))
	}
	for i, s := range ss {
		cls, colour := fmt.Sprintf("s%d", i%len(colours)), colours[i%len(colours)]
		var pts []string
		for _, p := range s.Points {
			if !p.Fail {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(p.V)))
			}
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<polyline %s points="%s"/>`, attr("line "+cls, `fill="none" stroke="`+colour+`" stroke-width="1.5"`), strings.Join(pts, " "))
		}
		for _, p := range s.Points {
			when := p.T.In(o.Loc).Format("2006-01-02 15:04:05 -07:00")
			fmt.Fprintf(&b, `<a href="%s">`, esc(p.Link))
			if p.Fail {
				cx, cy := x(p.T), y(0)
				fmt.Fprintf(&b, `<g %s><title>%s %s: %s</title>`, attr("fail", `stroke="`+failColour+`" stroke-width="2"`), esc(s.Name), esc(when), esc(p.Title))
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/></g>`,
					cx-5, cy-5, cx+5, cy+5, cx-5, cy+5, cx+5, cy-5)
			} else {
				fmt.Fprintf(&b, `<circle %s cx="%.1f" cy="%.1f" r="4"><title>%s %s: %s</title></circle>`,
					attr("dot "+cls, `fill="`+colour+`"`), x(p.T), y(p.V), esc(s.Name), esc(when), esc(p.Title))
			}
			b.WriteString(`</a>`)
		}
		if len(ss) > 1 || o.Inline { // the legend, along the top
			lx := left + i*150
			fmt.Fprintf(&b, `<rect %s x="%d" y="6" width="10" height="10"/><text x="%d" y="15">%s</text>`,
				attr("key "+cls, `fill="`+colour+`"`), lx, lx+14, esc(s.Name))
		}
	}
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, left+pw/2, top+ph/2, esc(o.Empty))
	}
	b.WriteString(`</svg>`)
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

// Seconds writes a duration in seconds for people: "0.25 s" (not "0 s")
// under a second, "41.2 s" under a minute, "3 min 12 s" under an hour,
// then hours and minutes.
func Seconds(v float64) string {
	switch {
	case v < 1:
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
