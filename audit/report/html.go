package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/atrest/atrest/audit/detect"
	"github.com/atrest/atrest/internal/chart"
)

//go:embed report.html.tmpl
var htmlSource string

//go:embed report.css
var cssSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"label": func(v Verdict) Text { return v.Label() },
	"when": func(r *Report, t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(r.Period.From.Location()).Format("2006-01-02 15:04 -07:00")
	},
	"day": func(r *Report, t time.Time) string {
		return t.In(r.Period.From.Location()).Format("2006-01-02")
	},
	"css":    func() template.CSS { return template.CSS(cssSource) },
	"chart":  func(r *Report) template.HTML { return rtoChart(r.Figures.Drills, r.Period) },
	"secs":   chart.Seconds,
	"counts": typeCounts,
	"typename": func(t string) string {
		if zh := detect.Chinese(t); zh != t {
			return zh + " " + t
		}
		return t
	},
	"short": func(h string) string { return clip(h, 16) },
	"deref": func(f *float64) float64 { return *f },
	// target says a drill's target and whether it was met, after its figure.
	"target": func(met *bool, target *float64) template.HTML {
		switch {
		case target == nil:
			return ""
		case met == nil:
			return template.HTML(template.HTMLEscapeString(" / " + chart.Seconds(*target)))
		case *met:
			return template.HTML(` <span class="ok small">≤ ` + template.HTMLEscapeString(chart.Seconds(*target)) + ` 达到 met</span>`)
		}
		return template.HTML(` <span class="bad small">&gt; ` + template.HTMLEscapeString(chart.Seconds(*target)) + ` 未达到 missed</span>`)
	},
	"verdicts": func() []Verdict { return Verdicts },
	"count":    func(r *Report, v Verdict) int { return r.Summary[v] },
	"add":      func(a, b int) int { return a + b },
}).Parse(htmlSource))

// WriteHTML renders the printable report: A4 pages, Chinese and English
// side by side, an inline SVG chart, no script and nothing fetched.
func (r *Report) WriteHTML(w io.Writer) error {
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, r); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
