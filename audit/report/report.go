// Package report turns the journal of one period into a compliance report:
// for each control of docs/CONTROLS.md (GB/T 22239-2019 level 3, the
// Cybersecurity Law, PIPL, GB/T 35273, and HIPAA, PCI DSS, ISO 27001 beside
// them) a verdict, the reason in Chinese and English, and the journal
// entries behind it by sequence number and hash; and the period's figures
// (scans, backup checks, drills with RTO and RPO, journal verification).
// It renders JSON for other tools and printable HTML.
//
// The report is a view of the journal and of a summary of the
// configuration, nothing else: it never connects to a database or a bucket,
// and it never holds an identifier value, because the journal holds none
// (figures are counts; subjects are job, source and root names).
package report

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// Build reads the period's entries from the journal and answers every
// control. The error is for a journal that cannot be read at all; a journal
// that fails verification gives a report that says so.
func Build(ctx context.Context, in Input) (*Report, error) {
	if !in.Period.To.After(in.Period.From) {
		return nil, fmt.Errorf("report: period %s: the end is not after the start", in.Period.Label)
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	p, err := collect(ctx, in)
	if err != nil {
		return nil, err
	}
	r := &Report{
		Schema: Schema, Period: in.Period, Generated: in.Now, Unfinished: in.Period.Unfinished(in.Now), Summary: map[Verdict]int{},
		Config: in.Config, Algorithms: algorithmsInUse(in), Journal: journalStatus(in, p),
		Figures: p.figures(), Roles: p.roles.roles(),
	}
	byKey := map[string]*Result{}
	for _, c := range chinaControls {
		res := answer(p, c, byKey)
		r.Controls = append(r.Controls, res)
		r.Summary[res.Verdict]++
	}
	for i := range r.Controls {
		byKey[r.Controls[i].Key] = &r.Controls[i]
	}
	for _, c := range beyondControls {
		r.Beyond = append(r.Beyond, answer(p, c, byKey))
	}
	r.cite(p)
	return r, nil
}

// maxEvidence bounds the evidence listed per control; the rest is counted.
const maxEvidence = 12

func answer(p *period, c Control, done map[string]*Result) Result {
	res := Result{Control: c}
	var parts []outcome
	for _, k := range c.From {
		if dc, ok := controlByKey(k); ok {
			res.DerivedFrom = append(res.DerivedFrom, dc.ID)
		}
		if d, ok := done[k]; ok {
			parts = append(parts, outcome{verdict: d.Verdict, reason: d.Reason, evidence: d.Evidence})
		} else if dc, ok := controlByKey(k); ok && dc.rule != nil {
			parts = append(parts, dc.rule(p))
		}
	}
	if c.rule != nil {
		parts = append(parts, c.rule(p))
	}
	o := combine(c, parts)
	res.Verdict, res.Reason, res.Evidence = o.verdict, o.reason, dedupe(o.evidence)
	if len(res.Evidence) > maxEvidence {
		res.More = len(res.Evidence) - maxEvidence
		res.Evidence = res.Evidence[:maxEvidence]
	}
	return res
}

func controlByKey(k string) (Control, bool) {
	for _, c := range chinaControls {
		if c.Key == k {
			return c, true
		}
	}
	return Control{}, false
}

// combine joins the outcomes a control takes its verdict from: any not met
// is not met; all met is met; all without evidence is no evidence; anything
// else (a risk among them too) is partly met.
func combine(c Control, parts []outcome) outcome {
	if len(parts) == 1 {
		return parts[0]
	}
	var o outcome
	n := map[Verdict]int{}
	for i, p := range parts {
		n[p.verdict]++
		if i > 0 {
			o.reason.ZH += " "
			o.reason.EN += " "
		}
		if len(c.From) > 0 && i < len(c.From) {
			if dc, ok := controlByKey(c.From[i]); ok {
				l := p.verdict.Label()
				o.reason.ZH += fmt.Sprintf("【%s：%s】", dc.ID, l.ZH)
				o.reason.EN += fmt.Sprintf("[%s: %s] ", dc.ID, l.EN)
			}
		}
		o.reason.ZH += p.reason.ZH
		o.reason.EN += p.reason.EN
		o.evidence = append(o.evidence, p.evidence...)
	}
	switch {
	case n[NotMet] > 0:
		o.verdict = NotMet
	case n[Met] == len(parts):
		o.verdict = Met
	case n[NoEvidence] == len(parts):
		o.verdict = NoEvidence
	default:
		o.verdict = PartlyMet
	}
	return o
}

// dedupe keeps the first mention of each entry or setting; the order is the
// rule's (the entry that decides the verdict first).
func dedupe(ev []Evidence) []Evidence {
	seen := map[string]bool{}
	var out []Evidence
	for _, e := range ev {
		k := "f:" + e.Fact
		if e.Entry != nil {
			k = fmt.Sprintf("e:%d", e.Entry.Seq)
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

// cite fills the appendix with every entry a control cites.
func (r *Report) cite(p *period) {
	seen := map[int]bool{}
	add := func(ev []Evidence) {
		for _, e := range ev {
			if e.Entry == nil || e.Entry.Hash == "" || seen[e.Entry.Seq] {
				continue
			}
			seen[e.Entry.Seq] = true
			ce := CitedEntry{Ref: *e.Entry}
			if full, ok := p.bySeq[e.Entry.Seq]; ok {
				ce.Actor, ce.Detail = actorName(full.Actor), clip(full.Detail, 300)
			}
			r.Cited = append(r.Cited, ce)
		}
	}
	for _, c := range r.Controls {
		add(c.Evidence)
	}
	for _, c := range r.Beyond {
		add(c.Evidence)
	}
	for _, d := range r.Figures.Drills {
		if !seen[d.Entry.Seq] {
			add([]Evidence{{Entry: &d.Entry}})
		}
	}
	sort.Slice(r.Cited, func(i, j int) bool { return r.Cited[i].Seq < r.Cited[j].Seq })
}

// Attach records the report's own journal entry (kind "report"): it is the
// evidence for PIPL-54, and the appendix lists it.
func (r *Report) Attach(e journal.Entry) {
	ref := refOf(e)
	r.Entry = &ref
	for i := range r.Controls {
		if r.Controls[i].Key == "compliance_audit" {
			r.Controls[i].Evidence = append([]Evidence{{Entry: &ref,
				Why: Text{"本报告的生成记录", "this report's own journal entry"}}}, r.Controls[i].Evidence...)
		}
	}
	r.Cited = append(r.Cited, CitedEntry{Ref: ref, Actor: actorName(e.Actor), Detail: e.Detail})
	sort.Slice(r.Cited, func(i, j int) bool { return r.Cited[i].Seq < r.Cited[j].Seq })
}

// JournalEntry is the entry that records the report: kind "report", the
// period as subject, the verdict counts as figures.
func (r *Report) JournalEntry(format string) journal.Entry {
	figs := map[string]any{"controls": len(r.Controls), "period_entries": r.Journal.PeriodEntries,
		"journal_verified": r.Journal.Verified,
		"from_unix":        r.Period.From.Unix(), "to_unix": r.Period.To.Unix()}
	for _, v := range Verdicts {
		figs[string(v)] = r.Summary[v]
	}
	return journal.Entry{Kind: KindReport, Subject: r.Period.Label, Outcome: "ok", Figures: figs,
		Detail: format + " report"}
}

// Journal kinds this package reads or writes.
const (
	KindReport = "report" // a period report was generated
	// KindReview: an auditor reviewed a period (Review.Entry: the dashboard
	// or atrest audit review). Subject is the period's label, Detail the
	// reviewer's note, Actor.WebUser the auditor; figures.authenticated
	// and figures.auditor say they proved who they were and held the role.
	// Entries from before reviews were authenticated have figures.auditor
	// only, and count as partly met.
	KindReview = "review"
)

func refOf(e journal.Entry) Ref {
	return Ref{Seq: e.Seq, Hash: e.Hash, Anchor: fmt.Sprintf("entry-%d", e.Seq), Time: e.Time,
		Kind: e.Kind, Subject: e.Subject, Outcome: e.Outcome}
}

func actorName(a journal.Actor) string {
	if a.WebUser != "" {
		return a.WebUser + " (web)"
	}
	if a.Host != "" {
		return a.OSUser + "@" + a.Host
	}
	return a.OSUser
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func journalStatus(in Input, p *period) JournalStatus {
	v := in.Verify
	js := JournalStatus{Verified: in.VerifyErr == nil && v.FirstBad == nil, Entries: v.Entries,
		Segments: v.Segments, Checkpoints: v.Checkpoints, Unsigned: v.Unsigned(),
		AnchorConfigured: in.Config.Anchor != nil, PeriodEntries: p.total, FirstSeq: p.firstSeq,
		LastSeq: p.lastSeq, Unreadable: p.unreadable}
	if c := v.NewestCheckpoint; c != nil {
		js.NewestCheckpoint = &CheckpointInfo{Size: c.Size, Root: c.Root.String(), Time: c.Time}
	}
	if c := v.Anchored; c != nil {
		js.Anchored = &CheckpointInfo{Size: c.Size, Root: c.Root.String(), Time: c.Time}
	}
	pr := v.FirstBad
	if pr == nil {
		errors.As(in.VerifyErr, &pr)
	}
	if pr != nil {
		js.FirstBad = &BadEntry{Seq: pr.Seq, Kind: string(pr.Kind), File: pr.File, Line: pr.Line, Reason: pr.Reason}
	}
	if in.VerifyErr != nil {
		js.Error = in.VerifyErr.Error()
	}
	return js
}
