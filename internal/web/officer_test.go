package web

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/evidence"
	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
)

// The auditor's audit page: the month's report as HTML, JSON and a signed
// evidence bundle, each journaled with the auditor as actor; verification
// on demand, journaled; a review that the next report counts as met.
func TestAuditPageReportsVerifiesReviews(t *testing.T) {
	e := newEnv(t)
	e.append(drillEntry("yb-drill", 41.2, true))
	c, tok := e.login("li.wei", auditorPW)
	post := func(path string, form url.Values) *httptestResponse {
		form.Set("csrf", tok)
		rec := e.do(request{method: "POST", path: path, cookies: []*http.Cookie{c}, form: form})
		return &httptestResponse{rec.Code, rec.Header(), rec.Body.Bytes()}
	}
	month := time.Now().Format("2006-01")
	page := e.do(request{path: "/audit", cookies: []*http.Cookie{c}}).Body.String()
	for _, want := range []string{`id="report-form"`, `value="` + month + `"`, `id="verify-now"`, `id="review-form"`, "审计管理员 auditor"} {
		if !strings.Contains(page, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}

	reportJSON := func() map[string]any {
		t.Helper()
		rec := post("/report", url.Values{"period": {month}, "format": {"json"}})
		if rec.code != 200 || !strings.HasPrefix(rec.h.Get("Content-Type"), "application/json") ||
			!strings.HasPrefix(rec.h.Get("Content-Disposition"), `attachment; filename=atrest-report-`) {
			t.Fatalf("json report: %d %v %s", rec.code, rec.h, rec.body)
		}
		var doc map[string]any
		if err := json.Unmarshal(rec.body, &doc); err != nil || doc["schema"] != report.Schema {
			t.Fatalf("json report: %v %.200s", err, rec.body)
		}
		return doc
	}
	verdict := func(doc map[string]any, id string) string {
		for _, c := range doc["controls"].([]any) {
			if c := c.(map[string]any); c["id"] == id {
				return c["verdict"].(string)
			}
		}
		return ""
	}
	if v := verdict(reportJSON(), "MLPS-8.1.5.2"); v != "not_met" {
		t.Errorf("before the review, 8.1.5.2 is %s", v)
	}
	rep := e.entries("report")
	if len(rep) != 1 || rep[0].Actor.WebUser != "li.wei" || rep[0].Detail != "json report" {
		t.Fatalf("report entries: %+v", rep)
	}

	html := post("/report", url.Values{"period": {month}, "format": {"html"}})
	if html.code != 200 || !bytes.Contains(html.body, []byte("<html")) || !bytes.Contains(html.body, []byte(`id="roles"`)) {
		t.Errorf("html report: %d", html.code)
	}
	bundle := post("/report", url.Values{"period": {month}, "format": {"bundle"}})
	if bundle.code != 200 || bundle.h.Get("Content-Type") != "application/zip" ||
		!strings.Contains(bundle.h.Get("Content-Disposition"), "atrest-evidence-") {
		t.Fatalf("bundle: %d %v %s", bundle.code, bundle.h, bundle.body)
	}
	res, err := evidence.Verify(bytes.NewReader(bundle.body), int64(len(bundle.body)), e.key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	if res.Manifest.Period != mustPeriod(t, month).Label {
		t.Errorf("bundle period %q", res.Manifest.Period)
	}
	if rec := post("/report", url.Values{"period": {"last month"}, "format": {"json"}}); rec.code != 400 || !bytes.Contains(rec.body, []byte("period")) {
		t.Errorf("bad period: %d", rec.code)
	}

	// Verify now.
	v := post("/verify", url.Values{})
	if v.code != 200 || !bytes.Contains(v.body, []byte("刚刚校验 just checked")) || !bytes.Contains(v.body, []byte("校验通过 verified")) {
		t.Errorf("verify now: %d %s", v.code, v.body)
	}
	if vs := e.entries("journal.verify"); len(vs) != 1 || vs[0].Actor.WebUser != "li.wei" || vs[0].Outcome != "ok" {
		t.Errorf("journal.verify entries: %+v", vs)
	}

	// A review: refused with an identifier in the note, then journaled.
	if rec := post("/reviews", url.Values{"period": {month}, "note": {"found 11010519491231002X in exports"}}); rec.code != 400 ||
		!bytes.Contains(rec.body, []byte("cn_resident_id")) || bytes.Contains(rec.body, []byte("11010519491231002X")) {
		t.Errorf("note with an identifier: %d", rec.code)
	}
	rv := post("/reviews", url.Values{"period": {month}, "note": {"reviewed the month: drills pass, ticket SEC-88"}})
	if rv.code != 303 || !strings.HasPrefix(rv.h.Get("Location"), "/audit?reviewed=") {
		t.Fatalf("review: %d %v", rv.code, rv.h)
	}
	reviews := e.entries("review")
	if len(reviews) != 1 || reviews[0].Actor.WebUser != "li.wei" || reviews[0].Figures["authenticated"] != true ||
		reviews[0].Subject != mustPeriod(t, month).Label {
		t.Fatalf("review entries: %+v", reviews)
	}
	if got := e.do(request{path: rv.h.Get("Location"), cookies: []*http.Cookie{c}}).Body.String(); !strings.Contains(got, fmt.Sprintf("#%d", reviews[0].Seq)) {
		t.Errorf("the audit page does not show the review just made")
	}
	if v := verdict(reportJSON(), "MLPS-8.1.5.2"); v != "met" {
		t.Errorf("after the auditor's review, 8.1.5.2 is %s", v)
	}
}

type httptestResponse struct {
	code int
	h    http.Header
	body []byte
}

func mustPeriod(t *testing.T, s string) report.Period {
	t.Helper()
	p, err := report.ParsePeriod(s, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Behind a TLS proxy in http.trusted_proxies, the client's address comes
// from X-Forwarded-For and TLS from X-Forwarded-Proto: cookies are Secure,
// the login limit counts each client, not the proxy. From any other peer
// the headers are ignored.
func TestTrustedProxies(t *testing.T) {
	e := newEnv(t)
	proxied := func(peer, xff, proto string) request {
		return request{remote: peer + ":5000", header: map[string]string{"X-Forwarded-For": xff, "X-Forwarded-Proto": proto}}
	}
	login := func(r request, name, pw string) *httptestResponse {
		t.Helper()
		r.path = "/login"
		form := e.do(r)
		m := csrfRE.FindStringSubmatch(form.Body.String())
		r.method, r.cookies = "POST", []*http.Cookie{cookie(form, loginCookie)}
		r.form = url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}}
		rec := e.do(r)
		return &httptestResponse{rec.Code, rec.Header(), rec.Body.Bytes()}
	}
	secureCookie := func(h http.Header) bool {
		resp := http.Response{Header: h}
		for _, c := range resp.Cookies() {
			if c.Name == sessionCookie {
				return c.Secure
			}
		}
		t.Fatal("no session cookie")
		return false
	}

	// Not trusted: the headers are a client's words.
	rec := login(proxied("10.0.0.2", "198.51.100.7", "https"), "li.wei", auditorPW)
	if rec.code != 303 || secureCookie(rec.h) || rec.h.Get("Strict-Transport-Security") != "" {
		t.Errorf("untrusted peer: %d, secure %v", rec.code, secureCookie(rec.h))
	}
	if ok := e.entries("login.ok"); !strings.HasPrefix(ok[len(ok)-1].Detail, "from 10.0.0.2,") {
		t.Errorf("untrusted XFF believed: %q", ok[len(ok)-1].Detail)
	}

	set := *e.s.settings()
	set.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	e.s.Configure(set)
	rec = login(proxied("10.0.0.2", "203.0.113.9, 198.51.100.7, 10.0.0.3", "https"), "li.wei", auditorPW)
	if rec.code != 303 || !secureCookie(rec.h) || rec.h.Get("Strict-Transport-Security") == "" {
		t.Errorf("trusted proxy: %d, secure %v", rec.code, secureCookie(rec.h))
	}
	if ok := e.entries("login.ok"); !strings.HasPrefix(ok[len(ok)-1].Detail, "from 198.51.100.7,") {
		t.Errorf("client address behind the proxy: %q", ok[len(ok)-1].Detail)
	}
	// A POST that the browser sent to https://host passes the origin check.
	c, tok := e.login("root.admin", adminPW)
	r := proxied("10.0.0.2", "198.51.100.7", "https")
	r.method, r.path, r.cookies, r.form = "POST", "/jobs/drill.run/yb-drill/run", []*http.Cookie{c}, url.Values{"csrf": {tok}}
	r.header["Origin"] = "https://example.com"
	if rec := e.do(r); rec.Code != 303 {
		t.Errorf("POST from https behind the proxy: %d", rec.Code)
	}

	// The login limit sees clients: one that fails too often is refused,
	// another behind the same proxy is not.
	for i := 0; i < 6; i++ {
		login(proxied("10.0.0.2", "198.51.100.66", "https"), "li.wei", "wrong password, long")
	}
	if rec := login(proxied("10.0.0.2", "198.51.100.66", "https"), "li.wei", auditorPW); rec.code != http.StatusTooManyRequests {
		t.Errorf("the failing client: %d, want 429", rec.code)
	}
	if rec := login(proxied("10.0.0.2", "198.51.100.77", "https"), "root.admin", adminPW); rec.code != 303 {
		t.Errorf("another client behind the same proxy: %d, want 303", rec.code)
	}
	// XFF from an untrusted peer is still ignored: a client cannot pick
	// another address to escape its penalty.
	if ip := e.s.clientIP(&http.Request{RemoteAddr: "192.0.2.1:1", Header: http.Header{"X-Forwarded-For": {"198.51.100.1"}}}); ip != "192.0.2.1" {
		t.Errorf("untrusted XFF: %s", ip)
	}
}

// Configure (serve's SIGHUP reload) changes the names the pages show and
// the zone their times are in, at once.
func TestConfigureFollowsReload(t *testing.T) {
	e := newEnv(t)
	e.append(journal.Entry{Kind: "serve.start", Subject: "atrest.yaml", Outcome: "ok"})
	c, _ := e.login("li.wei", auditorPW)
	if body := e.do(request{path: "/", cookies: []*http.Cookie{c}}).Body.String(); strings.Contains(body, "his-pg") {
		t.Fatal("his-pg before the reload")
	}
	set := *e.s.settings()
	set.Inventory.Sources = append(set.Inventory.Sources, "his-pg")
	set.Location, _ = time.LoadLocation("Asia/Shanghai")
	e.s.Configure(set)
	body := e.do(request{path: "/", cookies: []*http.Cookie{c}}).Body.String()
	if !strings.Contains(body, `href="/sources/his-pg"`) {
		t.Errorf("the overview does not list the reloaded source")
	}
	// html/template writes + as &#43;, which the browser shows as +.
	if !strings.Contains(body, "&#43;08:00") || !strings.Contains(body, "Asia/Shanghai") {
		t.Errorf("times not in the configured zone with their offset")
	}
	if rec := e.do(request{path: "/sources/his-pg", cookies: []*http.Cookie{c}}); rec.Code != 200 {
		t.Errorf("the reloaded source's page: %d", rec.Code)
	}
}

// Issue 20's rough edges, as a person sees them: a drill's failure class in
// Chinese beside the English, figures with names and units rather than
// snake_case and nine decimals, a quarter-second RTO that is not "0 s",
// and a check the server does not support shown as such.
func TestPagesSpeakToPeople(t *testing.T) {
	e := newEnv(t)
	fast := drillEntry("yb-drill", 0.25, true)
	e.append(fast)
	failed := drillEntry("yb-drill", 0, false)
	failed.Figures["failure"] = map[string]any{"key": 1}
	e.append(failed)
	e.append(journal.Entry{Kind: "backup.check", Subject: "yb-nightly", Outcome: "ok", Figures: map[string]any{
		"pass": 5, "unsupported": 2, "checks": map[string]any{"freshness": 1, "object_lock": 1},
		"checks_unjudged": map[string]any{"lifecycle": 1, "encryption": 1}, "checks_unsupported": map[string]any{"lifecycle": 1}}})
	scan := e.append(journal.Entry{Kind: "scan.files", Subject: "exports", Outcome: "ok", Figures: map[string]any{
		"files": 1204311, "bytes": 84934656, "seconds": 12.345678912, "findings": 0, "by_type": map[string]any{}}})
	c, _ := e.login("li.wei", auditorPW)
	get := func(path string) string { return e.do(request{path: path, cookies: []*http.Cookie{c}}).Body.String() }

	overview := get("/")
	for _, want := range []string{"密钥不符 key", "生命周期 lifecycle: 不支持 unsupported", "加密 encryption: 未判定 not judged"} {
		if !strings.Contains(overview, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	if !strings.Contains(overview, "<td>0.25 s</td>") {
		t.Errorf("the drills table does not show the 0.25 s RTO")
	}
	entry := get(fmt.Sprintf("/journal/%d", scan.Seq))
	for _, want := range []string{"用时 duration", "12.3 s", "大小 size", "81 MiB", "文件 files", "1,204,311", "<code class=\"sub\">seconds</code>"} {
		if !strings.Contains(entry, want) {
			t.Errorf("the entry page lacks %q", want)
		}
	}
	if strings.Contains(entry, "12.345678912") {
		t.Errorf("the entry page prints nine decimals")
	}
	if root := get("/roots/exports"); !strings.Contains(root, "12.3 s") || !strings.Contains(root, "文件 files") {
		t.Errorf("the root page's figures have no names or units")
	}
	var api struct {
		Jobs []apiCheckJob `json:"jobs"`
	}
	json.Unmarshal(e.do(request{path: "/api/checks", user: "li.wei", pw: auditorPW}).Body.Bytes(), &api)
	if len(api.Jobs) != 1 || api.Jobs[0].Unjudged["lifecycle"] != "unsupported" {
		t.Errorf("/api/checks: %+v", api.Jobs)
	}
}
