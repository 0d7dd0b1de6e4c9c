package report

// Rules about backups and restore drills.

import (
	"fmt"
	"strings"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/chart"
)

// --- MLPS-8.1.4.7: integrity of backups and of the journal ---

// integrityChecks are the backup checks that judge the stored bytes.
var integrityChecks = []string{"manifest", "object", "integrity"}

func ruleIntegrity(p *period) outcome {
	if bad := verifyFailure(p); bad != nil {
		return *bad
	}
	if len(p.cfg.Backups) == 0 {
		return outcome{verdict: NoEvidence, reason: para(Text{"未配置备份作业，没有备份完整性的证据", "No backup job is configured: there is no evidence about the integrity of backups"})}
	}
	var t tally
	for _, job := range p.cfg.Backups {
		checks := p.checks[job.Name]
		drills := p.drillsOf(job.Name)
		if e, ok := latest(checks, func(e journal.Entry) bool { return anyCheck(e, integrityChecks) }); ok {
			if failed := failedChecks(e, integrityChecks); len(failed) > 0 {
				t.fail(job.Name, tf("作业 %s 最近一次检查（第 %d 条）中 %s 未通过：存储的字节与签名清单不符",
					"Job %s's latest check (entry %d) failed %s: the stored bytes are not the ones the manifest signed",
					job.Name, e.Seq, strings.Join(failed, ", ")),
					ev(e, tf("备份完整性检查未通过：%s", "backup integrity check failed: %s", strings.Join(failed, ", "))))
				continue
			}
		}
		if d, ok := latestDrillVerdict(drills); ok && d.e.Outcome == "fail" && failureClass(d.e) == "integrity" {
			t.fail(job.Name, tf("作业 %s 最近一次恢复演练（第 %d 条）发现完整性故障：%s", "Job %s's latest drill (entry %d) found an integrity failure: %s",
				job.Name, d.e.Seq, clip(d.e.Detail, 160)),
				ev(d.e, Text{"恢复演练发现完整性故障", "drill found an integrity failure"}))
			continue
		}
		read, hasRead := latest(checks, func(e journal.Entry) bool { pass, ok := checkVerdict(e, "integrity"); return ok && pass })
		digest, hasDigest := latestDrill(drills, func(e journal.Entry) bool {
			return e.Outcome == "ok" && flag(e, "digests_verified") && count(e, "tables") > 0 && count(e, "tables_matched") == count(e, "tables")
		})
		var evs []Evidence
		if hasRead {
			evs = append(evs, ev(read, Text{"读回校验通过（check --read）", "read back and verified (check --read)"}))
		}
		if hasDigest {
			evs = append(evs, ev(digest.e, tf("恢复演练：%d 张表摘要全部一致", "drill: all %d table digests match", count(digest.e, "tables"))))
		}
		switch {
		case hasRead && hasDigest:
			t.ok(job.Name, Text{}, evs...)
		case len(checks) == 0 && len(drills) == 0:
			t.lack(job.Name, tf("作业 %s 在本期间没有检查和演练记录", "Job %s has no check and no drill in the period", job.Name))
		case !hasRead && !hasDigest:
			t.lack(job.Name, tf("作业 %s 本期间既没有读回校验通过的检查（check --read），也没有摘要全部一致的演练",
				"Job %s has neither a check that read the backup back (check --read) nor a drill with every digest matching", job.Name), evs...)
		case !hasRead:
			t.lack(job.Name, tf("作业 %s 本期间没有读回校验通过的检查（check --read）", "Job %s has no check that read the backup back (check --read) in the period", job.Name), evs...)
		default:
			t.lack(job.Name, tf("作业 %s 本期间没有摘要全部一致的恢复演练", "Job %s has no drill with every table digest matching in the period", job.Name), evs...)
		}
	}
	lead := tf("%d 个备份作业中，%d 个有读回校验和摘要一致的演练", "Of %d backup jobs, %d have a verified read-back and a drill with matching digests",
		len(p.cfg.Backups), len(t.good))
	o := t.outcome(lead)
	if p.in.VerifyErr == nil {
		o.reason = para(o.reason, Text{"日志哈希链校验通过（审计数据的完整性）", "The journal's hash chain verifies (integrity of the audit data)"})
		o.evidence = append(o.evidence, verifyFact(p))
	}
	return o
}

func anyCheck(e journal.Entry, names []string) bool {
	for _, n := range names {
		if _, ok := checkVerdict(e, n); ok {
			return true
		}
	}
	return false
}

func failedChecks(e journal.Entry, names []string) []string {
	var out []string
	for _, n := range names {
		if pass, ok := checkVerdict(e, n); ok && !pass {
			out = append(out, n)
		}
	}
	return out
}

