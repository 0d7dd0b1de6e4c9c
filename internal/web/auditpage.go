package web

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
)

// The audit page is the audit administrator's (auditor's) own: the period
// report in HTML or JSON and the signed evidence bundle, made as `atrest
// report` makes them (report.Maker) and downloaded; a verification of the
// journal on demand; and the review of a period, journaled as an
// authenticated act. Other roles are refused at the door (page()).

type auditData struct {
	common
	Periods  []periodChoice
	Reports  bool // the dashboard can make reports
	Verify   verifyStatus
	Checked  bool // Verify is the result of a check just asked for
	Reviewed int  // the review just journaled
	Error    string
	Reviews  []journal.Entry // newest first
	Made     []journal.Entry // the newest reports
}

type periodChoice struct {
	Value, Label string
}

// periods offers the months and quarters an officer reports on most: this
// one (unfinished) and the one before.
func periods(now time.Time) []periodChoice {
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	last := month.AddDate(0, -1, 0)
	q := (int(now.Month()) - 1) / 3
	lastQ := time.Date(now.Year(), time.Month(3*q+1), 1, 0, 0, 0, 0, now.Location()).AddDate(0, -3, 0)
	return []periodChoice{
		{month.Format("2006-01"), "本月 this month " + month.Format("2006-01") + "（未结束 unfinished）"},
		{last.Format("2006-01"), "上月 last month " + last.Format("2006-01")},
		{fmt.Sprintf("%d-Q%d", now.Year(), q+1), fmt.Sprintf("本季度 this quarter %d-Q%d（未结束 unfinished）", now.Year(), q+1)},
		{fmt.Sprintf("%d-Q%d", lastQ.Year(), (int(lastQ.Month())-1)/3+1), fmt.Sprintf("上季度 last quarter %d-Q%d", lastQ.Year(), (int(lastQ.Month())-1)/3+1)},
	}
}

func (s *Server) auditPage(q *req) {
	d := s.auditData(q)
	d.Reviewed, _ = strconv.Atoi(q.r.URL.Query().Get("reviewed"))
	s.render(q.w, http.StatusOK, "audit", d)
}

func (s *Server) auditData(q *req) auditData {
	d := auditData{common: s.common(&q.sess, "审计 Audit", "audit"), Periods: periods(s.now().In(s.settings().Location)),
		Reports: s.settings().Reports != nil, Verify: s.verify.status()}
	d.Reviews, _ = newest(s.o.JournalDir, journal.Filter{Kind: report.KindReview}, 20)
	d.Made, _ = newest(s.o.JournalDir, journal.Filter{Kind: report.KindReport}, 10)
	return d
}

func (s *Server) auditError(q *req, code int, zh, en string) {
	d := s.auditData(q)
	d.Error = zh + " — " + en
	s.render(q.w, code, "audit", d)
}

// period reads the form's period in the configured zone.
func (s *Server) period(q *req) (report.Period, bool) {
	p, err := report.ParsePeriod(q.r.PostFormValue("period"), s.settings().Location)
	if err != nil {
		s.auditError(q, http.StatusBadRequest, "期间无效", oneLine(err.Error()))
		return report.Period{}, false
	}
	return p, true
}

// downloads say how each format is sent: atrest-report-2026-12-01_2026-12-31.html.
var downloads = map[string]struct{ prefix, ext, ctype string }{
	report.FormatHTML:   {"atrest-report-", ".html", "text/html; charset=utf-8"},
	report.FormatJSON:   {"atrest-report-", ".json", "application/json; charset=utf-8"},
	report.FormatBundle: {"atrest-evidence-", ".zip", "application/zip"},
}

// makeReport (POST /report: period, format html|json|bundle) makes the
// period's report as atrest report does, journaled with the auditor as
// actor, and sends it as a download.
func (s *Server) makeReport(q *req) {
	m := s.settings().Reports
	if m == nil {
		s.auditError(q, http.StatusNotFound, "本仪表盘不能生成报告", "This dashboard makes no reports: use atrest report on the host.")
		return
	}
	per, ok := s.period(q)
	if !ok {
		return
	}
	format := q.r.PostFormValue("format")
	var buf bytes.Buffer
	made, err := m.Make(q.r.Context(), report.Request{Period: per, Format: format, WebUser: q.sess.user, Process: s.o.Process}, &buf)
	if err != nil {
		s.logf("report %s by %s: %s", per.Label, q.sess.user, oneLine(err.Error()))
		s.auditError(q, http.StatusInternalServerError, "报告未能生成", oneLine(err.Error()))
		return
	}
	if made.Warning != nil {
		s.logf("report %s by %s: journaled, but %s", per.Label, q.sess.user, oneLine(made.Warning.Error()))
	}
	dl := downloads[format]
	name := dl.prefix + strings.NewReplacer(":", "", "/", "", "..", "_").Replace(per.Label) + dl.ext
	h := q.w.Header()
	h.Set("Content-Type", dl.ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if made.Report.Entry != nil {
		h.Set("X-Atrest-Journal-Entry", strconv.Itoa(made.Report.Entry.Seq))
	}
	if made.Broken != nil {
		h.Set("X-Atrest-Journal-Broken", oneLine(made.Broken.Error()))
	}
	q.w.WriteHeader(http.StatusOK)
	q.w.Write(buf.Bytes())
}

// verifyNow (POST /verify) verifies the whole journal now and shows the
// result; the check is journaled (journal.verify) with the auditor.
func (s *Server) verifyNow(q *req) {
	st := s.verify.check(q.r.Context())
	outcome := map[string]string{"ok": "ok", "broken": "fail", "error": "error", "off": "error"}[st.State]
	e := journal.Entry{Kind: "journal.verify", Subject: "journal", Outcome: outcome, Actor: journal.Actor{WebUser: q.sess.user},
		Figures: map[string]any{"entries": st.Entries, "unsigned": st.Unsigned}, Detail: "on demand, from " + s.clientIP(q.r)}
	if st.Problem != "" {
		e.Detail += ": " + st.Problem
	}
	s.journal(e)
	d := s.auditData(q)
	d.Verify, d.Checked = st, true
	s.render(q.w, http.StatusOK, "audit", d)
}

// addReview (POST /reviews: period, note) journals the logged-in
// auditor's review of a period: an authenticated act of the audit
// administrator, which MLPS-8.1.5.2 counts.
func (s *Server) addReview(q *req) {
	per, ok := s.period(q)
	if !ok {
		return
	}
	e, err := report.Review{Period: per, Note: strings.TrimSpace(q.r.PostFormValue("note")), Auditor: q.sess.user, Via: "dashboard"}.Entry()
	if err != nil {
		s.auditError(q, http.StatusBadRequest, "审阅未记录", oneLine(err.Error()))
		return
	}
	e.Actor.Process = s.o.Process
	stored, err := s.o.Journal.Append(e)
	if err != nil && !errors.Is(err, journal.ErrAnchor) {
		s.logf("review %s by %s: %s", per.Label, q.sess.user, oneLine(err.Error()))
		s.auditError(q, http.StatusInternalServerError, "审阅未能记入日志", oneLine(err.Error()))
		return
	}
	http.Redirect(q.w, q.r, fmt.Sprintf("/audit?reviewed=%d", stored.Seq), http.StatusSeeOther)
}
