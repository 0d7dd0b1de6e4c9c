package web

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/atrest/atrest/audit/detect"
	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
	"github.com/atrest/atrest/internal/chart"
)

// typeNames are the detector types (SPEC §1) with their Chinese names, in
// the order the overview's columns show them.
var typeNames = detect.TypeNames

// runKinds are the kinds of run a page may offer to start, with labels.
var runKinds = map[string]string{
	"scan.db":      "扫描数据库 Scan database",
	"scan.files":   "扫描文件 Scan files",
	"backup.run":   "立即备份 Back up now",
	"backup.check": "检查备份 Check backups",
	"drill.run":    "恢复演练 Run drill",
}

// scanRow is a source or root with its newest completed scan.
type scanRow struct {
	Name    string
	Link    string
	State   *scanState
	Counts  []int // by typeNames order
	Other   int   // types not in typeNames
	Total   int
	Unknown bool // never scanned to the end
}

func scanRows(names []string, states map[string]scanState, base string) []scanRow {
	all := map[string]bool{}
	for _, n := range names {
		all[n] = true
	}
	for n := range states {
		all[n] = true
	}
	var rows []scanRow
	for _, n := range slices.Sorted(maps.Keys(all)) {
		row := scanRow{Name: n, Link: base + url.PathEscape(n)}
		if st, ok := states[n]; ok {
			row.State = &st
			row.Unknown = st.Done == nil
			row.Total = st.Plaintext
			known := 0
			for _, t := range typeNames {
				row.Counts = append(row.Counts, st.ByType[t.Type])
				known += st.ByType[t.Type]
			}
			for _, c := range st.ByType {
				row.Other += c
			}
			row.Other -= known
		} else {
			row.Unknown = true
		}
		rows = append(rows, row)
	}
	return rows
}

// backupRow is a backup job's freshness and newest check verdicts.
type backupRow struct {
	Name      string
	Link      string
	Suite     string // the job's, from the config ("" when not configured)
	RPO       time.Duration
	State     backupState
	Age       time.Duration // since the newest ok backup.run
	Freshness string        // fresh, stale, never, unknown (no RPO: not in the config)
	Checks    []checkVerdict
}

type checkVerdict struct{ Name, Status string }

func (s *Server) backupRows(snap snapshot) []backupRow {
	rpo := map[string]time.Duration{}
	suites := map[string]string{}
	all := map[string]bool{}
	for _, b := range s.settings().Inventory.Backups {
		rpo[b.Name] = b.RPO
		all[b.Name] = true
		if b.Format == "" || b.Format == "atrest" {
			suites[b.Name] = b.Suite
		}
	}
	for n := range snap.Backups {
		all[n] = true
	}
	now := s.now()
	var rows []backupRow
	for _, n := range slices.Sorted(maps.Keys(all)) {
		st := snap.Backups[n]
		row := backupRow{Name: n, Link: "/backups/" + url.PathEscape(n), Suite: suites[n], RPO: rpo[n], State: st}
		switch {
		case st.LastOK == nil:
			row.Freshness = "never"
		case row.RPO <= 0:
			row.Freshness = "unknown"
			row.Age = now.Sub(st.LastOK.Time)
		default:
			row.Age = now.Sub(st.LastOK.Time)
			row.Freshness = map[bool]string{true: "fresh", false: "stale"}[row.Age <= row.RPO]
		}
		for _, c := range slices.Sorted(maps.Keys(st.Checks)) {
			row.Checks = append(row.Checks, checkVerdict{Name: c, Status: st.Checks[c]})
		}
		for _, c := range slices.Sorted(maps.Keys(st.Unjudged)) {
			row.Checks = append(row.Checks, checkVerdict{Name: c, Status: st.Unjudged[c]})
		}
		rows = append(rows, row)
	}
	return rows
}

// drillOf maps drill names to their backup jobs.
func (s *Server) drillBackup(drill string) string {
	for _, d := range s.settings().Inventory.Drills {
		if d.Name == drill {
			return d.Backup
		}
	}
	return ""
}

