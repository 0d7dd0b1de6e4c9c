package daemon

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/atrest/atrest/audit/journal"
)

// The kinds of run the daemon schedules; the CLI journals the same kinds.
const (
	KindScanFiles   = "scan.files"
	KindScanDB      = "scan.db"
	KindBackupRun   = "backup.run"
	KindBackupCheck = "backup.check"
	KindDrillRun    = "drill.run"
)

var runKinds = map[string]bool{KindScanFiles: true, KindScanDB: true, KindBackupRun: true,
	KindBackupCheck: true, KindDrillRun: true}

// metrics are a view of the journal (SPEC §5). Every value comes from an
// entry through apply, whether the entry was read back at start or appended
// since, by this daemon or by the CLI, so a restart rebuilds exactly what
// was there before.
//
// What each metric reads from an entry:
//
//	atrest_backup_last_success_timestamp_seconds{job}  backup.run, outcome ok: entry time
//	atrest_check_status{job,check}                     backup.check: figures.checks, a map
//	    check name → 1 (pass) or 0 (fail). A check reported several times (one
//	    record per object) is 0 if any record failed. Each entry updates only
//	    the checks it measured: integrity, which only a reading check
//	    (--read, read_schedule) measures, keeps its last verdict through the
//	    plain checks that follow, until another read replaces it. A check
//	    that was measured and only warned or is unsupported is listed in
//	    figures.checks_unjudged and loses its series: the old verdict no
//	    longer holds. An entry without checks (could not check at all)
//	    leaves every verdict; its outcome shows in atrest_last_run_outcome.
//	atrest_check_timestamp_seconds{job,check}          the same entries: when that verdict was measured
//	atrest_drill_last_success_timestamp_seconds{job}   drill.run, outcome ok or pass: entry time
//	atrest_drill_rto_seconds{job}                      the same entries: figures.rto_seconds
//	atrest_drill_rto_target_seconds{job}               drill.run with figures.rto_target_seconds: the target
//	atrest_drill_rto_met{job}                          drill.run with figures.rto_met (a passed drill
//	    that had a target): 1 met, 0 missed; a drill without the figure leaves it
//	atrest_drill_rpo_seconds{job}                      drill.run that ran (ok or fail): figures.rpo_seconds
//	atrest_drill_rpo_target_seconds{job}, atrest_drill_rpo_met{job}  likewise from figures.rpo_target_seconds
//	    and figures.rpo_met (judged only when the newest backup was drilled)
//	atrest_plaintext_columns{source}                   scan.db, outcome ok or findings: figures.plaintext_columns
//	atrest_plaintext_findings{root}                    scan.files, outcome ok or findings: figures.findings
//	atrest_journal_entries_total                       the highest sequence number read
//	atrest_runs_total{kind,outcome}                    every entry of the five run kinds
//	atrest_last_run_outcome{kind,job,outcome}          1 for the outcome of the job's newest run
//	    (skipped runs aside): a drill that could not run shows as outcome error
//	atrest_last_run_timestamp_seconds{kind,job}        when that run was journaled
//	atrest_config_last_reload_successful               config.reload: 1 ok, 0 refused; serve.start: 1
//	atrest_config_last_reload_timestamp_seconds        the time of that entry
//
// The job, source and root labels are the entries' subjects: config names
// for scheduled runs. Entry times are append times, that is when a run ended.
type metrics struct {
	reg *prometheus.Registry

	backupLast, drillLast, drillRTO *prometheus.GaugeVec
	drillRPO, drillRTOTarget        *prometheus.GaugeVec
	drillRTOMet, drillRPOTarget     *prometheus.GaugeVec
	drillRPOMet                     *prometheus.GaugeVec
	checkStatus, checkTime          *prometheus.GaugeVec
	plainColumns, plainFindings     *prometheus.GaugeVec
	lastOutcome, lastRunTime        *prometheus.GaugeVec
	reloadOK, reloadTime            prometheus.Gauge
	runs                            *prometheus.CounterVec
	entries                         atomic.Int64
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(g)
		return g
	}
	m.backupLast = gauge("atrest_backup_last_success_timestamp_seconds",
		"When the job's newest successful backup run was journaled (Unix seconds).", "job")
	m.checkStatus = gauge("atrest_check_status",
		"Verdict of the job's latest backup check that measured this check: 1 pass, 0 fail.", "job", "check")
	m.checkTime = gauge("atrest_check_timestamp_seconds",
		"When the verdict in atrest_check_status was journaled (Unix seconds).", "job", "check")
	m.lastOutcome = gauge("atrest_last_run_outcome",
		"1 for the outcome of the job's newest run (skipped runs aside): ok, findings, fail, error, cancelled.", "kind", "job", "outcome")
	m.lastRunTime = gauge("atrest_last_run_timestamp_seconds",
		"When the job's newest run (skipped runs aside) was journaled (Unix seconds).", "kind", "job")
	m.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "atrest_config_last_reload_successful",
		Help: "Whether the last configuration load (serve start or SIGHUP reload) succeeded: 1 yes, 0 refused."})
	m.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "atrest_config_last_reload_timestamp_seconds",
		Help: "When the last configuration load was journaled (Unix seconds)."})
	m.reg.MustRegister(m.reloadOK, m.reloadTime)
	m.drillLast = gauge("atrest_drill_last_success_timestamp_seconds",
		"When the drill's newest successful restore was journaled (Unix seconds).", "job")
	m.drillRTO = gauge("atrest_drill_rto_seconds",
		"Restore time of the drill's newest successful run.", "job")
	m.drillRPO = gauge("atrest_drill_rpo_seconds",
		"Age of the backup the drill's newest run restored, at its start.", "job")
	m.drillRTOTarget = gauge("atrest_drill_rto_target_seconds",
		"The drill's RTO target (drills[].rto), as its newest run with one had it.", "job")
	m.drillRTOMet = gauge("atrest_drill_rto_met",
		"Whether the drill's newest judged run met its RTO target: 1 met, 0 missed.", "job")
	m.drillRPOTarget = gauge("atrest_drill_rpo_target_seconds",
		"The drill's RPO target (drills[].rpo), as its newest run with one had it.", "job")
	m.drillRPOMet = gauge("atrest_drill_rpo_met",
		"Whether the backup the drill's newest judged run restored was within its RPO target: 1 met, 0 missed.", "job")
	m.plainColumns = gauge("atrest_plaintext_columns",
		"Columns holding identifiers in plaintext at the source's latest completed scan.", "source")
	m.plainFindings = gauge("atrest_plaintext_findings",
		"Plaintext identifiers found at the file root's latest completed scan.", "root")
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atrest_runs_total",
		Help: "Journaled runs (scheduled or from the CLI) by kind and outcome."}, []string{"kind", "outcome"})
	m.reg.MustRegister(m.runs)
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "atrest_journal_entries_total",
		Help: "Entries in the journal (its highest sequence number)."},
		func() float64 { return float64(m.entries.Load()) }))
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// apply folds one journal entry into the metrics. Entries must come in
// journal order.
func (m *metrics) apply(e journal.Entry) {
	if int64(e.Seq) > m.entries.Load() {
		m.entries.Store(int64(e.Seq))
	}
	when := float64(e.Time.UnixNano()) / 1e9
	switch e.Kind {
	case "serve.start", "config.reload":
		ok := 0.0
		if e.Outcome == "ok" {
			ok = 1
		}
		m.reloadOK.Set(ok)
		m.reloadTime.Set(when)
	}
	if !runKinds[e.Kind] {
		return
	}
	m.runs.WithLabelValues(e.Kind, e.Outcome).Inc()
	if e.Outcome != "skipped" {
		m.lastOutcome.DeletePartialMatch(prometheus.Labels{"kind": e.Kind, "job": e.Subject})
		m.lastOutcome.WithLabelValues(e.Kind, e.Subject, e.Outcome).Set(1)
		m.lastRunTime.WithLabelValues(e.Kind, e.Subject).Set(when)
	}
	switch e.Kind {
	case KindBackupRun:
		if e.Outcome == "ok" {
			m.backupLast.WithLabelValues(e.Subject).Set(when)
		}
	case KindBackupCheck:
		checks, _ := e.Figures["checks"].(map[string]any)
		for name, v := range checks {
			if f, ok := journal.Number(v); ok {
				m.checkStatus.WithLabelValues(e.Subject, name).Set(f)
				m.checkTime.WithLabelValues(e.Subject, name).Set(when)
			}
		}
		unjudged, _ := e.Figures["checks_unjudged"].(map[string]any)
		for name := range unjudged {
			if _, judged := checks[name]; !judged {
				m.checkStatus.DeleteLabelValues(e.Subject, name)
				m.checkTime.DeleteLabelValues(e.Subject, name)
			}
		}
	case KindDrillRun:
		if e.Outcome == "ok" || e.Outcome == "pass" {
			m.drillLast.WithLabelValues(e.Subject).Set(when)
			if rto, ok := journal.Number(e.Figures["rto_seconds"]); ok {
				m.drillRTO.WithLabelValues(e.Subject).Set(rto)
			}
		}
		if e.Outcome == "ok" || e.Outcome == "pass" || e.Outcome == "fail" {
			if rpo, ok := journal.Number(e.Figures["rpo_seconds"]); ok {
				m.drillRPO.WithLabelValues(e.Subject).Set(rpo)
			}
			target(m.drillRTOTarget, m.drillRTOMet, e, "rto")
			target(m.drillRPOTarget, m.drillRPOMet, e, "rpo")
		}
	case KindScanDB:
		if n, ok := journal.Number(e.Figures["plaintext_columns"]); ok && completed(e.Outcome) {
			m.plainColumns.WithLabelValues(e.Subject).Set(n)
		}
	case KindScanFiles:
		if n, ok := journal.Number(e.Figures["findings"]); ok && completed(e.Outcome) {
			m.plainFindings.WithLabelValues(e.Subject).Set(n)
		}
	}
}

// target follows a drill's target and whether it was met (figures
// <what>_target_seconds and <what>_met): a run that judged nothing leaves
// the last verdict, as a check that did not measure a check does.
func target(targetG, metG *prometheus.GaugeVec, e journal.Entry, what string) {
	if t, ok := journal.Number(e.Figures[what+"_target_seconds"]); ok {
		targetG.WithLabelValues(e.Subject).Set(t)
	}
	if met, ok := e.Figures[what+"_met"].(bool); ok {
		v := 0.0
		if met {
			v = 1
		}
		metG.WithLabelValues(e.Subject).Set(v)
	}
}

// completed reports whether a scan ran to its end: the counts of a scan that
// stopped on an error are a lower bound and would hide a plaintext column.
func completed(outcome string) bool { return outcome == "ok" || outcome == "findings" }
