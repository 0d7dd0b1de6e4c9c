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
//	    record per object) is 0 if any record failed. Checks that only warned or
//	    are unsupported are left out. Each backup.check entry with a checks map
//	    replaces the job's series; one without (could not check at all) leaves
//	    the last known verdicts, and its outcome shows in atrest_runs_total.
//	atrest_drill_last_success_timestamp_seconds{job}   drill.run, outcome ok or pass: entry time
//	atrest_drill_rto_seconds{job}                      the same entries: figures.rto_seconds
//	atrest_plaintext_columns{source}                   scan.db, outcome ok or findings: figures.plaintext_columns
//	atrest_plaintext_findings{root}                    scan.files, outcome ok or findings: figures.findings
//	atrest_journal_entries_total                       the highest sequence number read
//	atrest_runs_total{kind,outcome}                    every entry of the five run kinds
//
// The job, source and root labels are the entries' subjects: config names
// for scheduled runs. Entry times are append times, that is when a run ended.
type metrics struct {
	reg *prometheus.Registry

	backupLast, drillLast, drillRTO *prometheus.GaugeVec
	checkStatus                     *prometheus.GaugeVec
	plainColumns, plainFindings     *prometheus.GaugeVec
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
		"Verdict of the job's latest backup check, per check: 1 pass, 0 fail.", "job", "check")
	m.drillLast = gauge("atrest_drill_last_success_timestamp_seconds",
		"When the drill's newest successful restore was journaled (Unix seconds).", "job")
	m.drillRTO = gauge("atrest_drill_rto_seconds",
		"Restore time of the drill's newest successful run.", "job")
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
	if !runKinds[e.Kind] {
		return
	}
	m.runs.WithLabelValues(e.Kind, e.Outcome).Inc()
	when := float64(e.Time.UnixNano()) / 1e9
	switch e.Kind {
	case KindBackupRun:
		if e.Outcome == "ok" {
			m.backupLast.WithLabelValues(e.Subject).Set(when)
		}
	case KindBackupCheck:
		checks, ok := e.Figures["checks"].(map[string]any)
		if !ok {
			return
		}
		m.checkStatus.DeletePartialMatch(prometheus.Labels{"job": e.Subject})
		for name, v := range checks {
			if f, ok := journal.Number(v); ok {
				m.checkStatus.WithLabelValues(e.Subject, name).Set(f)
			}
		}
	case KindDrillRun:
		if e.Outcome == "ok" || e.Outcome == "pass" {
			m.drillLast.WithLabelValues(e.Subject).Set(when)
			if rto, ok := journal.Number(e.Figures["rto_seconds"]); ok {
				m.drillRTO.WithLabelValues(e.Subject).Set(rto)
			}
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

// completed reports whether a scan ran to its end: the counts of a scan that
// stopped on an error are a lower bound and would hide a plaintext column.
func completed(outcome string) bool { return outcome == "ok" || outcome == "findings" }
