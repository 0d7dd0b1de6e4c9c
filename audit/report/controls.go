package report

// The controls the report answers (docs/CONTROLS.md), in one table so that
// a clause number or a wording is a one-line change. Key is the stable name
// the rules and the "Beyond China" rows refer to; ID and Clause are what the
// reader sees and may change with the standard.

// Text is a phrase in Chinese and English; the report prints both.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Control is one row of the control table.
type Control struct {
	Key      string `json:"key"`      // stable: rules and derived rows refer to it
	ID       string `json:"id"`       // MLPS-8.1.4.9a, PIPL-54, HIPAA-…
	Standard string `json:"standard"` // GB/T 22239-2019, 个人信息保护法, …
	Clause   string `json:"clause"`   // 8.1.4.9 a), Art. 54, …
	Tests    string `json:"tests,omitempty"`
	Title    Text   `json:"title"`
	Asks     Text   `json:"asks"`
	Evidence Text   `json:"evidence"` // what atrest offers as evidence
	MetWhen  Text   `json:"met_when"`
	// From lists the keys of the China controls a "Beyond China" row takes
	// its verdict from (combined: the weakest wins).
	From []string `json:"-"`

	rule rule // nil for a derived row without a rule of its own
}

const (
	mlps  = "GB/T 22239-2019 (等保2.0, level 3)"
	csl   = "网络安全法 Cybersecurity Law (2025)"
	pipl  = "个人信息保护法 PIPL"
	gbt   = "GB/T 35273-2020"
	hipaa = "HIPAA Security Rule"
	pci   = "PCI DSS v4.0"
	iso   = "ISO/IEC 27001:2022"
)

