package report

// Rules about the record itself: the journal, its retention and anchor,
// reviews of it, the reports made from it, and the cryptography behind it.

import (
	"fmt"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// --- MLPS-8.1.4.3: the journal itself ---

func ruleAuditTrail(p *period) outcome {
	js := p.in.Verify
	var o outcome
	if bad := verifyFailure(p); bad != nil {
		return *bad
	}
	if p.in.VerifyErr != nil {
		return outcome{verdict: NoEvidence,
			reason: para(tf("日志校验未能完成：%s", "The journal could not be verified: %s", p.in.VerifyErr.Error()))}
	}
	o.evidence = append(o.evidence, verifyFact(p))
	if p.total == 0 {
		o.verdict = NoEvidence
		o.reason = para(tf("日志共 %d 条，校验通过，但本期间内没有任何记录", "The journal's %d entries verify, but none is dated in the period", js.Entries))
		return o
	}
	lead := tf("日志共 %d 条（本期间 %d 条，第 %d–%d 条），逐条哈希、链接和已签名检查点均校验通过",
		"All %d entries of the journal (%d in the period, %d–%d) verify: every hash, link and signed checkpoint",
		js.Entries, p.total, p.firstSeq, p.lastSeq)
	var notes []Text
	switch {
	case p.cfg.Anchor != nil && js.Anchored != nil:
		o.verdict = Met
		notes = append(notes, tf("锚定副本（%s/%s）中最新的检查点覆盖 %d 条，与本地一致", "The newest checkpoint copied to the anchor (%s/%s) covers %d entries and matches the local ones",
			p.cfg.Anchor.Storage, p.cfg.Anchor.Bucket, js.Anchored.Size))
		o.evidence = append(o.evidence, fact(fmt.Sprintf("journal.anchor %s/%s", p.cfg.Anchor.Storage, p.cfg.Anchor.Bucket),
			Text{"检查点副本存于对象存储", "checkpoint copies kept in object storage"}))
	case p.cfg.Anchor != nil:
		o.verdict = PartlyMet
		notes = append(notes, tf("已配置锚定（%s/%s），但校验时没有可核对的锚定检查点", "An anchor is configured (%s/%s) but verification found no anchored checkpoint to hold the entries against",
			p.cfg.Anchor.Storage, p.cfg.Anchor.Bucket))
	default:
		o.verdict = PartlyMet
		notes = append(notes, Text{"未配置锚定：若有人连同检查点一起截去日志尾部，本机校验无法发现",
			"No anchor is configured: a tail cut together with its checkpoints would not show"})
	}
	if n := js.Unsigned(); n > 0 {
		notes = append(notes, tf("最新检查点之后有 %d 条已链接但尚未签名", "%d entries after the newest checkpoint are chained but not yet signed", n))
	}
	starts, stops, unclean := 0, 0, 0
	lastStart := false
	for _, e := range p.ops {
		switch e.Kind {
		case "serve.start":
			starts++
			if lastStart {
				unclean++
			}
			lastStart = true
		case "serve.stop":
			stops++
			lastStart = false
		case "journal.recover":
			notes = append(notes, tf("第 %d 条记录了一次日志恢复（被截断的片段已保留为证据）：%s",
				"Entry %d records a journal recovery (the torn fragment is kept as evidence): %s", e.Seq, clip(e.Detail, 120)))
		}
		o.evidence = append(o.evidence, ev(e, Text{"审计进程的启动、停止、重载或恢复", "the audit process started, stopped, reloaded or recovered"}))
	}
	if starts+stops > 0 {
		notes = append(notes, tf("守护进程启动 %d 次、正常停止 %d 次均已记录", "The daemon's %d starts and %d clean stops are journaled", starts, stops))
	}
	if unclean > 0 {
		notes = append(notes, tf("其中 %d 次启动之前没有停止记录（进程被强行终止或崩溃），中断本身留有痕迹",
			"%d starts follow no stop (the process was killed or crashed): the interruption itself left a trace", unclean))
	}
	o.reason = para(append([]Text{lead}, notes...)...)
	return o
}

// verifyFailure is the not-met answer for a journal that fails verification.
func verifyFailure(p *period) *outcome {
	js := journalStatus(p.in, p)
	b := js.FirstBad
	if b == nil {
		return nil
	}
	o := outcome{verdict: NotMet,
		reason: para(tf("日志校验失败：第 %d 条（%s:%d）%s——%s。此后的记录不能作为证据",
			"The journal fails verification at entry %d (%s:%d), %s: %s. Entries from there on cannot serve as evidence",
			b.Seq, b.File, b.Line, b.Kind, b.Reason))}
	if e, ok := p.bySeq[b.Seq]; ok {
		o.evidence = append(o.evidence, ev(e, Text{"校验失败的第一条", "the first entry that fails verification"}))
	} else {
		o.evidence = append(o.evidence, fact(fmt.Sprintf("audit verify: first bad entry %d (%s:%d)", b.Seq, b.File, b.Line),
			Text{"校验失败的第一条", "the first entry that fails verification"}))
	}
	return &o
}

func verifyFact(p *period) Evidence {
	js := p.in.Verify
	s := fmt.Sprintf("audit verify: %d entries", js.Entries)
	if c := js.NewestCheckpoint; c != nil {
		s += fmt.Sprintf(", newest checkpoint %d signed %s", c.Size, p.when(c.Time))
	}
	return fact(s, Text{"整个日志的校验结果", "verification of the whole journal"})
}

// --- MLPS-8.1.5.2: reviews ---

// ruleReview: a journaled review that covers the whole period and was an
// authenticated act of an audit administrator (figures.authenticated and
// figures.auditor: made on the dashboard by a logged-in auditor, or by
// `atrest audit review --as` with the auditor's password) meets the
// control. A review of part of the period, or one not so made (root
// naming a user without a password, as atrest allowed before), meets it
// partly: it shows a review, not who made it.
func ruleReview(p *period) outcome {
	var full, part []journal.Entry
	for _, e := range p.reviews {
		q, err := ParsePeriod(e.Subject, p.in.Period.From.Location())
		if err != nil {
			continue
		}
		switch {
		case q.covers(p.in.Period):
			full = append(full, e)
		case q.overlaps(p.in.Period):
			part = append(part, e)
		}
	}
	var evs []Evidence
	for _, e := range append(append([]journal.Entry(nil), full...), part...) {
		role := Text{"已鉴别的审计管理员", "authenticated auditor"}
		if !authenticatedReview(e) {
			role = Text{"未经鉴别，不计入", "not authenticated, not counted"}
		}
		evs = append(evs, ev(e, Text{fmt.Sprintf("%s（%s）的审阅：%s", actorName(e.Actor), role.ZH, clip(e.Detail, 80)),
			fmt.Sprintf("review by %s (%s): %s", actorName(e.Actor), role.EN, clip(e.Detail, 80))}))
	}
	if e, ok := latest(full, authenticatedReview); ok {
		return outcome{verdict: Met, evidence: evs, reason: para(tf("有 %d 次记入日志的审阅覆盖本期间，最近一次由已鉴别的审计管理员 %s 于 %s 完成（第 %d 条）",
			"%d journaled reviews cover the period, the latest by the authenticated auditor %s on %s (entry %d)", len(full), actorName(e.Actor), p.when(e.Time), e.Seq))}
	}
	switch {
	case len(full) > 0:
		e := full[len(full)-1]
		return outcome{verdict: PartlyMet, evidence: evs, reason: para(tf("%s 于 %s 记录了对本期间的审阅（第 %d 条），但不是经鉴别的审计管理员所为（没有审计员的密码或登录）：审计员应在仪表盘或用 atrest audit review --as 并输入密码记录审阅",
			"%s recorded a review of the period on %s (entry %d), but not as an authenticated audit administrator (no auditor's password or login): the auditor should record it on the dashboard, or with atrest audit review --as and their password",
			actorName(e.Actor), p.when(e.Time), e.Seq))}
	case len(part) > 0:
		return outcome{verdict: PartlyMet, evidence: evs, reason: para(tf("有 %d 次审阅只覆盖了本期间的一部分，没有覆盖整个期间的审阅",
			"%d reviews cover part of the period; none covers all of it", len(part)))}
	}
	return outcome{verdict: NotMet, reason: para(Text{"没有记入日志的本期间审阅：审计管理员应审阅记录，并在仪表盘的“审计”页或用 atrest audit review 记录",
		"No journaled review of the period: an audit administrator should review the records and record it on the dashboard's audit page or with atrest audit review"})}
}

// authenticatedReview: the review was made by an auditor who proved it
// (figures.authenticated, written since reviews needed a password).
func authenticatedReview(e journal.Entry) bool {
	return flag(e, "auditor") && flag(e, "authenticated")
}

// --- MLPS-8.1.5.4d: retention and the anchor ---

func ruleLogRetention(p *period) outcome {
	ret := p.cfg.JournalRetention
	retFact := fact("journal.retention "+ret.String(), Text{"日志保留期", "journal retention"})
	if p.cfg.Anchor == nil {
		return outcome{verdict: NotMet, evidence: []Evidence{retFact}, reason: para(Text{"未配置锚定：日志只保存在本机，没有集中留存的副本",
			"No anchor is configured: the journal is kept on this host only, with no copy collected elsewhere"})}
	}
	a := p.cfg.Anchor
	evs := []Evidence{fact(fmt.Sprintf("journal.anchor %s/%s", a.Storage, a.Bucket), Text{"检查点副本的集中存放位置", "where checkpoint copies are collected"}), retFact}
	if ret < minRetention {
		return outcome{verdict: NotMet, evidence: evs, reason: para(tf("日志保留期 %s 短于法定的六个月", "Journal retention %s is shorter than the six months the law requires", ret))}
	}
	lead := tf("已配置锚定（%s/%s），日志保留期 %s，不少于六个月", "An anchor is configured (%s/%s) and the journal is kept %s, at least six months",
		a.Storage, a.Bucket, ret)
	// The anchor's bucket is checked against journal.retention (anchor.check,
	// by backup check and daily by serve); a backup job in the same bucket
	// says whether rules there expire objects early too.
	var lc []Text
	checked := false
	if e, ok := latest(p.anchor, func(e journal.Entry) bool { _, ok := checkVerdict(e, "lifecycle"); return ok }); ok {
		checked = true
		if pass, _ := checkVerdict(e, "lifecycle"); !pass {
			return outcome{verdict: NotMet, evidence: append([]Evidence{ev(e, Text{"锚定存储桶的生命周期规则会在保留期前删除检查点副本", "a lifecycle rule of the anchor bucket expires checkpoint copies before journal.retention"})}, evs...),
				reason: para(lead, tf("但锚定存储桶的生命周期规则会在日志保留期满前删除检查点副本（第 %d 条）",
					"but a lifecycle rule of the anchor's bucket expires checkpoint copies before the journal's retention is over (entry %d)", e.Seq))}
		}
		evs = append(evs, ev(e, Text{"锚定存储桶的生命周期规则未缩短日志保留期", "the anchor bucket's lifecycle rules do not undercut journal.retention"}))
		lc = append(lc, tf("锚定存储桶的生命周期检查通过（第 %d 条）", "the anchor bucket's lifecycle check passed (entry %d)", e.Seq))
	} else if e, ok := latest(p.anchor, func(e journal.Entry) bool {
		m, _ := e.Figures["checks_unsupported"].(map[string]any)
		return m["lifecycle"] != nil
	}); ok {
		checked = true
		evs = append(evs, ev(e, Text{"存储服务不支持生命周期配置（unsupported）", "the storage server does not implement lifecycle configuration (unsupported)"}))
		lc = append(lc, tf("锚定存储桶所在的存储服务不支持生命周期配置（第 %d 条，unsupported）：无法由 atrest 核对，需另行确认没有提前过期的机制",
			"the anchor bucket's server does not implement lifecycle configuration (entry %d, unsupported): atrest cannot read its rules; confirm separately that nothing expires the copies early", e.Seq))
	}
	for _, job := range p.cfg.Backups {
		if job.Storage != a.Storage || job.Bucket != a.Bucket {
			continue
		}
		e, ok := latest(p.checks[job.Name], func(e journal.Entry) bool { _, ok := checkVerdict(e, "lifecycle"); return ok })
		if !ok {
			continue
		}
		checked = true
		if pass, _ := checkVerdict(e, "lifecycle"); !pass {
			return outcome{verdict: NotMet, evidence: append([]Evidence{ev(e, Text{"存储桶生命周期规则会提前删除对象", "a lifecycle rule of the bucket expires objects early"})}, evs...),
				reason: para(lead, tf("但锚定所在存储桶的生命周期规则会提前删除对象（作业 %s 的检查，第 %d 条）",
					"but a lifecycle rule of the anchor's bucket expires objects early (job %s's check, entry %d)", job.Name, e.Seq))}
		}
		evs = append(evs, ev(e, Text{"存储桶生命周期规则未缩短保留期", "the bucket's lifecycle rules do not undercut retention"}))
		lc = append(lc, tf("锚定所在存储桶的生命周期检查通过（作业 %s，第 %d 条）", "the anchor bucket's lifecycle check passed (job %s, entry %d)", job.Name, e.Seq))
	}
	if !checked {
		lc = append(lc, Text{"本期间没有针对锚定存储桶的生命周期检查结果（不带 --job 的 backup check 与 serve 每日检查它），需另行确认没有提前过期的规则",
			"No lifecycle verdict for the anchor's bucket in the period (backup check without --job, and serve daily, check it): confirm separately that no rule expires it early"})
	}
	if p.in.Verify.Anchored == nil {
		return outcome{verdict: PartlyMet, evidence: evs, reason: para(append([]Text{lead, Text{"但校验时锚定中没有可核对的检查点副本",
			"but verification found no checkpoint copy in the anchor"}}, lc...)...)}
	}
	return outcome{verdict: Met, evidence: evs, reason: para(append([]Text{lead,
		tf("锚定中最新的检查点副本覆盖 %d 条", "the newest checkpoint copy in the anchor covers %d entries", p.in.Verify.Anchored.Size)}, lc...)...)}
}

// minRetention is six months: config.MinLogRetention, repeated here so the
// report does not import the config package.
const minRetention = Duration(180 * 24 * time.Hour)

// pciRetention is PCI DSS 10.5.1's twelve months.
const pciRetention = Duration(365 * 24 * time.Hour)

// --- PCI 10.5.1: twelve months ---

func rulePCILogRetention(p *period) outcome {
	ret := p.cfg.JournalRetention
	f := fact("journal.retention "+ret.String(), Text{"日志保留期", "journal retention"})
	if ret < pciRetention {
		return outcome{verdict: NotMet, evidence: []Evidence{f}, reason: para(tf("日志保留期 %s 短于 PCI DSS 10.5.1 要求的 12 个月", "Journal retention %s is shorter than the 12 months PCI DSS 10.5.1 asks", ret))}
	}
	return outcome{verdict: Met, evidence: []Evidence{f}, reason: para(tf("日志保留期 %s，不少于 12 个月", "Journal retention %s, at least 12 months", ret))}
}

// --- PIPL-54: the reports themselves ---

func ruleComplianceAudit(p *period) outcome {
	var same, other []journal.Entry
	for _, e := range p.reports {
		if e.Subject == p.in.Period.Label {
			same = append(same, e)
		} else {
			other = append(other, e)
		}
	}
	var evs []Evidence
	for i := len(same) - 1; i >= 0 && len(evs) < 3; i-- {
		evs = append(evs, ev(same[i], Text{"本期间此前生成的报告", "an earlier report of this period"}))
	}
	for i := len(other) - 1; i >= 0 && len(evs) < 6; i-- {
		evs = append(evs, ev(other[i], tf("期间 %s 的报告", "report of period %s", other[i].Subject)))
	}
	earlier := tf("日志中另有 %d 份其他期间的报告", "The journal holds %d reports of other periods", len(other))
	if len(other) > 0 {
		e := other[len(other)-1]
		earlier = tf("日志中另有 %d 份其他期间的报告，最近一份为 %s（第 %d 条）", "The journal holds %d reports of other periods, the latest for %s (entry %d)", len(other), e.Subject, e.Seq)
	}
	switch {
	case p.in.Journaled:
		return outcome{verdict: Met, evidence: evs, reason: para(Text{"本报告即为本期间的合规审计报告，其生成已记入日志（类型 report）",
			"This report is the period's compliance audit; its generation is journaled (kind report)"}, earlier)}
	case len(same) > 0:
		e := same[len(same)-1]
		return outcome{verdict: Met, evidence: evs, reason: para(tf("本期间的报告已于 %s 生成并记入日志（第 %d 条）", "A report of this period was generated on %s and journaled (entry %d)", p.when(e.Time), e.Seq), earlier)}
	}
	return outcome{verdict: NotMet, evidence: evs, reason: para(Text{"日志中没有本期间的报告", "The journal holds no report of this period"}, earlier)}
}
