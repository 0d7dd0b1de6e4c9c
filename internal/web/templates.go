package web

import (
	"fmt"
	"html/template"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/atrest/atrest/internal/chart"
)

var pageNames = []string{"login", "error", "overview", "scan", "backup", "drill", "journal", "entry", "users", "audit"}

// parsePages parses each page with the shared layout (base.html).
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	base, err := template.New("base.html").Funcs(funcs).ParseFS(templateFS, "templates/base.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	out := map[string]*template.Template{}
	for _, n := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, path.Join("templates", n+".html"))
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		out[n] = t
	}
	return out, nil
}

var outcomeNames = map[string]string{
	"ok": "成功 ok", "pass": "通过 pass", "findings": "发现明文 findings", "incomplete": "未读完 incomplete", "fail": "失败 fail",
	"error": "错误 error", "skipped": "跳过 skipped", "cancelled": "取消 cancelled",
	"denied": "拒绝 denied", "rate_limited": "限流 rate limited",
}

// funcs are the templates' functions; times are shown in the configured
// zone, which a reload may change.
func (s *Server) funcs() template.FuncMap {
	f := template.FuncMap{
		// ts is a time to the second in the configured zone, with its
		// offset: 2026-12-06 10:00:00 +08:00.
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(s.settings().Location).Format("2006-01-02 15:04:05 -07:00")
		},
	}
	for k, v := range funcs {
		f[k] = v
	}
	return f
}

var funcs = template.FuncMap{
	"secs": chart.Seconds,
	"age":  fmtAge,
	"dur": func(d time.Duration) string {
		if d <= 0 {
			return "—"
		}
		return fmtAge(d)
	},
	// fsecs formats an optional seconds figure.
	"fsecs": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return chart.Seconds(*v)
	},
	"fnum": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return fmtNumber(*v)
	},
	"failure": failureLabel,
	// status names a check's verdict.
	"status": func(s string) string {
		if n, ok := map[string]string{"pass": "通过 pass", "fail": "失败 fail", "unjudged": "未判定 not judged",
			"unsupported": "不支持 unsupported"}[s]; ok {
			return n
		}
		return s
	},
	// cls maps an outcome or status to a CSS class.
	"cls": func(s string) string {
		switch s {
		case "ok", "pass", "fresh":
			return "good"
		case "findings", "incomplete", "warn", "skipped", "cancelled", "unknown", "pending", "off", "rate_limited", "unjudged", "unsupported":
			return "warn"
		case "fail", "error", "stale", "never", "broken", "denied":
			return "bad"
		}
		return "neutral"
	},
	"outcome": func(s string) string {
		if n, ok := outcomeNames[s]; ok {
			return n
		}
		return s
	},
	"freshness": func(s string) string {
		return map[string]string{"fresh": "新鲜 fresh", "stale": "过期 stale (older than RPO)",
			"never": "无成功备份 no successful backup", "unknown": "未知 RPO unknown"}[s]
	},
	"verifyState": func(s string) string {
		return map[string]string{"ok": "校验通过 verified", "broken": "日志被破坏 BROKEN",
			"error": "无法校验 could not verify", "pending": "正在校验 verifying…", "off": "未启用 off"}[s]
	},
	"pathesc": url.PathEscape,
	"checkName": func(s string) string {
		if zh, ok := map[string]string{"freshness": "新鲜度", "completeness": "完整性",
			"uploads": "未完成上传", "manifest": "清单签名", "object": "对象校验", "trend": "趋势",
			"integrity": "内容完整", "versioning": "版本控制", "object_lock": "对象锁定",
			"encryption": "加密", "lifecycle": "生命周期", "canary": "删除防护"}[s]; ok {
			return zh + " " + s
		}
		return s
	},
	"upper": strings.ToUpper,
}
