package web

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// view is what the overview and the API show, folded from the journal the
// way the daemon's metrics are: a Tailer reads every entry once at the
// first request and after that only what was appended since, by serve or by
// the CLI. Memory is bounded: the newest completed scan per source and
// root, the newest backup and check per job, and the last drillHistory
// drills per drill job, for at most maxSubjects subjects of each kind.
type view struct {
	mu   sync.Mutex
	tail *journal.Tailer
	err  error // the last poll's error
	bad  int   // lines the tailer could not read

	entries  int // highest sequence number
	newest   time.Time
	db       map[string]*scanState
	files    map[string]*scanState
	backups  map[string]*backupState
	drills   map[string]*drillState
	last     *drillRun // the newest drill of any job
	lastPass *drillRun
}

const (
	maxSubjects  = 1000
	drillHistory = 200
)

// ref points at one journal entry.
type ref struct {
	Seq     int       `json:"seq"`
	Time    time.Time `json:"time"`
	Outcome string    `json:"outcome"`
}

func refOf(e journal.Entry) ref { return ref{Seq: e.Seq, Time: e.Time, Outcome: e.Outcome} }

// scanState is a source's (scan.db) or a root's (scan.files) scans.
type scanState struct {
	Last ref // newest scan, whatever its outcome
	// Done is the newest scan that ran to its end (ok or findings): its
	// counts are the state of the source; a scan that stopped on an error
	// counts a lower bound.
	Done *ref
	// Counts of Done: plaintext columns (scan.db) or findings (scan.files),
	// by type, and the other figures worth a column.
	Plaintext int
	ByType    map[string]int
	Figures   map[string]any // the entry's, as journaled
}

type backupState struct {
	LastRun *ref
	LastOK  *ref // newest backup.run with outcome ok
	// LastOKSuite is that backup's crypto suite (figures.suite), "" for
	// entries from before suites.
	LastOKSuite string
	LastCheck   *ref // newest backup.check
	// Checks are the verdicts, name → pass|fail, each from the newest
	// check that measured it: integrity keeps the last reading check's
	// verdict through the plain checks that follow (as
	// atrest_check_status does). CheckAt says which entry gave each.
	Checks   map[string]string
	CheckAt  map[string]ref
	ChecksAt *ref // the newest check that gave any verdict
	// Unjudged are the newest check's checks without a verdict: unjudged
	// (it warned) or unsupported (the server does not implement it).
	Unjudged map[string]string
}

type drillState struct {
	History []drillRun // oldest first, at most drillHistory
}

type drillRun struct {
	Job     string    `json:"job"`
	Seq     int       `json:"seq"`
	Time    time.Time `json:"time"`
	Outcome string    `json:"outcome"`
	RTO     *float64  `json:"rto_seconds,omitempty"`
	RPO     *float64  `json:"rpo_seconds,omitempty"`
	Tables  *float64  `json:"tables,omitempty"`
	Failure string    `json:"failure,omitempty"`
	WebUser string    `json:"web_user,omitempty"`
	// RTOTarget and RPOTarget say whether the run met the drill's targets:
	// met, missed, or "" (no target, or not judged). Subset marks a drill
	// of chosen tables.
	RTOTarget string `json:"rto_target,omitempty"`
	RPOTarget string `json:"rpo_target,omitempty"`
	Subset    bool   `json:"subset,omitempty"`
}

// Passed reports whether the drill restored and verified.
func (d drillRun) Passed() bool { return passed(d.Outcome) }

func passed(outcome string) bool { return outcome == "ok" || outcome == "pass" }

func newView(dir string) *view {
	return &view{tail: journal.NewTailer(dir), db: map[string]*scanState{}, files: map[string]*scanState{},
		backups: map[string]*backupState{}, drills: map[string]*drillState{}}
}

// sync reads what was appended since the last call; v.mu is held.
func (v *view) sync() {
	bad, err := v.tail.Poll(v.apply)
	v.bad += len(bad)
	v.err = err
}

