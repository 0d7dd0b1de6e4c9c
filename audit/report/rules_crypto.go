package report

// Rules about the cryptography atrest uses: MLPS-8.1.10.9 (the national
// algorithms a 密评 expects) and ISO A.8.24.

import (
	"fmt"
	"slices"

	"github.com/atrest/atrest/audit/journal"
)

// The suites' algorithms, as the report lists them.
var (
	standardAlgorithms = []Algorithm{
		{Text{"备份加密（age）", "backup encryption (age)"}, "X25519 + ChaCha20-Poly1305, HKDF-SHA-256", false},
		{Text{"备份与日志的校验值", "backup and journal check values"}, "SHA-256", false},
		{Text{"日志检查点与备份清单签名", "journal checkpoints and manifest signatures"}, "Ed25519", false},
		{Text{"标识符指纹", "identifier fingerprints"}, "HMAC-SHA-256 (keyed)", false},
	}
	smAlgorithms = []Algorithm{
		{Text{"备份加密（sm）", "backup encryption (sm)"}, "SM4-CTR + HMAC-SM3, data key wrapped with SM2 (GB/T 32907, GB/T 32905, GB/T 32918.4)", true},
		{Text{"日志哈希链与 Merkle 树", "journal chain and Merkle tree"}, "SM3 (GB/T 32905)", true},
		{Text{"日志检查点与备份清单签名", "journal checkpoints and manifest signatures"}, "SM2 with SM3, signer ID 1234567812345678 (GB/T 32918.2, GM/T 0009)", true},
		{Text{"标识符指纹", "identifier fingerprints"}, "HMAC-SM3 (keyed)", true},
	}
)

// suites are the crypto suites the installation uses: the journal's (as
// verification read it from entry 1), the fingerprints' (the installation
// default) and each atrest job's.
func suites(in Input) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			s = "standard"
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(in.Verify.Suite)
	add(in.Config.Suite)
	for _, b := range in.Config.Backups {
		if b.Format == "atrest" {
			add(b.Suite)
		}
	}
	return out
}

// algorithmsInUse lists the algorithms of the suites in use, the national
// ones last.
func algorithmsInUse(in Input) []Algorithm {
	var out []Algorithm
	used := suites(in)
	if slices.Contains(used, "standard") {
		out = append(out, standardAlgorithms...)
	}
	if slices.Contains(used, "sm") {
		out = append(out, smAlgorithms...)
	}
	return out
}

func algorithmFacts(in Input) []Evidence {
	var evs []Evidence
	for _, a := range algorithmsInUse(in) {
		evs = append(evs, fact(a.Algorithm, a.Use))
	}
	return evs
}

// suiteOf reads figures.suite ({"sm": 1}) of a backup.run or drill.run;
// entries from before suites have none, which is standard.
func suiteOf(e journal.Entry) string {
	for k := range subCounts(e, "suite") {
		return k
	}
	return "standard"
}

// --- MLPS-8.1.10.9: the national algorithms ---

