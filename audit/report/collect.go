package report

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// period is what one pass over the journal found: the entries of the
// period the rules need, sorted by kind and subject, oldest first. Entries
// of other kinds are only counted, so memory follows the schedules (scans,
// checks, drills), not the size of the journal.
type period struct {
	in  Input
	cfg Config

	total, firstSeq, lastSeq, unreadable int
	byKind                               map[string]int

	bySeq     map[int]journal.Entry
	dbScans   map[string][]journal.Entry // by subject (source name)
	fileScans []journal.Entry
	runs      map[string][]journal.Entry // backup.run by job
	found     map[string][]journal.Entry // backup.found by job
	checks    map[string][]journal.Entry // backup.check by job
	anchor    []journal.Entry            // anchor.check: the anchor bucket against journal.retention
	drills    []drillRun
	ops       []journal.Entry // serve.*, config.reload, journal.recover, init, key.*
	// reviews and reports are read from the whole journal: a review of a
	// quarter is written after it ends, and PIPL-54 asks whether reports
	// are regular.
	reviews []journal.Entry
	reports []journal.Entry
	// roles follows who held which dashboard role up to the period's end.
	roles *roleTracker
}

type drillRun struct {
	e   journal.Entry
	job string // the backup job, resolved from the drill's name
}

// opKinds are the entries that show the audit process itself: started,
// stopped, reloaded, recovered, keyed.
var opKinds = []string{"serve", "config.reload", "journal", "init", "key"}

func collect(ctx context.Context, in Input) (*period, error) {
	p := &period{in: in, cfg: in.Config, byKind: map[string]int{}, bySeq: map[int]journal.Entry{},
		dbScans: map[string][]journal.Entry{}, runs: map[string][]journal.Entry{}, found: map[string][]journal.Entry{}, checks: map[string][]journal.Entry{},
		roles: newRoleTracker()}
	drillJob := map[string]string{}
	for _, b := range in.Config.Backups {
		drillJob[b.Name] = b.Name
	}
	for _, d := range in.Config.Drills {
		drillJob[d.Name] = d.Backup
	}
	inPeriod := journal.Filter{Since: in.Period.From, Until: in.Period.To}
	n := 0
	for e, err := range journal.Query(in.JournalDir, journal.Filter{}) {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			var pr *journal.Problem
			if errors.As(err, &pr) {
				p.unreadable++ // Verify names it; the report carries Verify's answer
				continue
			}
			return nil, fmt.Errorf("report: read journal: %w", err)
		}
		switch e.Kind {
		case KindReview:
			p.keep(e, &p.reviews)
		case KindReport:
			p.keep(e, &p.reports)
		}
		if e.Time.Before(in.Period.To) {
			p.roles.see(e, inPeriod.Match(e))
		}
		if !inPeriod.Match(e) {
			continue
		}
		p.total++
		if p.firstSeq == 0 {
			p.firstSeq = e.Seq
		}
		p.lastSeq = e.Seq
		p.byKind[e.Kind]++
		switch e.Kind {
		case "scan.db":
			p.dbScans[e.Subject] = append(p.dbScans[e.Subject], e)
		case "scan.files":
			p.fileScans = append(p.fileScans, e)
		case "backup.run":
			p.runs[e.Subject] = append(p.runs[e.Subject], e)
		case "backup.found":
			p.found[e.Subject] = append(p.found[e.Subject], e)
		case "backup.check":
			p.checks[e.Subject] = append(p.checks[e.Subject], e)
		case "anchor.check":
			p.anchor = append(p.anchor, e)
		case "drill.run":
			job, ok := drillJob[e.Subject]
			if !ok {
				job = e.Subject
			}
			p.drills = append(p.drills, drillRun{e: e, job: job})
		default:
			if !isOp(e.Kind) {
				continue
			}
			p.ops = append(p.ops, e)
		}
		p.bySeq[e.Seq] = e
	}
	return p, nil
}

func (p *period) keep(e journal.Entry, list *[]journal.Entry) {
	*list = append(*list, e)
	p.bySeq[e.Seq] = e
}

func isOp(kind string) bool {
	for _, k := range opKinds {
		if kind == k || strings.HasPrefix(kind, k+".") {
			return true
		}
	}
	return false
}

// Figures are read back as float64 (journal.Query); these helpers read
// them without caring.

func num(e journal.Entry, key string) (float64, bool) {
	return journal.Number(e.Figures[key])
}

func count(e journal.Entry, key string) int {
	f, _ := num(e, key)
	return int(f)
}

func flag(e journal.Entry, key string) bool {
	b, _ := e.Figures[key].(bool)
	return b
}

func subCounts(e journal.Entry, key string) map[string]int {
	m, _ := e.Figures[key].(map[string]any)
	out := map[string]int{}
	for k, v := range m {
		if f, ok := journal.Number(v); ok && f != 0 {
			out[k] = int(f)
		}
	}
	return out
}

// checkVerdict reads figures.checks[name] of a backup.check entry: 1 pass,
// 0 fail; ok is false when the check was not run or only warned.
func checkVerdict(e journal.Entry, name string) (pass, ok bool) {
	m, _ := e.Figures["checks"].(map[string]any)
	f, ok := journal.Number(m[name])
	return f == 1, ok
}

// failureClass is a drill.run's figures.failure {class: 1}.
func failureClass(e journal.Entry) string {
	for k := range subCounts(e, "failure") {
		return k
	}
	return ""
}

func (p *period) drillsOf(job string) []drillRun {
	var out []drillRun
	for _, d := range p.drills {
		if d.job == job {
			out = append(out, d)
		}
	}
	return out
}

// latest returns the newest entry that passes ok, and whether there is one.
func latest(list []journal.Entry, ok func(journal.Entry) bool) (journal.Entry, bool) {
	for i := len(list) - 1; i >= 0; i-- {
		if ok(list[i]) {
			return list[i], true
		}
	}
	return journal.Entry{}, false
}

func notError(e journal.Entry) bool { return e.Outcome != "error" }

// rootsOf splits a scan.files subject: configured roots are journaled by
// name, joined with commas.
func rootsOf(subject string) []string { return strings.Split(subject, ",") }

// fileScansOf returns the scans whose subject names root.
func (p *period) fileScansOf(root string) []journal.Entry {
	var out []journal.Entry
	for _, e := range p.fileScans {
		for _, r := range rootsOf(e.Subject) {
			if r == root {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// when prints a time in the period's zone, to the minute.
func (p *period) when(t time.Time) string {
	return t.In(p.in.Period.From.Location()).Format("2006-01-02 15:04")
}