func (v *view) apply(e journal.Entry) {
	v.entries = max(v.entries, e.Seq)
	if e.Time.After(v.newest) {
		v.newest = e.Time
	}
	switch e.Kind {
	case "scan.db":
		v.applyScan(v.db, e, "plaintext_columns", "plaintext_by_type")
	case "scan.files":
		v.applyScan(v.files, e, "findings", "by_type")
	case "backup.run":
		b := subject(v.backups, e.Subject, func() *backupState { return &backupState{} })
		r := refOf(e)
		b.LastRun = &r
		if e.Outcome == "ok" {
			b.LastOK = &r
			b.LastOKSuite = ""
			if m, ok := e.Figures["suite"].(map[string]any); ok {
				for k := range m {
					b.LastOKSuite = k
				}
			}
		}
	case "backup.check":
		b := subject(v.backups, e.Subject, func() *backupState { return &backupState{} })
		r := refOf(e)
		b.LastCheck = &r
		if checks, ok := e.Figures["checks"].(map[string]any); ok {
			// Copies: a snapshot may still hold the old maps.
			verdicts, at := maps.Clone(b.Checks), maps.Clone(b.CheckAt)
			if verdicts == nil {
				verdicts, at = map[string]string{}, map[string]ref{}
			}
			for name, x := range checks {
				if f, ok := journal.Number(x); ok {
					verdicts[name] = map[bool]string{true: "pass", false: "fail"}[f == 1]
					at[name] = r
				}
			}
			// A check that only warned, or that the server does not
			// support, has no verdict now; the pages say which it was.
			unjudged, _ := e.Figures["checks_unjudged"].(map[string]any)
			unsupported, _ := e.Figures["checks_unsupported"].(map[string]any)
			open := map[string]string{}
			for name := range unjudged {
				if _, judged := checks[name]; !judged {
					delete(verdicts, name)
					delete(at, name)
					open[name] = "unjudged"
					if _, ok := unsupported[name]; ok {
						open[name] = "unsupported"
					}
				}
			}
			b.Checks, b.CheckAt, b.ChecksAt, b.Unjudged = verdicts, at, &r, open
		}
	case "drill.run":
		if e.Outcome == "skipped" {
			return
		}
		d := subject(v.drills, e.Subject, func() *drillState { return &drillState{} })
		run := drillRun{Job: e.Subject, Seq: e.Seq, Time: e.Time, Outcome: e.Outcome, WebUser: e.Actor.WebUser,
			RTO: figure(e, "rto_seconds"), RPO: figure(e, "rpo_seconds"), Tables: figure(e, "tables")}
		if f, ok := e.Figures["failure"].(map[string]any); ok {
			run.Failure = strings.Join(slices.Sorted(maps.Keys(f)), ",")
		}
		run.RTOTarget, run.RPOTarget = targetVerdict(e, "rto_met"), targetVerdict(e, "rpo_met")
		run.Subset, _ = e.Figures["subset"].(bool)
		if len(d.History) == drillHistory {
			d.History = slices.Delete(d.History, 0, 1)
		}
		d.History = append(d.History, run)
		v.last = &run
		if run.Passed() {
			v.lastPass = &run
		}
	}
}

func (v *view) applyScan(m map[string]*scanState, e journal.Entry, total, byType string) {
	s := subject(m, e.Subject, func() *scanState { return &scanState{} })
	s.Last = refOf(e)
	if e.Outcome != "ok" && e.Outcome != "findings" {
		return
	}
	r := refOf(e)
	s.Done = &r
	s.Plaintext = 0
	if n := figure(e, total); n != nil {
		s.Plaintext = int(*n)
	}
	s.ByType = map[string]int{}
	if bt, ok := e.Figures[byType].(map[string]any); ok {
		for t, x := range bt {
			if f, ok := journal.Number(x); ok && f > 0 {
				s.ByType[t] = int(f)
			}
		}
	}
	s.Figures = e.Figures
}

// subject returns m[name], creating it. When m is full, the first subject
// by name makes room: subjects are config names, but the CLI journals a
// scan of ad-hoc paths under their path, and those must not grow the view
// without bound.
func subject[T any](m map[string]*T, name string, mk func() *T) *T {
	if s, ok := m[name]; ok {
		return s
	}
	if len(m) >= maxSubjects {
		for _, k := range slices.Sorted(maps.Keys(m)) { // deterministic
			delete(m, k)
			break
		}
	}
	s := mk()
	m[name] = s
	return s
}

func figure(e journal.Entry, name string) *float64 {
	if f, ok := journal.Number(e.Figures[name]); ok {
		return &f
	}
	return nil
}

// snapshot is a copy of the view that a handler renders without the lock.
type snapshot struct {
	Entries  int
	Newest   time.Time
	Bad      int
	Err      error
	DB       map[string]scanState
	Files    map[string]scanState
	Backups  map[string]backupState
	Drills   map[string][]drillRun
	Last     *drillRun
	LastPass *drillRun
}

// snap brings the view up to date with the journal and copies it. Maps and
// refs inside the states are replaced by apply, never changed in place, so
// copying the states and the drill slices is enough.
func (v *view) snap() snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sync()
	s := snapshot{Entries: v.entries, Newest: v.newest, Bad: v.bad, Err: v.err,
		DB: map[string]scanState{}, Files: map[string]scanState{}, Backups: map[string]backupState{},
		Drills: map[string][]drillRun{}}
	for k, x := range v.db {
		s.DB[k] = *x
	}
	for k, x := range v.files {
		s.Files[k] = *x
	}
	for k, x := range v.backups {
		s.Backups[k] = *x
	}
	for k, x := range v.drills {
		s.Drills[k] = slices.Clone(x.History)
	}
	if v.last != nil {
		l := *v.last
		s.Last = &l
	}
	if v.lastPass != nil {
		l := *v.lastPass
		s.LastPass = &l
	}
	return s
}

// targetVerdict reads a drill entry's rto_met or rpo_met figure as met,
// missed or "" (not judged).
func targetVerdict(e journal.Entry, key string) string {
	met, ok := e.Figures[key].(bool)
	switch {
	case !ok:
		return ""
	case met:
		return "met"
	}
	return "missed"
}