// ruleCrypto: met when the journal is sm and every backup job is an sm job
// with sm backups made and an sm backup drilled green in the period,
// citing those entries; partly met when some of it is sm, naming what is
// not; a risk, as before suites, when none of it is.
func ruleCrypto(p *period) outcome {
	journalSM := p.in.Verify.Suite == "sm"
	var t tally
	anySM := journalSM
	for _, job := range p.cfg.Backups {
		switch {
		case job.Format != "atrest":
			t.lack(job.Name, tf("作业 %s 的备份由其他工具（%s）制作，atrest 不能说明其加密算法", "Job %s's backups are made by another tool (%s): atrest cannot say how they are encrypted", job.Name, job.Format))
			continue
		case job.Suite != "sm":
			t.lack(job.Name, tf("作业 %s 使用 standard 套件（age、Ed25519），不是国密算法", "Job %s uses the standard suite (age, Ed25519), not the national algorithms", job.Name))
			continue
		}
		anySM = true
		run, hasRun := latest(p.runs[job.Name], func(e journal.Entry) bool { return e.Outcome == "ok" && suiteOf(e) == "sm" })
		drill, hasDrill := latestDrill(p.drillsOf(job.Name), func(e journal.Entry) bool { return e.Outcome == "ok" && suiteOf(e) == "sm" })
		var evs []Evidence
		if hasRun {
			evs = append(evs, ev(run, Text{"SM4 加密、SM2 签名的备份", "backup encrypted with SM4, manifest signed with SM2"}))
		}
		if hasDrill {
			evs = append(evs, ev(drill.e, Text{"sm 备份的恢复演练通过", "passing drill of an sm backup"}))
		}
		switch {
		case hasRun && hasDrill:
			t.ok(job.Name, Text{}, evs...)
		case !hasRun:
			t.lack(job.Name, tf("作业 %s 配置为 sm，但本期间没有 sm 备份", "Job %s is an sm job but made no sm backup in the period", job.Name), evs...)
		default:
			t.lack(job.Name, tf("作业 %s 本期间没有通过的 sm 备份恢复演练", "Job %s has no passing drill of an sm backup in the period", job.Name), evs...)
		}
	}
	evs := append(t.ev, fact(fmt.Sprintf("journal suite %s (entry 1), %d entries verified", suiteName(p.in.Verify.Suite), p.in.Verify.Entries),
		Text{"日志的密码套件（哈希链与检查点签名）", "the journal's suite (hash chain and checkpoint signatures)"}))
	evs = append(evs, algorithmFacts(p.in)...)
	if !anySM {
		return outcome{verdict: Risk, evidence: evs, reason: para(Text{
			"atrest 使用 age（X25519 密钥协商、ChaCha20-Poly1305 加密）加密备份，用 Ed25519 签名日志检查点和备份清单，用 SHA-256 和 HMAC-SHA-256 作校验值和指纹。这些都不是国密算法 SM2/SM3/SM4：若本系统须通过商用密码应用安全性评估（GB/T 39786-2021），评估可能要求使用国家密码管理部门核准的算法和产品；atrest 的 sm 套件（suite: sm）提供 SM2/SM3/SM4",
			"atrest encrypts backups with age (X25519 key agreement, ChaCha20-Poly1305), signs journal checkpoints and backup manifests with Ed25519, and uses SHA-256 and HMAC-SHA-256 for check values and fingerprints. None of these is SM2/SM3/SM4: if the system must pass a commercial-cryptography assessment (密评, GB/T 39786-2021), the assessor may require algorithms and products approved by the national cryptography administration; atrest's sm suite (suite: sm) provides SM2/SM3/SM4"})}
	}
	var notes []Text
	if journalSM {
		notes = append(notes, Text{"日志使用 SM3 哈希链与 Merkle 树、SM2 签名检查点", "The journal chains and builds its Merkle tree with SM3 and signs checkpoints with SM2"})
	} else {
		notes = append(notes, tf("日志使用 %s 套件（SHA-256、Ed25519），不是国密算法；日志终身保持其首条记录的套件，须新建 sm 日志", "The journal uses the %s suite (SHA-256, Ed25519), not the national algorithms; a journal keeps the suite of its first entry for life, so this takes a new sm journal", suiteName(p.in.Verify.Suite)))
	}
	if len(p.cfg.Backups) == 0 {
		notes = append(notes, Text{"未配置备份作业：没有以 SM4 保护的备份", "No backup job is configured: no backup is protected with SM4"})
	}
	lead := tf("%d 个备份作业中 %d 个（%s）的备份以 SM4 加密、SM2 签名，且本期间有通过的恢复演练；其余：%s",
		"Of %d backup jobs, %d (%s) made backups encrypted with SM4 and signed with SM2 and had one drilled green in the period; the others: %s",
		len(p.cfg.Backups), len(t.good), names(t.good), names(append(t.partial, t.nothing...)))
	o := outcome{verdict: PartlyMet, evidence: evs, reason: para(append(append([]Text{lead}, notes...), t.notes...)...)}
	if journalSM && len(p.cfg.Backups) > 0 && len(t.good) == len(p.cfg.Backups) {
		o.verdict = Met
	}
	return o
}

func suiteName(s string) string {
	if s == "" {
		return "standard"
	}
	return s
}

// --- ISO A.8.24 ---

func ruleISOCrypto(p *period) outcome {
	return outcome{verdict: PartlyMet, evidence: algorithmFacts(p.in), reason: para(Text{
		"atrest 列出其使用的算法（见证据），密钥只保存在文件中、公钥用于加密备份；组织自身的密码使用规则与密钥管理流程不在 atrest 的证据范围内",
		"atrest lists the algorithms it uses (see the evidence), keeps keys in files and encrypts backups to public keys; the organisation's own rules for cryptography and key management are outside what atrest can show"})}
}