// chinaControls are answered first and in this order.
var chinaControls = []Control{
	{Key: "audit_trail", ID: "MLPS-8.1.4.3", Standard: mlps, Clause: "8.1.4.3", Tests: "CES1-12..15",
		Title: Text{"安全审计", "Security audit"},
		Asks: Text{"对重要的用户行为和重要安全事件进行审计；审计记录包括事件的日期和时间、用户、事件类型、事件是否成功；对审计记录进行保护、定期备份，避免受到未预期的删除、修改或覆盖；保护审计进程，防止未经授权的中断。",
			"Audit every user's important actions; each record has time, user, event type and outcome; records protected from deletion, change and overwrite, and backed up; the audit process cannot be stopped without a trace."},
		Evidence: Text{"日志（每条记录含操作者、时间、类型、对象、结果，包括登录、重载、停止）；audit verify；对象存储中的锚定副本。",
			"The journal (actor, time, kind, subject, outcome on every entry, including logins, reloads, shutdowns); audit verify; anchor copies in object storage."},
		MetWhen: Text{"日志在整个期间内校验通过，且配置了锚定。", "The journal verifies over the whole period and an anchor is configured."},
		rule:    ruleAuditTrail},
	{Key: "integrity", ID: "MLPS-8.1.4.7", Standard: mlps, Clause: "8.1.4.7", Tests: "CES1-26",
		Title: Text{"数据完整性", "Data integrity"},
		Asks: Text{"采用校验技术或密码技术保证重要数据（业务、个人、审计、配置数据）在存储过程中的完整性；测评时篡改数据，应能检出。",
			"Stored important data (business, personal, audit, configuration) kept intact by check values or cryptography; the assessor tampers and expects detection."},
		Evidence: Text{"备份清单（SHA-256、逐表摘要）；check --read；摘要一致的恢复演练；日志的哈希链。",
			"Backup manifests (SHA-256, per-table digests); check --read; drills with digest match; the journal's hash chain."},
		MetWhen: Text{"期间内每个备份作业都有一次读回校验通过的备份，以及一次全部摘要一致的恢复演练。",
			"Every backup job has a verified backup and a drill with all digests matching in the period."},
		rule: ruleIntegrity},
	{Key: "confidentiality", ID: "MLPS-8.1.4.8", Standard: mlps, Clause: "8.1.4.8", Tests: "CES1-28",
		Title: Text{"数据保密性", "Data confidentiality"},
		Asks: Text{"采用密码技术保证重要数据（鉴别数据、业务数据、个人信息）在存储过程中的保密性。",
			"Stored authentication, business and personal data kept confidential by cryptography."},
		Evidence: Text{"数据库扫描（明文列、表空间加密）；文件扫描；备份加密（age）；存储桶加密状态。",
			"DB scans (plaintext columns, table encryption at rest); file scans; backups encrypted (age); bucket encryption posture."},
		MetWhen: Text{"无明文标识列，已扫描目录中无明文发现，所有备份均已加密。",
			"No plaintext identifier column, no plaintext file finding in scanned roots, all backups encrypted."},
		rule: ruleConfidentiality},
	{Key: "backup_restore", ID: "MLPS-8.1.4.9a", Standard: mlps, Clause: "8.1.4.9 a)", Tests: "CES1-29",
		Title: Text{"数据备份恢复：本地备份与恢复", "Backup and recovery: local backup and restore"},
		Asks: Text{"提供重要数据的本地数据备份与恢复功能；测评时查看近期的恢复测试记录，应能证明恢复可用。",
			"Local backup and restore of important data; the assessor asks for recent restore-test records that show a working restore."},
		Evidence: Text{"备份；带 RTO/RPO 的恢复演练。", "Backups; drills with RTO/RPO."},
		MetWhen: Text{"每个作业在期间内每次检查时均未超出 RPO，且每个作业至少有一次通过的恢复演练。",
			"Every job fresh at every check and at least one passing drill per job in the period."},
		rule: ruleBackupRestore},
	{Key: "offsite", ID: "MLPS-8.1.4.9b", Standard: mlps, Clause: "8.1.4.9 b)", Tests: "CES1-30",
		Title: Text{"数据备份恢复：异地实时备份", "Backup and recovery: off-site real-time backup"},
		Asks: Text{"提供异地实时备份功能，利用通信网络将重要数据实时备份至备份场地。",
			"Off-site backup of important data over the network, in real time."},
		Evidence: Text{"备份经网络写入源主机之外的对象存储。", "Backups land in object storage off the source host."},
		MetWhen:  Text{"至多部分符合：atrest 的备份是定期的，不是实时的。", "Partly met at best: atrest's backups are periodic, not real time."},
		rule:     ruleOffsite},
	{Key: "hot_redundancy", ID: "MLPS-8.1.4.9c", Standard: mlps, Clause: "8.1.4.9 c)",
		Title:    Text{"数据备份恢复：热冗余", "Backup and recovery: hot redundancy"},
		Asks:     Text{"提供重要数据处理系统的热冗余，保证系统的高可用性。", "Hot redundancy for important data processing."},
		Evidence: Text{"无。", "None."},
		MetWhen:  Text{"始终为“无证据”（不在 atrest 的范围内）。", `Always "no evidence" (out of scope).`},
		rule:     ruleHotRedundancy},
	{Key: "pi_inventory", ID: "MLPS-8.1.4.11", Standard: mlps, Clause: "8.1.4.11",
		Title: Text{"个人信息保护", "Personal information protection"},
		Asks: Text{"仅采集和保存业务必需的用户个人信息；禁止未授权访问和非法使用用户个人信息。",
			"Keep only the personal information needed; stop unauthorised access and use."},
		Evidence: Text{"标识符存放位置（列、文件）及其状态的清单。", "Inventory of where identifiers live (columns, files) and in what state."},
		MetWhen:  Text{"期间内每个已配置的数据源和目录都有清单（扫描）。", "An inventory exists for every configured source and root in the period."},
		rule:     ruleInventory},
	{Key: "audit_review", ID: "MLPS-8.1.5.2", Standard: mlps, Clause: "8.1.5.2",
		Title: Text{"审计管理", "Audit management"},
		Asks: Text{"对审计管理员进行身份鉴别，只允许其通过特定的命令或操作界面进行审计操作，并对这些操作进行审计；由审计管理员分析审计记录并根据结果处理。",
			"The audit administrator is authenticated, works through a dedicated interface, is audited, and analyses records and acts on them."},
		Evidence: Text{"与系统管理员、安全管理员分离的审计管理员角色；仪表盘登录记入日志；经鉴别的审阅确认（仪表盘“审计”页，或 atrest audit review --as 并输入密码）。",
			"An auditor role separate from the system and security administrators; dashboard logins journaled; authenticated review attestations (the dashboard's audit page, or atrest audit review --as with the password)."},
		MetWhen: Text{"至少有一次由经鉴别的审计管理员对本期间所做、记入日志的审阅。", "At least one journaled review of the period by an authenticated audit administrator."},
		rule:    ruleReview},
	{Key: "log_retention", ID: "MLPS-8.1.5.4d", Standard: mlps, Clause: "8.1.5.4 d)",
		Title: Text{"集中管控：审计数据汇总与留存", "Centralised management: audit data collected and retained"},
		Asks: Text{"对分散在各个设备上的审计数据进行收集汇总和集中分析，并保证审计记录的留存时间符合法律法规要求。",
			"Audit data collected centrally and kept as long as the law requires."},
		Evidence: Text{"锚定存储桶；保留期设置与存储桶生命周期规则的对照。", "Anchor bucket; retention setting vs bucket lifecycle."},
		MetWhen:  Text{"配置了锚定，保留期不少于六个月，且未被生命周期规则缩短。", "Anchor configured, retention ≥ 6 months and not undercut by lifecycle rules."},
		rule:     ruleLogRetention},
	{Key: "backup_policy", ID: "MLPS-8.1.10.11", Standard: mlps, Clause: "8.1.10.11",
		Title: Text{"备份与恢复管理", "Backup and recovery management"},
		Asks: Text{"识别需要定期备份的重要信息；规定备份方式、频度、存储介质、保存期；制定备份与恢复策略和程序。",
			"Decide what is backed up, how, how often, where and for how long; write the procedures."},
		Evidence: Text{"配置中的备份作业（计划、RPO、保留期、存储位置）。", "The backup jobs in the config (schedule, RPO, retention, storage)."},
		MetWhen:  Text{"每个已配置的数据源都有备份作业。", "Every configured source has a backup job."},
		rule:     ruleBackupPolicy},
	{Key: "crypto", ID: "MLPS-8.1.10.9", Standard: mlps, Clause: "8.1.10.9",
		Title: Text{"密码管理", "Cryptography management"},
		Asks: Text{"遵循密码相关国家标准和行业标准；使用国家密码管理主管部门认证核准的密码技术和产品。",
			"Use cryptography that national rules approve."},
		Evidence: Text{"所用算法清单；各作业的密码套件；本期间的 sm 备份与恢复演练记录；日志的套件。", "The algorithms in use; each job's suite; the period's sm backups and drills; the journal's suite."},
		MetWhen: Text{"日志为 sm 套件（SM3、SM2），且每个备份作业均为 sm 套件、本期间有 SM4 加密的备份和通过的恢复演练。部分为 sm：部分符合，并列出不是的作业；全无国密算法：作为风险报告（商用密码应用安全性评估 GB/T 39786-2021 可能要求国密算法）。",
			"The journal is sm (SM3, SM2), and every backup job is sm with SM4 backups and a passing drill in the period. Some of it sm: partly met, naming the jobs that are not; none: reported as a risk (a 密评, GB/T 39786-2021, may require the national algorithms)."},
		rule: ruleCrypto},
	{Key: "csl_logs", ID: "CSL-23", Standard: csl, Clause: "Art. 23",
		Title: Text{"网络日志留存；数据分类、备份和加密", "Keep network logs; classify, back up and encrypt data"},
		Asks: Text{"留存网络日志不少于六个月；采取数据分类、重要数据备份和加密等措施。",
			"Keep network logs at least six months; classify, back up and encrypt important data."},
		Evidence: Text{"日志保留期；备份；加密证据。", "Journal retention; backups; encryption evidence."},
		MetWhen:  Text{"同 MLPS-8.1.5.4d 与 MLPS-8.1.4.8。", "As MLPS-8.1.5.4d and 8.1.4.8."},
		From:     []string{"log_retention", "confidentiality"}},
	{Key: "sensitive_pi", ID: "PIPL-28", Standard: pipl, Clause: "Art. 28",
		Title: Text{"敏感个人信息", "Sensitive personal information"},
		Asks: Text{"医疗健康、金融账户、特定身份等信息属于敏感个人信息，须采取严格保护措施。",
			"Medical health and financial-account data are sensitive personal information and need strict protection."},
		Evidence: Text{"身份证件号、银行卡号、医保字段的发现。", "Findings for resident IDs, bank cards, medical-insurance fields."},
		MetWhen:  Text{"无明文敏感信息发现。", "No plaintext sensitive finding."},
		rule:     ruleSensitive},
	{Key: "classification", ID: "PIPL-51", Standard: pipl, Clause: "Art. 51",
		Title: Text{"分类管理与加密、去标识化", "Classify; encrypt or de-identify"},
		Asks: Text{"对个人信息实行分类管理；采取加密、去标识化等安全技术措施。",
			"Classify personal information; encrypt or de-identify it."},
		Evidence: Text{"逐列状态（明文 / 掩码 / 哈希 / 加密）。", "Per-column state (plaintext / masked / hashed / encrypted)."},
		MetWhen:  Text{"同 MLPS-8.1.4.8。", "As MLPS-8.1.4.8."},
		From:     []string{"confidentiality"}},
	{Key: "compliance_audit", ID: "PIPL-54", Standard: pipl, Clause: "Art. 54",
		Title: Text{"定期合规审计", "Regular compliance audits"},
		Asks: Text{"定期对处理个人信息遵守法律、行政法规的情况进行合规审计。",
			"Regular compliance audits of personal-information processing."},
		Evidence: Text{"期间报告本身，记入日志。", "Period reports themselves, journaled."},
		MetWhen:  Text{"每个期间都生成了报告。", "A report generated for each period."},
		rule:     ruleComplianceAudit},
	{Key: "transport_storage", ID: "GBT35273-6.3", Standard: gbt, Clause: "6.3",
		Title: Text{"个人敏感信息的传输和存储", "Sensitive personal information in transmission and storage"},
		Asks: Text{"传输和存储个人敏感信息时，应采用加密等安全措施。",
			"Encrypt sensitive personal information in transmission and storage."},
		Evidence: Text{"数据库连接的 TLS 设置；扫描结果。", "Server transport settings; scans."},
		MetWhen:  Text{"所有数据源要求 TLS，且无明文敏感列。", "TLS required on sources and no plaintext sensitive column."},
		rule:     ruleTransportStorage},
}