// latestDrillVerdict is the newest drill that ran to a verdict (ok or
// fail): a drill that could not run (error) says nothing about the backup.
func latestDrillVerdict(ds []drillRun) (drillRun, bool) {
	return latestDrill(ds, func(e journal.Entry) bool { return e.Outcome == "ok" || e.Outcome == "fail" })
}

func latestDrill(ds []drillRun, ok func(journal.Entry) bool) (drillRun, bool) {
	for i := len(ds) - 1; i >= 0; i-- {
		if ok(ds[i].e) {
			return ds[i], true
		}
	}
	return drillRun{}, false
}

// --- MLPS-8.1.4.9a: backups fresh, drills pass ---

func ruleBackupRestore(p *period) outcome {
	if len(p.cfg.Backups) == 0 {
		return outcome{verdict: NotMet, reason: para(Text{"未配置备份作业", "No backup job is configured"})}
	}
	var t tally
	for _, job := range p.cfg.Backups {
		judgeBackupRestore(p, &t, job, true)
	}
	lead := tf("%d 个备份作业中，%d 个每次检查均在 RPO 之内且有通过的恢复演练", "Of %d backup jobs, %d were fresh at every check and have a passing drill",
		len(p.cfg.Backups), len(t.good))
	return t.outcome(lead)
}

// judgeBackupRestore answers one job: a failed drill with no later pass is
// not met and cites that drill; a check that found the newest backup older
// than the RPO is not met; a passing drill and fresh checks are met. With
// fresh false only the drills count (PCI 12.10.1).
func judgeBackupRestore(p *period, t *tally, job BackupJob, fresh bool) {
	checks := p.checks[job.Name]
	drills := p.drillsOf(job.Name)
	var stale, freshChecks []journal.Entry
	for _, e := range checks {
		if pass, ok := checkVerdict(e, "freshness"); ok {
			if pass {
				freshChecks = append(freshChecks, e)
			} else {
				stale = append(stale, e)
			}
		}
	}
	var failedAfterPass []drillRun
	var lastPass *drillRun
	errs := 0
	for i, d := range drills {
		switch d.e.Outcome {
		case "ok":
			lastPass, failedAfterPass = &drills[i], nil
		case "fail":
			failedAfterPass = append(failedAfterPass, d)
		default:
			errs++
		}
	}
	if !fresh {
		stale, freshChecks = nil, nil
	}
	var bad []Text
	var badEv []Evidence
	if len(failedAfterPass) > 0 {
		first := failedAfterPass[0].e
		what := tf("作业 %s 的恢复演练在第 %d 条（%s）失败（%s），此后没有通过的演练",
			"Job %s's restore drill failed at entry %d (%s, %s) and no drill passed after it",
			job.Name, first.Seq, p.when(first.Time), failText(first))
		if lastPass != nil {
			what = tf("作业 %s 在第 %d 条演练通过后，第 %d 条（%s）演练失败（%s），此后没有通过的演练",
				"Job %s's drill passed at entry %d, then failed at entry %d (%s, %s), and no drill passed after it",
				job.Name, lastPass.e.Seq, first.Seq, p.when(first.Time), failText(first))
		}
		bad = append(bad, what)
		for _, d := range failedAfterPass {
			badEv = append(badEv, ev(d.e, tf("恢复演练失败：%s", "restore drill failed: %s", failText(d.e))))
		}
	}
	if len(stale) > 0 {
		e := stale[0]
		bad = append(bad, Text{
			fmt.Sprintf("作业 %s 有 %d 次检查发现最新备份超出 RPO %s，首次在第 %d 条（%s）", job.Name, len(stale), job.RPO, e.Seq, p.when(e.Time)),
			fmt.Sprintf("Job %s's newest backup was older than its RPO of %s at %d checks, first at entry %d (%s)", job.Name, job.RPO, len(stale), e.Seq, p.when(e.Time)),
		})
		for _, s := range stale {
			badEv = append(badEv, ev(s, tf("最新备份超出 RPO %s", "newest backup older than the RPO of %s", job.RPO)))
		}
	}
	if len(bad) > 0 {
		t.bad = append(t.bad, job.Name)
		t.badNotes = append(t.badNotes, bad...)
		t.badEv = append(t.badEv, badEv...)
		return
	}
	// The drill that answers: the newest passing drill of every table
	// (a subset drill is partial evidence), and it must have met its RTO
	// and RPO targets where it had them.
	var evs []Evidence
	var short *Text
	if lastPass != nil {
		cite := *lastPass
		full, hasFull := latestDrill(drills, func(e journal.Entry) bool { return e.Outcome == "ok" && !flag(e, "subset") })
		if hasFull {
			cite = full
		}
		evs = append(evs, ev(cite.e, drillPassText(cite.e)))
		switch missed := missedTargets(cite.e); {
		case !hasFull:
			e := lastPass.e
			w := tf("作业 %s 本期间通过的恢复演练只覆盖部分表（第 %d 条：%d 张表中 %d 张未演练），只是部分证据",
				"Job %s's passing drills in the period covered a subset of its tables (entry %d: %d of %d tables not drilled): partial evidence",
				job.Name, e.Seq, count(e, "tables_not_run"), count(e, "tables"))
			short = &w
		case len(missed) > 0:
			w := tf("作业 %s 最近一次通过的完整恢复演练（第 %d 条）恢复并校验成功，但未达到目标：%s",
				"Job %s's newest passing full drill (entry %d) restored and verified, but missed its targets: %s",
				job.Name, cite.e.Seq, strings.Join(missed, "; "))
			short = &w
		}
	}
	if n := len(freshChecks); n > 0 {
		evs = append(evs, ev(freshChecks[n-1], tf("最新备份在 RPO %s 之内（本期间 %d 次检查）", "newest backup within the RPO of %s (%d checks in the period)", job.RPO, n)))
	}
	switch {
	case lastPass != nil && short != nil:
		t.lack(job.Name, *short, evs...)
	case lastPass != nil && (len(freshChecks) > 0 || !fresh):
		t.ok(job.Name, coverageText(job.Name, p.coverage(job.Name)), evs...)
	case lastPass == nil && len(freshChecks) == 0 && len(drills) == 0:
		t.lack(job.Name, tf("作业 %s 本期间没有新鲜度检查，也没有恢复演练", "Job %s has no freshness check and no drill in the period", job.Name))
	case lastPass == nil:
		msg := tf("作业 %s 本期间没有通过的恢复演练", "Job %s has no passing restore drill in the period", job.Name)
		if errs > 0 {
			msg = tf("作业 %s 本期间没有通过的恢复演练（%d 次演练未能运行，不算结论）", "Job %s has no passing restore drill in the period (%d drills could not run, which is no verdict)", job.Name, errs)
		}
		t.lack(job.Name, msg, evs...)
	default:
		t.lack(job.Name, tf("作业 %s 本期间没有新鲜度检查（backup check）", "Job %s has no freshness check (backup check) in the period", job.Name), evs...)
	}
}

