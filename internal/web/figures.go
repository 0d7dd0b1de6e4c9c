package web

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/chart"
)

// People read the figures of an entry: each gets a name in Chinese and
// English and its value in its unit (41.2 s, 81.0 MiB, 1,204,311), not the
// journal's snake_case key with nine decimals. The key stays beside it, for
// whoever reads the journal itself.

// figureNames name the figures atrest journals. A key not listed reads as
// its words ("leftovers_dropped": "leftovers dropped").
var figureNames = map[string]string{
	"seconds": "用时 duration", "tables": "表 tables", "tables_encrypted_at_rest": "静态加密的表 tables encrypted at rest",
	"table_errors": "未能读取的表 tables not read", "columns_sampled": "抽样的列 columns sampled",
	"plaintext_columns": "明文列 plaintext columns", "plaintext_by_type": "明文列（按类型）plaintext columns by type",
	"by_state": "按状态 by state", "by_type": "按类型 by type", "files": "文件 files", "scanned": "已扫描 scanned",
	"encrypted": "已加密 encrypted", "binary": "二进制 binary", "skipped": "跳过 skipped", "errors": "错误 errors",
	"findings": "明文发现 plaintext findings", "bytes": "大小 size", "plaintext_bytes": "压缩加密前大小 size before compression",
	"sql_bytes": "SQL 大小 SQL size", "rows": "行 rows", "rto_seconds": "恢复时间 RTO", "rpo_seconds": "恢复点 RPO",
	"tables_matched": "摘要一致的表 tables matched", "digests_verified": "摘要已核对 digests verified",
	"probes": "探针 probes", "retried": "重试 retried", "phases": "阶段 phases", "download_seconds": "下载 download",
	"decrypt_seconds": "解密 decrypt", "decompress_seconds": "解压 decompress", "load_seconds": "导入 load",
	"verify_seconds": "核对 verify", "select_seconds": "选择备份 select", "probe_seconds": "探针 probes",
	"cleanup_seconds": "清理 cleanup", "failure": "失败类别 failure class", "pass": "通过 pass", "fail": "失败 fail",
	"warn": "警告 warn", "unsupported": "不支持 unsupported", "read": "读回 read back", "checks": "检查 checks",
	"deleted": "已删除 deleted", "kept": "保留 kept", "dry_run": "演习 dry run", "entries": "条目 entries",
	"unsigned": "未签名 unsigned", "role": "角色 role", "action": "操作 action", "auditor": "审计员 auditor",
	"authenticated": "已鉴别 authenticated", "via": "途径 via", "controls": "控制项 controls",
	"period_entries": "期间条目 period entries", "journal_verified": "日志校验通过 journal verified",
	"from_unix": "起 from (Unix)", "to_unix": "止 to (Unix)", "met": "符合 met", "partly_met": "部分符合 partly met",
	"not_met": "不符合 not met", "no_evidence": "无证据 no evidence", "risk": "风险 risk", "bootstrap": "初始化 bootstrap",
}

// figureLine is one figure of an entry, nested ones under their parent's
// label.
type figureLine struct {
	Key   string // phases.load_seconds
	Label string // 阶段 phases › 导入 load
	Value string // 12.5 s
}

// figureLines lists figs sorted by key; nested maps become dotted keys.
func figureLines(figs map[string]any) []figureLine {
	return appendFigures(nil, "", "", figs)
}

func appendFigures(out []figureLine, key, label string, figs map[string]any) []figureLine {
	for _, k := range slices.Sorted(maps.Keys(figs)) {
		name := figureName(k)
		if label != "" {
			name = label + " › " + name
		}
		switch v := figs[k].(type) {
		case map[string]any:
			out = appendFigures(out, key+k+".", name, v)
		default:
			out = append(out, figureLine{Key: key + k, Label: name, Value: figureValue(k, v)})
		}
	}
	return out
}

func figureName(k string) string {
	if n, ok := figureNames[k]; ok {
		return n
	}
	for _, t := range typeNames { // plaintext_by_type.cn_mobile
		if t.Type == k {
			return t.Chinese + " " + k
		}
	}
	if zh, ok := failureNames[k]; ok {
		return zh + " " + k
	}
	return strings.ReplaceAll(k, "_", " ")
}

// figureValue prints v in the unit its key says: seconds, bytes, or a
// count with thousands separators.
func figureValue(k string, v any) string {
	if b, ok := v.(bool); ok {
		return map[bool]string{true: "是 yes", false: "否 no"}[b]
	}
	f, ok := journal.Number(v)
	if !ok {
		return fmt.Sprint(v)
	}
	switch {
	case k == "seconds" || strings.HasSuffix(k, "_seconds"):
		return chart.Seconds(f)
	case k == "bytes" || strings.HasSuffix(k, "_bytes"):
		return humanize.IBytes(uint64(max(f, 0)))
	case k == "from_unix" || k == "to_unix":
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return fmtNumber(f)
}

// fmtNumber is a count with thousands separators, or a fraction to two
// places.
func fmtNumber(f float64) string {
	if f == float64(int64(f)) {
		return humanize.Comma(int64(f))
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// failureNames are the drill failure classes (backup/drill) in Chinese.
var failureNames = map[string]string{
	"transport": "传输失败", "integrity": "完整性不符", "restore": "恢复执行失败", "probe": "探针未通过",
	"key": "密钥不符", "no_backup": "无可用备份", "digest_mismatch": "摘要不一致",
}

// failureLabel names a drill's failure classes (comma-joined) in Chinese
// and English: "密钥不符 key".
func failureLabel(classes string) string {
	var out []string
	for _, c := range strings.Split(classes, ",") {
		if zh, ok := failureNames[c]; ok {
			c = zh + " " + c
		}
		out = append(out, c)
	}
	return strings.Join(out, ", ")
}
