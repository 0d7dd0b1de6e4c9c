package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

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

// --- MLPS-8.1.4.8 and PIPL-51: confidentiality ---

func ruleConfidentiality(p *period) outcome {
	var t tally
	p.scanItems(&t, func(e journal.Entry) map[string]int { return subCounts(e, "plaintext_by_type") },
		func(e journal.Entry) map[string]int { return subCounts(e, "by_type") })
	for _, job := range p.cfg.Backups {
		if e, ok := latest(p.checks[job.Name], func(e journal.Entry) bool { _, ok := checkVerdict(e, "encryption"); return ok }); ok {
			if pass, _ := checkVerdict(e, "encryption"); !pass {
				t.fail("backup "+job.Name, tf("作业 %s 的备份未见加密（第 %d 条）", "Job %s's backups show no encryption (entry %d)", job.Name, e.Seq),
					ev(e, Text{"备份加密检查未通过", "backup encryption check failed"}))
			} else {
				t.ok("backup "+job.Name, Text{}, ev(e, Text{"备份加密检查通过", "backup encryption check passed"}))
			}
			continue
		}
		if job.Format != "mysqldump" && job.Recipients > 0 {
			t.ok("backup "+job.Name, Text{}, fact(fmt.Sprintf("backups[%s]: age, %d recipients", job.Name, job.Recipients),
				Text{"atrest 的备份在离开主机前以 age 加密", "atrest's backups are age-encrypted before they leave the host"}))
			continue
		}
		t.lack("backup "+job.Name, tf("作业 %s（%s 格式）本期间没有加密检查", "Job %s (%s format) has no encryption check in the period", job.Name, job.Format))
	}
	if t.items() == 0 {
		return outcome{verdict: NoEvidence, reason: para(Text{"没有配置数据源、目录或备份作业，本期间也没有扫描", "No source, file root or backup job is configured and nothing was scanned in the period"})}
	}
	lead := tf("检查了 %d 项（数据源、目录、备份作业）：%d 项无明文，%d 项有明文或未加密，%d 项缺少证据",
		"%d items checked (sources, roots, backup jobs): %d clean, %d with plaintext or unencrypted, %d without evidence",
		t.items(), len(t.good), len(t.bad), len(t.partial)+len(t.nothing))
	return t.outcome(lead)
}

// scanItems judges every configured source and root, and every other
// scanned subject, by its newest completed scan in the period: dirty when
// dbTypes (for scan.db) or fileTypes (scan.files) of it count anything.
func (p *period) scanItems(t *tally, dbTypes, fileTypes func(journal.Entry) map[string]int) {
	seen := map[string]bool{}
	judge := func(kind, name string, scans []journal.Entry, types func(journal.Entry) map[string]int) {
		item := kind + " " + name
		e, ok := latest(scans, notError)
		if !ok {
			t.lack(item, Text{fmt.Sprintf("%s %s 本期间没有完成的扫描", kindZH(kind), name),
				fmt.Sprintf("%s %s has no completed scan in the period", capital(kind), name)})
			return
		}
		bad := types(e)
		total := 0
		for _, n := range bad {
			total += n
		}
		if total > 0 {
			t.fail(item, Text{fmt.Sprintf("%s %s 最近一次扫描（第 %d 条，%s）发现明文：%s", kindZH(kind), name, e.Seq, p.when(e.Time), typeCounts(bad)),
				fmt.Sprintf("%s %s's latest scan (entry %d, %s) found plaintext: %s", capital(kind), name, e.Seq, p.when(e.Time), typeCounts(bad))},
				ev(e, tf("明文：%s", "plaintext: %s", typeCounts(bad))))
			return
		}
		why := Text{"最近一次扫描无明文", "latest scan: no plaintext"}
		if earlier, ok := latest(scans, func(x journal.Entry) bool { return x.Seq < e.Seq && sum(types(x)) > 0 }); ok {
			t.ok(item, Text{fmt.Sprintf("%s %s 在第 %d 条曾有明文，第 %d 条扫描已无", kindZH(kind), name, earlier.Seq, e.Seq),
				fmt.Sprintf("%s %s had plaintext at entry %d and none at entry %d", capital(kind), name, earlier.Seq, e.Seq)}, ev(e, why), ev(earlier, Text{"此前的明文发现（已整改）", "earlier plaintext finding (since remediated)"}))
			return
		}
		t.ok(item, Text{}, ev(e, why))
	}
	for _, s := range p.cfg.Sources {
		seen[s.Name] = true
		judge("source", s.Name, p.dbScans[s.Name], dbTypes)
	}
	for _, subj := range sortedKeys(p.dbScans) {
		if !seen[subj] {
			if _, ok := latest(p.dbScans[subj], notError); ok {
				judge("source", subj, p.dbScans[subj], dbTypes)
			}
		}
	}
	seen = map[string]bool{}
	for _, r := range p.cfg.FileRoots {
		seen[r] = true
		judge("root", r, p.fileScansOf(r), fileTypes)
	}
	var other []string
	for _, e := range p.fileScans {
		if !seen[e.Subject] && !allConfigured(e.Subject, p.cfg.FileRoots) {
			seen[e.Subject] = true
			other = append(other, e.Subject)
		}
	}
	for _, subj := range other {
		var scans []journal.Entry
		for _, e := range p.fileScans {
			if e.Subject == subj {
				scans = append(scans, e)
			}
		}
		if _, ok := latest(scans, notError); ok {
			judge("root", subj, scans, fileTypes)
		}
	}
}