// drillPassText says a passed drill with its RTO and RPO and, where it had
// targets, whether it met them.
func drillPassText(e journal.Entry) Text {
	zh, en := "恢复演练通过", "restore drill passed"
	if rto, ok := num(e, "rto_seconds"); ok {
		zh += "，RTO " + chart.Seconds(rto)
		en += ", RTO " + chart.Seconds(rto)
		if t, ok := num(e, "rto_target_seconds"); ok {
			zh += fmt.Sprintf("（目标 %s：%s）", chart.Seconds(t), metZH(e, "rto_met"))
			en += fmt.Sprintf(" (target %s: %s)", chart.Seconds(t), metEN(e, "rto_met"))
		}
	}
	if t, ok := num(e, "rpo_target_seconds"); ok {
		if _, judged := e.Figures["rpo_met"].(bool); judged {
			rpo, _ := num(e, "rpo_seconds")
			zh += fmt.Sprintf("，RPO %s（目标 %s：%s）", chart.Seconds(rpo), chart.Seconds(t), metZH(e, "rpo_met"))
			en += fmt.Sprintf(", RPO %s (target %s: %s)", chart.Seconds(rpo), chart.Seconds(t), metEN(e, "rpo_met"))
		}
	}
	if flag(e, "subset") {
		zh += fmt.Sprintf("；只演练了部分表（%d 张未演练）", count(e, "tables_not_run"))
		en += fmt.Sprintf("; a subset of the tables (%d not drilled)", count(e, "tables_not_run"))
	}
	return Text{zh, en}
}

// missedTargets says the targets a drill.run entry missed, with the
// figures: rto_met or rpo_met false.
func missedTargets(e journal.Entry) []string {
	var out []string
	if met, ok := e.Figures["rto_met"].(bool); ok && !met {
		rto, _ := num(e, "rto_seconds")
		t, _ := num(e, "rto_target_seconds")
		out = append(out, fmt.Sprintf("RTO %s > %s", chart.Seconds(rto), chart.Seconds(t)))
	}
	if met, ok := e.Figures["rpo_met"].(bool); ok && !met {
		rpo, _ := num(e, "rpo_seconds")
		t, _ := num(e, "rpo_target_seconds")
		out = append(out, fmt.Sprintf("RPO %s > %s", chart.Seconds(rpo), chart.Seconds(t)))
	}
	return out
}

func metZH(e journal.Entry, key string) string {
	if flag(e, key) {
		return "达到"
	}
	return "未达到"
}

func metEN(e journal.Entry, key string) string {
	if flag(e, key) {
		return "met"
	}
	return "missed"
}

func failText(e journal.Entry) string {
	if c := failureClass(e); c != "" {
		return c
	}
	return e.Outcome
}

