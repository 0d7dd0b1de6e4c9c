package chart

import (
	"strings"
	"testing"
	"time"
)

func TestRTO(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	ss := []Series{{Name: "a<b", Points: []Point{
		{T: t0, V: 41.2, Link: "/journal/7", Title: "RTO 41.2 s"},
		{T: t0.Add(24 * time.Hour), Fail: true, Link: "/journal/9", Title: "失败 <integrity>"},
	}}}
	web := string(RTO(ss, Options{Width: 700, Height: 200, Loc: time.UTC, Title: "t"}))
	for _, want := range []string{`href="/journal/7"`, `class="fail"`, "a&lt;b", "&lt;integrity&gt;", `class="dot s0"`} {
		if !strings.Contains(web, want) {
			t.Errorf("web chart lacks %q", want)
		}
	}
	if strings.Contains(web, "style=") || strings.Contains(web, "a<b") {
		t.Error("a style attribute or an unescaped name")
	}
	print := string(RTO(ss, Options{Width: 700, Height: 200, Loc: time.UTC, Inline: true}))
	if !strings.Contains(print, `stroke="#b3261e"`) || strings.Contains(print, `class="dot`) {
		t.Errorf("print chart should colour inline:\n%s", print)
	}
	if got := string(RTO(nil, Options{Empty: "none yet"})); !strings.Contains(got, "none yet") {
		t.Errorf("empty: %s", got)
	}
}

func TestSeconds(t *testing.T) {
	for v, want := range map[float64]string{0.25: "0.25 s", 0: "0 s", 41.25: "41.2 s", 120: "2 min", 192: "3 min 12 s", 7200: "2 h", 7320: "2 h 2 min"} {
		if got := Seconds(v); got != want {
			t.Errorf("Seconds(%v) = %q, want %q", v, got, want)
		}
	}
}