type overviewData struct {
	common
	Snap      snapshot
	Last      *drillRun
	LastBak   string
	Types     []struct{ Type, Chinese string }
	Sources   []scanRow
	Roots     []scanRow
	Backups   []backupRow
	Chart     template.HTML
	Recent    []drillRun // newest first
	Verify    verifyStatus
	DrillJobs []string
}

func (s *Server) overview(q *req) {
	snap := s.view.snap()
	d := overviewData{common: s.common(&q.sess, "概览 Overview", "overview"), Snap: snap, Last: snap.Last,
		Types: typeNames, Verify: s.verify.status()}
	if d.Last != nil {
		d.LastBak = s.drillBackup(d.Last.Job)
	}
	d.Sources = scanRows(s.settings().Inventory.Sources, snap.DB, "/sources/")
	d.Roots = scanRows(s.settings().Inventory.Roots, snap.Files, "/roots/")
	d.Backups = s.backupRows(snap)
	d.Chart = rtoChart(drillSeries(snap.Drills, 30), 760, 220, s.settings().Location)
	d.Recent = newestDrills(snap.Drills, 10)
	s.render(q.w, http.StatusOK, "overview", d)
}

// drillSeries is the newest n drills of each drill job, for the chart.
func drillSeries(drills map[string][]drillRun, n int) []chart.Series {
	var out []chart.Series
	for _, job := range slices.Sorted(maps.Keys(drills)) {
		h := drills[job]
		h = h[max(0, len(h)-n):]
		ser := chart.Series{Name: job}
		for _, r := range h {
			p := chart.Point{T: r.Time, Fail: !r.Passed() || r.RTO == nil, Link: fmt.Sprintf("/journal/%d", r.Seq),
				Title: fmt.Sprintf("失败 FAILED (#%d)", r.Seq)}
			if !p.Fail {
				p.V = *r.RTO
				p.Title = fmt.Sprintf("RTO %s (#%d)", chart.Seconds(p.V), r.Seq)
			}
			ser.Points = append(ser.Points, p)
		}
		out = append(out, ser)
	}
	return out
}

// rtoChart is the RTO trend as the dashboard styles it.
func rtoChart(ss []chart.Series, width, height int, loc *time.Location) template.HTML {
	return chart.RTO(ss, chart.Options{Width: width, Height: height, Loc: loc,
		Title: "RTO 恢复时间趋势 — restore time of each drill, seconds", Empty: "暂无演练记录 — no drills journaled yet."})
}

func newestDrills(drills map[string][]drillRun, n int) []drillRun {
	var all []drillRun
	for _, h := range drills {
		all = append(all, h...)
	}
	slices.SortFunc(all, func(a, b drillRun) int { return cmp.Compare(b.Seq, a.Seq) })
	return all[:min(n, len(all))]
}

type subjectData struct {
	common
	Kind    string // scan.db, scan.files
	Name    string
	Row     scanRow
	Types   []struct{ Type, Chinese string }
	Figures []figureLine
	Runs    []journal.Entry // newest first
	Buttons []runButton
	Started string
}

// runButton is a "run now" form. Every user who reads the page sees it; the
// server refuses all but system administrators (403, journaled), so the
// page does not pretend to be the check.
type runButton struct {
	Kind, Name, Label, Action string
	CSRF                      string
	Scheduled                 bool
}

func (s *Server) buttons(csrf string, pairs ...[2]string) []runButton {
	sched := map[string]bool{}
	if s.o.Runner != nil {
		for _, j := range s.o.Runner.Jobs() {
			sched[j] = true
		}
	}
	var out []runButton
	for _, p := range pairs {
		out = append(out, runButton{Kind: p[0], Name: p[1], Label: runKinds[p[0]], CSRF: csrf,
			Action:    "/jobs/" + url.PathEscape(p[0]) + "/" + url.PathEscape(p[1]) + "/run",
			Scheduled: sched[p[0]+" "+p[1]]})
	}
	return out
}

func (s *Server) sourcePage(q *req) { s.scanPage(q, "scan.db") }
func (s *Server) rootPage(q *req)   { s.scanPage(q, "scan.files") }

