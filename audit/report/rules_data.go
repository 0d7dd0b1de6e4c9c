package report

// Rules about where identifiers are stored and in what state.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/atrest/atrest/audit/detect"

	"github.com/atrest/atrest/audit/journal"
)

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
		if job.Format == "atrest" && job.Recipients > 0 {
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
			t.fail(item, Text{fmt.Sprintf("%s %s 最近一次扫描（第 %d 条，%s）发现明文：%s", kindZH(kind), name, e.Seq, p.when(e.Time), typeCountsZH(bad)),
				fmt.Sprintf("%s %s's latest scan (entry %d, %s) found plaintext: %s", capital(kind), name, e.Seq, p.when(e.Time), typeCounts(bad))},
				ev(e, Text{"明文：" + typeCountsZH(bad), "plaintext: " + typeCounts(bad)}))
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

// typeCountsZH is typeCounts with the types' Chinese names, for the
// Chinese half of a sentence.
func typeCountsZH(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", detect.Chinese(k), m[k]))
	}
	return strings.Join(parts, "，")
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
			t.fail("scan "+s.Name, Text{fmt.Sprintf("数据源 %s 有明文敏感列（第 %d 条）：%s", s.Name, e.Seq, typeCountsZH(bad)),
				fmt.Sprintf("Source %s has plaintext sensitive columns (entry %d): %s", s.Name, e.Seq, typeCounts(bad))},
				ev(e, Text{"明文敏感列：" + typeCountsZH(bad), "plaintext sensitive columns: " + typeCounts(bad)}))
			continue
		}
		t.ok("scan "+s.Name, Text{}, ev(e, Text{"无明文敏感列", "no plaintext sensitive column"}))
	}
	return t.outcome(tf("%d 个数据源：TLS 要求与明文敏感列", "%d sources: TLS required, and plaintext sensitive columns", len(p.cfg.Sources)))
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