// beyondControls map other frameworks to the same evidence. Their verdict
// is the weakest of the China controls in From, then their own rule if any.
var beyondControls = []Control{
	{Key: "hipaa_technical", ID: "HIPAA-164.312(a)(2)(iv),(b),(c)(1)", Standard: hipaa, Clause: "§164.312",
		Title: Text{"ePHI 静态加密、活动记录、完整性", "ePHI encryption at rest; audit controls; integrity"},
		Asks: Text{"对静态 ePHI 加密；记录并检查活动；保护并佐证完整性。",
			"Encrypt ePHI at rest; record and examine activity; protect and corroborate integrity."},
		Evidence: Text{"同 MLPS-8.1.4.8、8.1.4.3、8.1.4.7。", "As MLPS-8.1.4.8, 8.1.4.3, 8.1.4.7."},
		From:     []string{"confidentiality", "audit_trail", "integrity"}},
	{Key: "hipaa_contingency", ID: "HIPAA-164.308(a)(7)(ii)(A)(B)(D)", Standard: hipaa, Clause: "§164.308(a)(7)",
		Title: Text{"数据备份与灾难恢复计划及测试", "Data backup, disaster recovery, testing"},
		Asks: Text{"制定可恢复精确副本的备份计划与灾难恢复计划，并测试和修订。",
			"Backup plan with exact retrievable copies; disaster recovery plan; test and revise."},
		Evidence: Text{"备份、恢复演练。", "Backups, drills."},
		From:     []string{"backup_restore", "backup_policy"}},
	{Key: "pci_pan", ID: "PCI-3.5.1", Standard: pci, Clause: "3.5.1",
		Title: Text{"存储的卡号不可读", "Stored PAN rendered unreadable"},
		Asks:  Text{"存储的卡号须不可读；哈希须带密钥。", "Stored card numbers unreadable; hashes must be keyed."},
		Evidence: Text{"银行卡号发现；atrest 自身的指纹为带密钥的 HMAC。",
			"Bank-card findings; atrest's own fingerprints are keyed HMAC."},
		rule: rulePAN},
	{Key: "pci_logs", ID: "PCI-10.3.2–10.3.4, 10.5.1", Standard: pci, Clause: "10.3.2–10.3.4, 10.5.1",
		Title: Text{"日志保护、备份、变更检测与保留", "Logs protected, backed up, change-detected, retained"},
		Asks: Text{"日志受保护、备份、变更可检出；保留 12 个月。",
			"Logs protected, backed up, change-detected; kept 12 months."},
		Evidence: Text{"日志、锚定、保留期。", "Journal, anchor, retention."},
		From:     []string{"audit_trail"}, rule: rulePCILogRetention},
	{Key: "pci_incident", ID: "PCI-12.10.1", Standard: pci, Clause: "12.10.1",
		Title:    Text{"事件响应涵盖备份与恢复并每年测试", "Incident response covers backup and recovery, tested yearly"},
		Asks:     Text{"事件响应计划涵盖备份与恢复，每年测试。", "Incident response covers backup and recovery, tested yearly."},
		Evidence: Text{"恢复演练。", "Drills."},
		rule:     ruleDrillsOnly},
	{Key: "iso_backup", ID: "ISO27001-A.8.13", Standard: iso, Clause: "A.8.13",
		Title:    Text{"信息备份", "Information backup"},
		Asks:     Text{"保留备份并定期测试。", "Backups kept and regularly tested."},
		Evidence: Text{"备份与恢复演练。", "Backups and drills."},
		From:     []string{"backup_restore"}},
	{Key: "iso_crypto", ID: "ISO27001-A.8.24", Standard: iso, Clause: "A.8.24",
		Title:    Text{"密码技术的使用", "Use of cryptography"},
		Asks:     Text{"制定并实施密码技术使用规则（含密钥管理）。", "Rules for cryptography, including key management."},
		Evidence: Text{"所用算法与密钥清单。", "Algorithms and keys in use."},
		rule:     ruleISOCrypto},
	{Key: "iso_logging", ID: "ISO27001-A.8.15", Standard: iso, Clause: "A.8.15",
		Title:    Text{"日志记录", "Logging"},
		Asks:     Text{"记录、保护并分析日志。", "Logs produced, protected and analysed."},
		Evidence: Text{"日志。", "Journal."},
		From:     []string{"audit_trail", "audit_review"}},
}

// sensitiveTypes are the detector types that are sensitive personal
// information (PIPL Art. 28; GB/T 35273-2020 Annex B: identity documents
// and financial accounts). Mobile numbers and e-mail addresses are personal
// information but not sensitive.
var sensitiveTypes = map[string]bool{
	"cn_resident_id": true, "bank_card": true, "cn_passport": true, "cn_hmt_permit": true,
}

// Algorithm is one piece of cryptography atrest uses.
type Algorithm struct {
	Use       Text   `json:"use"`
	Algorithm string `json:"algorithm"`
	National  bool   `json:"national"` // an SM (国密) algorithm
}