func (s *Server) scanPage(q *req, kind string) {
	name := q.r.PathValue("name")
	snap := s.view.snap()
	states, names, title := snap.DB, s.settings().Inventory.Sources, "数据源 Source "
	if kind == "scan.files" {
		states, names, title = snap.Files, s.settings().Inventory.Roots, "文件目录 Root "
	}
	if _, ok := states[name]; !ok && !slices.Contains(names, name) {
		s.errorPage(q.w, q.r, &q.sess, http.StatusNotFound, "没有这个名称", "No such "+kind+" subject in the configuration or the journal.")
		return
	}
	rows := scanRows(nil, map[string]scanState{name: states[name]}, "")
	d := subjectData{common: s.common(&q.sess, title+name, ""), Kind: kind, Name: name, Row: rows[0],
		Types: typeNames, Started: q.r.URL.Query().Get("started")}
	if st, ok := states[name]; ok {
		d.Figures = figureLines(st.Figures)
	} else {
		d.Row.State = nil
	}
	d.Runs, _ = newest(s.o.JournalDir, journal.Filter{Kind: kind, Subject: name}, 20)
	d.Buttons = s.buttons(q.sess.csrf, [2]string{kind, name})
	s.render(q.w, http.StatusOK, "scan", d)
}

type backupData struct {
	common
	Name    string
	Row     backupRow
	Job     *BackupJob
	Drills  []drillBlock
	Runs    []journal.Entry
	Checks  []journal.Entry
	Buttons []runButton
	Started string
	// Coverage counts this month's backups one by one (report.Coverage);
	// CoverageErr says why it could not be read.
	Coverage    report.Coverage
	CoverageErr string
}

type drillBlock struct {
	Name    string
	Link    string
	Chart   template.HTML
	Runs    []drillRun // newest first
	Buttons []runButton
}

func (s *Server) backupPage(q *req) {
	name := q.r.PathValue("name")
	snap := s.view.snap()
	var job *BackupJob
	for i := range s.settings().Inventory.Backups {
		if s.settings().Inventory.Backups[i].Name == name {
			job = &s.settings().Inventory.Backups[i]
		}
	}
	if _, ok := snap.Backups[name]; !ok && job == nil {
		s.errorPage(q.w, q.r, &q.sess, http.StatusNotFound, "没有这个备份任务", "No such backup job in the configuration or the journal.")
		return
	}
	var row backupRow
	for _, r := range s.backupRows(snap) {
		if r.Name == name {
			row = r
		}
	}
	d := backupData{common: s.common(&q.sess, "备份任务 Backup job "+name, ""), Name: name, Row: row, Job: job,
		Started: q.r.URL.Query().Get("started")}
	d.Runs, _ = newest(s.o.JournalDir, journal.Filter{Kind: "backup.run", Subject: name}, 15)
	d.Checks, _ = newest(s.o.JournalDir, journal.Filter{Kind: "backup.check", Subject: name}, 15)
	d.Buttons = s.buttons(q.sess.csrf, [2]string{"backup.run", name}, [2]string{"backup.check", name})
	if c, err := s.monthCoverage(name); err != nil {
		d.CoverageErr = oneLine(err.Error())
	} else {
		d.Coverage = c
	}
	for _, dj := range s.settings().Inventory.Drills {
		if dj.Backup == name {
			d.Drills = append(d.Drills, s.drillBlock(snap, dj.Name, q.sess.csrf))
		}
	}
	s.render(q.w, http.StatusOK, "backup", d)
}

func (s *Server) drillBlock(snap snapshot, name, csrf string) drillBlock {
	h := snap.Drills[name]
	b := drillBlock{Name: name, Link: "/drills/" + url.PathEscape(name),
		Chart:   rtoChart(drillSeries(map[string][]drillRun{name: h}, 60), 760, 200, s.settings().Location),
		Runs:    newestDrills(map[string][]drillRun{name: h}, 20),
		Buttons: s.buttons(csrf, [2]string{"drill.run", name})}
	return b
}

