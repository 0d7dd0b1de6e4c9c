package report

import (
	"fmt"
	"strings"

	"github.com/atrest/atrest/audit/journal"
)

// A rule answers one control from the period's entries.
type rule func(p *period) outcome

type outcome struct {
	verdict  Verdict
	reason   Text
	evidence []Evidence
}

// tf formats a Text; zh and en take the same arguments in the same order.
func tf(zh, en string, args ...any) Text {
	return Text{fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...)}
}

// para joins sentences into one paragraph per language.
func para(parts ...Text) Text {
	var zh, en []string
	for _, t := range parts {
		if t.ZH != "" {
			zh = append(zh, strings.TrimRight(t.ZH, "。")+"。")
		}
		if t.EN != "" {
			en = append(en, strings.TrimRight(t.EN, ".")+".")
		}
	}
	return Text{strings.Join(zh, ""), strings.Join(en, " ")}
}

func ev(e journal.Entry, why Text) Evidence {
	r := refOf(e)
	return Evidence{Entry: &r, Why: why}
}

func fact(s string, why Text) Evidence { return Evidence{Fact: s, Why: why} }

func names(list []string) string {
	if len(list) == 0 {
		return "—"
	}
	return strings.Join(list, ", ")
}

// tally collects per-item answers (a job, a source, a root) into one.
type tally struct {
	good, bad, partial, nothing []string
	badNotes, notes             []Text
	badEv, ev                   []Evidence
}

func (t *tally) ok(name string, why Text, e ...Evidence) {
	t.good = append(t.good, name)
	if why.EN != "" {
		t.notes = append(t.notes, why)
	}
	t.ev = append(t.ev, e...)
}

func (t *tally) fail(name string, why Text, e ...Evidence) {
	t.bad = append(t.bad, name)
	t.badNotes = append(t.badNotes, why)
	t.badEv = append(t.badEv, e...)
}

// lack records an item short of what the control asks: partial when it
// has some evidence, nothing when it has none.
func (t *tally) lack(name string, why Text, e ...Evidence) {
	if len(e) > 0 {
		t.partial = append(t.partial, name)
	} else {
		t.nothing = append(t.nothing, name)
	}
	t.notes = append(t.notes, why)
	t.ev = append(t.ev, e...)
}

func (t *tally) items() int { return len(t.good) + len(t.bad) + len(t.partial) + len(t.nothing) }

// verdict: anything bad is not met; all good is met; no evidence at all is
// no evidence; the rest partly met.
func (t *tally) verdict() Verdict {
	switch {
	case len(t.bad) > 0:
		return NotMet
	case len(t.good) > 0 && len(t.partial)+len(t.nothing) == 0:
		return Met
	case len(t.good)+len(t.partial) == 0:
		return NoEvidence
	}
	return PartlyMet
}

func (t *tally) outcome(lead Text) outcome {
	return outcome{verdict: t.verdict(), reason: para(append(append([]Text{lead}, t.badNotes...), t.notes...)...),
		evidence: append(append([]Evidence(nil), t.badEv...), t.ev...)}
}