// --- MLPS-8.1.4.9b: off-site, periodic ---

func ruleOffsite(p *period) outcome {
	if len(p.cfg.Backups) == 0 {
		return outcome{verdict: NotMet, reason: para(Text{"未配置备份作业", "No backup job is configured"})}
	}
	var landed []string
	var evs []Evidence
	for _, job := range p.cfg.Backups {
		if e, ok := latest(p.runs[job.Name], func(e journal.Entry) bool { return e.Outcome == "ok" }); ok {
			landed = append(landed, job.Name)
			evs = append(evs, ev(e, tf("备份写入 %s/%s", "backup written to %s/%s", job.Storage, job.Bucket)))
			continue
		}
		if e, ok := latest(p.checks[job.Name], func(e journal.Entry) bool { pass, ok := checkVerdict(e, "freshness"); return ok && pass }); ok {
			landed = append(landed, job.Name)
			evs = append(evs, ev(e, tf("对象存储 %s/%s 中有 RPO 之内的备份", "a backup within the RPO is in %s/%s", job.Storage, job.Bucket)))
		}
	}
	periodic := Text{"atrest 的备份是按计划定期进行的，不是实时的：两次备份之间的数据变化没有异地副本，因此至多部分符合；实时异地备份需要数据库复制等其他措施",
		"atrest's backups are periodic (scheduled), not real time: changes between two backups have no off-site copy, so this is partly met at best; real-time off-site backup needs other means such as database replication"}
	if len(landed) == 0 {
		return outcome{verdict: NoEvidence, reason: para(Text{"本期间没有备份写入对象存储的记录", "No backup reached object storage in the period"}, periodic)}
	}
	return outcome{verdict: PartlyMet, evidence: evs, reason: para(
		tf("%d 个作业中 %d 个（%s）在本期间经网络把备份写入源主机之外的对象存储", "%d of %d jobs (%s) wrote backups over the network to object storage off the source host in the period",
			len(landed), len(p.cfg.Backups), names(landed)), periodic)}
}

// --- MLPS-8.1.4.9c ---

func ruleHotRedundancy(*period) outcome {
	return outcome{verdict: NoEvidence, reason: para(Text{"热冗余不在 atrest 的范围内：atrest 不运行也不观察数据处理系统的冗余，本项须以其他证据（集群、主备切换记录）说明",
		"Hot redundancy is out of atrest's scope: it neither runs nor observes redundancy of the processing systems; answer this control with other evidence (cluster, failover records)"})}
}

// --- MLPS-8.1.10.11: every source has a backup job ---

func ruleBackupPolicy(p *period) outcome {
	if len(p.cfg.Sources) == 0 {
		return outcome{verdict: NoEvidence, reason: para(Text{"未配置数据源", "No source is configured"})}
	}
	var covered, bare []string
	var evs []Evidence
	for _, s := range p.cfg.Sources {
		var jobs []BackupJob
		for _, b := range p.cfg.Backups {
			if b.Source == s.Name {
				jobs = append(jobs, b)
			}
		}
		if len(jobs) == 0 {
			bare = append(bare, s.Name)
			continue
		}
		covered = append(covered, s.Name)
		for _, b := range jobs {
			sched := b.Schedule
			if sched == "" {
				sched = "manual"
			}
			evs = append(evs, fact(fmt.Sprintf("backups[%s]: source %s, schedule %q, rpo %s, retention %s, storage %s/%s",
				b.Name, b.Source, sched, b.RPO, b.Retention, b.Storage, b.Bucket), Text{"备份作业的方式、频度、位置与保存期", "how, how often, where and how long"}))
		}
	}
	o := outcome{evidence: evs, reason: para(tf("%d 个数据源中 %d 个有备份作业（规定了计划、RPO、保留期和存储位置）；没有备份作业的：%s",
		"%d sources, %d with a backup job (schedule, RPO, retention and storage set); without one: %s",
		len(p.cfg.Sources), len(covered), names(bare)))}
	switch {
	case len(bare) == 0:
		o.verdict = Met
	case len(covered) == 0:
		o.verdict = NotMet
	default:
		o.verdict = PartlyMet
	}
	return o
}

// --- PCI 12.10.1: drills only ---

func ruleDrillsOnly(p *period) outcome {
	if len(p.cfg.Backups) == 0 {
		return outcome{verdict: NotMet, reason: para(Text{"未配置备份作业", "No backup job is configured"})}
	}
	var t tally
	for _, job := range p.cfg.Backups {
		judgeBackupRestore(p, &t, job, false)
	}
	return t.outcome(tf("%d 个备份作业中 %d 个在本期间有通过的恢复演练", "%d of %d backup jobs have a passing restore drill in the period",
		len(t.good), len(p.cfg.Backups)))
}