type drillData struct {
	common
	Backup  string
	Block   drillBlock
	Started string
}

func (s *Server) drillPage(q *req) {
	name := q.r.PathValue("name")
	snap := s.view.snap()
	bak := s.drillBackup(name)
	if _, ok := snap.Drills[name]; !ok && bak == "" {
		s.errorPage(q.w, q.r, &q.sess, http.StatusNotFound, "没有这个演练", "No such drill in the configuration or the journal.")
		return
	}
	s.render(q.w, http.StatusOK, "drill", drillData{common: s.common(&q.sess, "恢复演练 Drill "+name, ""),
		Backup: bak, Block: s.drillBlock(snap, name, q.sess.csrf), Started: q.r.URL.Query().Get("started")})
}

// jobPath is the page that shows runs of kind for name.
func (s *Server) jobPath(kind, name string) string {
	n := url.PathEscape(name)
	switch kind {
	case "scan.db":
		return "/sources/" + n
	case "scan.files":
		return "/roots/" + n
	case "drill.run":
		return "/drills/" + n
	}
	return "/backups/" + n
}

func (s *Server) jobPage(q *req) {
	kind := q.r.PathValue("kind")
	if _, ok := runKinds[kind]; !ok {
		s.errorPage(q.w, q.r, &q.sess, http.StatusNotFound, "没有这种任务", "No such kind of job.")
		return
	}
	http.Redirect(q.w, q.r, s.jobPath(kind, q.r.PathValue("name")), http.StatusSeeOther)
}

// runJob starts a run for a system administrator; page() refused other
// roles (403, journaled as access.denied).
func (s *Server) runJob(q *req) {
	kind, name := q.r.PathValue("kind"), q.r.PathValue("name")
	if _, ok := runKinds[kind]; !ok {
		s.errorPage(q.w, q.r, &q.sess, http.StatusNotFound, "没有这种任务", "No such kind of job.")
		return
	}
	if s.o.Runner == nil || !slices.Contains(s.o.Runner.Jobs(), kind+" "+name) {
		s.errorPage(q.w, q.r, &q.sess, http.StatusNotFound, "该任务未由 atrest serve 调度",
			fmt.Sprintf("%s %s is not scheduled by atrest serve: give it a schedule in the configuration, or run it with the CLI.", kind, name))
		return
	}
	if err := s.o.Runner.RunNow(kind, name, q.sess.user); err != nil {
		s.errorPage(q.w, q.r, &q.sess, http.StatusConflict, "任务未启动", fmt.Sprintf("%s %s did not start: %s", kind, name, oneLine(err.Error())))
		return
	}
	http.Redirect(q.w, q.r, s.jobPath(kind, name)+"?started="+url.QueryEscape(kind), http.StatusSeeOther)
}

// monthCoverage is report.CoverageOf for job's entries since the start of
// this month in the dashboard's time zone: how many of the month's backups
// were read back whole, drilled, or neither. It reads from the month's
// start (journal.Oldest seeks there), not the whole journal.
func (s *Server) monthCoverage(job string) (report.Coverage, error) {
	now := s.now().In(s.settings().Location)
	since := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	drillOf := map[string]bool{job: true}
	for _, d := range s.settings().Inventory.Drills {
		if d.Backup == job {
			drillOf[d.Name] = true
		}
	}
	var backups, checks, drills []journal.Entry
	for e, err := range journal.Oldest(s.o.JournalDir, journal.Filter{Since: since}) {
		if err != nil {
			var p *journal.Problem
			if errors.As(err, &p) {
				continue // a bad line is the verify page's business
			}
			return report.Coverage{}, err
		}
		switch {
		case (e.Kind == "backup.run" || e.Kind == "backup.found") && e.Subject == job:
			backups = append(backups, e)
		case e.Kind == "backup.check" && e.Subject == job:
			checks = append(checks, e)
		case e.Kind == "drill.run" && drillOf[e.Subject]:
			drills = append(drills, e)
		}
	}
	return report.CoverageOf(backups, checks, drills), nil
}