func allConfigured(subject string, roots []string) bool {
	for _, r := range rootsOf(subject) {
		found := false
		for _, c := range roots {
			if c == r {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func kindZH(kind string) string {
	switch kind {
	case "source":
		return "数据源"
	case "root":
		return "目录"
	}
	return kind
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func typeCounts(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// --- PIPL-28, PCI-3.5.1, GB/T 35273 6.3: sensitive types only ---

func only(types map[string]bool) func(journal.Entry, string) map[string]int {
	return func(e journal.Entry, key string) map[string]int {
		out := map[string]int{}
		for k, v := range subCounts(e, key) {
			if types[k] {
				out[k] = v
			}
		}
		return out
	}
}

func ruleSensitive(p *period) outcome {
	pick := only(sensitiveTypes)
	var t tally
	p.scanItems(&t, func(e journal.Entry) map[string]int { return pick(e, "plaintext_by_type") },
		func(e journal.Entry) map[string]int { return pick(e, "by_type") })
	if t.items() == 0 {
		return outcome{verdict: NoEvidence, reason: para(Text{"没有配置数据源或目录，本期间也没有扫描", "No source or file root is configured and nothing was scanned in the period"})}
	}
	lead := tf("敏感类型（身份证件号、银行卡号、护照、港澳台通行证）：%d 项无明文，%d 项有明文，%d 项缺少扫描",
		"Sensitive types (resident IDs, bank cards, passports, HK/MO/TW permits): %d items clean, %d with plaintext, %d not scanned",
		len(t.good), len(t.bad), len(t.partial)+len(t.nothing))
	return t.outcome(lead)
}

func rulePAN(p *period) outcome {
	pick := only(map[string]bool{"bank_card": true})
	var t tally
	p.scanItems(&t, func(e journal.Entry) map[string]int { return pick(e, "plaintext_by_type") },
		func(e journal.Entry) map[string]int { return pick(e, "by_type") })
	if t.items() == 0 {
		return outcome{verdict: NoEvidence, reason: para(Text{"没有配置数据源或目录，本期间也没有扫描", "No source or file root is configured and nothing was scanned in the period"})}
	}
	o := t.outcome(tf("银行卡号：%d 项无明文，%d 项有明文，%d 项缺少扫描", "Card numbers: %d items clean, %d with plaintext, %d not scanned",
		len(t.good), len(t.bad), len(t.partial)+len(t.nothing)))
	o.reason = para(o.reason, Text{"atrest 自身只保存掩码与带密钥的 HMAC-SHA-256 指纹，从不保存无密钥哈希",
		"atrest itself keeps only masks and keyed HMAC-SHA-256 fingerprints, never an unkeyed hash"})
	return o
}

func ruleTransportStorage(p *period) outcome {
	if len(p.cfg.Sources) == 0 {
		return outcome{verdict: NoEvidence, reason: para(Text{"未配置数据源", "No source is configured"})}
	}
	var t tally
	for _, s := range p.cfg.Sources {
		item := "tls " + s.Name
		f := fact(fmt.Sprintf("sources[%s]: tls %s", s.Name, s.TLS), Text{"数据源连接的 TLS 要求", "what the source's DSN asks of TLS"})
		switch s.TLS {
		case TLSVerified:
			t.ok(item, Text{}, f)
		case TLSOff, TLSPreferred:
			t.fail(item, tf("数据源 %s 的连接不要求 TLS（%s）", "Source %s's connection does not require TLS (%s)", s.Name, s.TLS), f)
		case TLSUnverified:
			t.lack(item, tf("数据源 %s 使用 TLS 但不校验服务器证书（skip-verify）", "Source %s uses TLS without verifying the server's certificate (skip-verify)", s.Name), f)
		default:
			t.lack(item, tf("数据源 %s 的 DSN 在此不可读，TLS 设置未知", "Source %s's DSN is not readable here: its TLS setting is unknown", s.Name), f)
		}
	}
	pick := only(sensitiveTypes)
	for _, s := range p.cfg.Sources {
		scans := p.dbScans[s.Name]
		e, ok := latest(scans, notError)
		if !ok {
			t.lack("scan "+s.Name, tf("数据源 %s 本期间没有完成的扫描", "Source %s has no completed scan in the period", s.Name))
			continue
		}
		if bad := pick(e, "plaintext_by_type"); sum(bad) > 0 {
			t.fail("scan "+s.Name, tf("数据源 %s 有明文敏感列（第 %d 条）：%s", "Source %s has plaintext sensitive columns (entry %d): %s", s.Name, e.Seq, typeCounts(bad)),
				ev(e, tf("明文敏感列：%s", "plaintext sensitive columns: %s", typeCounts(bad))))
			continue
		}
		t.ok("scan "+s.Name, Text{}, ev(e, Text{"无明文敏感列", "no plaintext sensitive column"}))
	}
	return t.outcome(tf("%d 个数据源：TLS 要求与明文敏感列", "%d sources: TLS required, and plaintext sensitive columns", len(p.cfg.Sources)))
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
	var evs []Evidence
	if lastPass != nil {
		why := Text{"恢复演练通过", "restore drill passed"}
		if rto, ok := num(lastPass.e, "rto_seconds"); ok {
			why = tf("恢复演练通过，RTO %.0f 秒", "restore drill passed, RTO %.0f s", rto)
		}
		evs = append(evs, ev(lastPass.e, why))
	}
	if n := len(freshChecks); n > 0 {
		evs = append(evs, ev(freshChecks[n-1], tf("最新备份在 RPO %s 之内（本期间 %d 次检查）", "newest backup within the RPO of %s (%d checks in the period)", job.RPO, n)))
	}
	switch {
	case lastPass != nil && (len(freshChecks) > 0 || !fresh):
		t.ok(job.Name, Text{}, evs...)
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

// --- MLPS-8.1.4.11: inventory ---

func ruleInventory(p *period) outcome {
	if len(p.cfg.Sources)+len(p.cfg.FileRoots) == 0 {
		return outcome{verdict: NoEvidence, reason: para(Text{"未配置数据源或目录，没有清单可言", "No source or file root is configured: there is nothing to inventory"})}
	}
	var done, missing []string
	var evs []Evidence
	for _, s := range p.cfg.Sources {
		if e, ok := latest(p.dbScans[s.Name], notError); ok {
			done = append(done, s.Name)
			evs = append(evs, ev(e, tf("数据源清单：%d 列明文，按状态 %s", "source inventory: %d plaintext columns, by state %s",
				count(e, "plaintext_columns"), typeCounts(subCounts(e, "by_state")))))
		} else {
			missing = append(missing, s.Name)
		}
	}
	for _, r := range p.cfg.FileRoots {
		if e, ok := latest(p.fileScansOf(r), notError); ok {
			done = append(done, r)
			evs = append(evs, ev(e, tf("目录清单：%d 个文件，%d 处明文", "root inventory: %d files, %d plaintext findings", count(e, "files"), count(e, "findings"))))
		} else {
			missing = append(missing, r)
		}
	}
	o := outcome{evidence: evs, reason: para(tf("已配置 %d 个数据源和目录；本期间有清单的：%s；没有清单的：%s",
		"%d sources and roots are configured; inventoried in the period: %s; not inventoried: %s",
		len(p.cfg.Sources)+len(p.cfg.FileRoots), names(done), names(missing)))}
	switch {
	case len(missing) == 0:
		o.verdict = Met
	case len(done) == 0:
		o.verdict = NotMet
	default:
		o.verdict = PartlyMet
	}
	return o
}

// --- MLPS-8.1.5.2: reviews ---

// ruleReview: a journaled review that covers the whole period, by a user
// whose auditor role was confirmed when it was journaled (figures.auditor),
// meets the control; a review of part of the period, or by someone whose
// role is not confirmed, meets it partly.
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
		role := Text{"审计员", "auditor"}
		if !flag(e, "auditor") {
			role = Text{"角色未确认", "role not confirmed"}
		}
		evs = append(evs, ev(e, Text{fmt.Sprintf("%s（%s）的审阅：%s", actorName(e.Actor), role.ZH, clip(e.Detail, 80)),
			fmt.Sprintf("review by %s (%s): %s", actorName(e.Actor), role.EN, clip(e.Detail, 80))}))
	}
	if e, ok := latest(full, func(e journal.Entry) bool { return flag(e, "auditor") }); ok {
		return outcome{verdict: Met, evidence: evs, reason: para(tf("有 %d 次记入日志的审阅覆盖本期间，最近一次由审计员 %s 于 %s 完成（第 %d 条）",
			"%d journaled reviews cover the period, the latest by the auditor %s on %s (entry %d)", len(full), actorName(e.Actor), p.when(e.Time), e.Seq))}
	}
	switch {
	case len(full) > 0:
		e := full[len(full)-1]
		return outcome{verdict: PartlyMet, evidence: evs, reason: para(tf("%s 于 %s 审阅了本期间（第 %d 条），但其审计员角色未经用户文件确认（用 --as 指明仪表盘用户）",
			"%s reviewed the period on %s (entry %d), but the auditor role was not confirmed against the users file (name the dashboard user with --as)",
			actorName(e.Actor), p.when(e.Time), e.Seq))}
	case len(part) > 0:
		return outcome{verdict: PartlyMet, evidence: evs, reason: para(tf("有 %d 次审阅只覆盖了本期间的一部分，没有覆盖整个期间的审阅",
			"%d reviews cover part of the period; none covers all of it", len(part)))}
	}
	return outcome{verdict: NotMet, reason: para(Text{"没有记入日志的本期间审阅：审计员应审阅记录并用 atrest audit review --period 确认",
		"No journaled review of the period: an auditor should review the records and attest with atrest audit review --period"})}
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
	// Lifecycle rules are judged by backup check, for the job's own
	// bucket; a job in the anchor's bucket says whether rules there expire
	// objects early.
	var lc []Text
	checked := false
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
		lc = append(lc, Text{"本期间没有针对锚定存储桶的生命周期检查结果（backup check 只检查备份作业所在的存储桶），需另行确认没有提前过期的规则",
			"No lifecycle verdict for the anchor's bucket in the period (backup check judges the buckets of backup jobs): confirm separately that no rule expires it early"})
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

// --- MLPS-8.1.10.9 and ISO A.8.24: cryptography ---

func algorithmFacts() []Evidence {
	var evs []Evidence
	for _, a := range algorithms {
		evs = append(evs, fact(a.Algorithm, a.Use))
	}
	return evs
}

func ruleCrypto(*period) outcome {
	return outcome{verdict: Risk, evidence: algorithmFacts(), reason: para(Text{
		"atrest 使用 age（X25519 密钥协商、ChaCha20-Poly1305 加密）加密备份，用 Ed25519 签名日志检查点和备份清单，用 SHA-256 和 HMAC-SHA-256 作校验值和指纹。这些都不是国密算法 SM2/SM3/SM4：若本系统须通过商用密码应用安全性评估（GB/T 39786-2021），评估可能要求使用国家密码管理部门核准的算法和产品",
		"atrest encrypts backups with age (X25519 key agreement, ChaCha20-Poly1305), signs journal checkpoints and backup manifests with Ed25519, and uses SHA-256 and HMAC-SHA-256 for check values and fingerprints. None of these is SM2/SM3/SM4: if the system must pass a commercial-cryptography assessment (密评, GB/T 39786-2021), the assessor may require algorithms and products approved by the national cryptography administration"})}
}

func ruleISOCrypto(*period) outcome {
	return outcome{verdict: PartlyMet, evidence: algorithmFacts(), reason: para(Text{
		"atrest 列出其使用的算法（age：X25519、ChaCha20-Poly1305；Ed25519；SHA-256；HMAC-SHA-256），密钥只保存在文件中、公钥用于加密备份；组织自身的密码使用规则与密钥管理流程不在 atrest 的证据范围内",
		"atrest lists the algorithms it uses (age: X25519, ChaCha20-Poly1305; Ed25519; SHA-256; HMAC-SHA-256), keeps keys in files and encrypts backups to public keys; the organisation's own rules for cryptography and key management are outside what atrest can show"})}
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
