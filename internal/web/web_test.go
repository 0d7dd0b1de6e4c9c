package web

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
)

func init() {
	// Real argon2id, cheap parameters: tests hash many passwords.
	hashParams = argonParams{memory: 64, passes: 1, lanes: 1}
}

const (
	adminPW   = "correct horse battery"
	auditorPW = "审计员的长密码 auditor pw"
	secPW     = "安全管理员 manages users"
)

type fakeRunner struct {
	mu    sync.Mutex
	jobs  []string
	calls []string
	err   error
}

func (f *fakeRunner) RunNow(kind, name, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, kind+" "+name+" by "+user)
	return f.err
}

func (f *fakeRunner) Jobs() []string { return f.jobs }

type env struct {
	t      *testing.T
	s      *Server
	j      *journal.Journal
	dir    string
	users  string
	runner *fakeRunner
	now    time.Time
	key    ed25519.PrivateKey
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	dir := filepath.Join(root, "journal")
	j, err := journal.Open(dir, key, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	e := &env{t: t, j: j, dir: dir, users: filepath.Join(root, "users"), key: key,
		runner: &fakeRunner{jobs: []string{"drill.run yb-drill", "backup.run yb-nightly"}}}
	if err := AddUser(e.users, "root.admin", RoleAdmin, adminPW, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(e.users, "li.wei", RoleAuditor, auditorPW, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(e.users, "zhang.sec", RoleSecadmin, secPW, time.Now()); err != nil {
		t.Fatal(err)
	}
	verify := func(ctx context.Context) (journal.Report, error) {
		return journal.VerifyContext(ctx, dir, key.Public().(ed25519.PublicKey), nil)
	}
	reports := &report.Maker{Config: report.Config{Sources: []report.Source{{Name: "yb-prod"}}, FileRoots: []string{"exports"},
		JournalRetention: report.Duration(180 * 24 * time.Hour)}, JournalDir: dir, Verify: verify,
		Journal:   func() (report.Journal, error) { return j, nil },
		BundleKey: func() (crypto.Signer, error) { return key, nil }}
	e.s, err = New(Options{JournalDir: dir, Journal: j, UsersFile: e.users, Runner: e.runner, Process: "atrest serve",
		Settings: Settings{Inventory: Inventory{Sources: []string{"yb-prod"}, Roots: []string{"exports"},
			Backups: []BackupJob{{Name: "yb-nightly", Source: "yb-prod", RPO: 26 * time.Hour, Format: "atrest", Suite: "sm"}},
			Drills:  []DrillJob{{Name: "yb-drill", Backup: "yb-nightly"}}}, Reports: reports},
		Verify: verify})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.s.Close() })
	return e
}

// request is one request to the handler.
type request struct {
	method, path string
	form         url.Values
	cookies      []*http.Cookie
	remote       string
	user, pw     string // Basic
	tls          bool
	header       map[string]string
}

func (e *env) do(r request) *httptest.ResponseRecorder {
	e.t.Helper()
	var body *strings.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	} else {
		body = strings.NewReader("")
	}
	if r.method == "" {
		r.method = "GET"
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range r.cookies {
		req.AddCookie(c)
	}
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pw)
	}
	if r.tls {
		req.TLS = &tls.ConnectionState{}
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.s.ServeHTTP(rec, req)
	return rec
}

func cookie(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginForm fetches the login form: its cookie and its token.
func (e *env) loginForm(remote string) (*http.Cookie, string) {
	e.t.Helper()
	rec := e.do(request{path: "/login", remote: remote})
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	c := cookie(rec, loginCookie)
	if rec.Code != 200 || m == nil || c == nil {
		e.t.Fatalf("login form: %d, token %v, cookie %v", rec.Code, m, c)
	}
	return c, m[1]
}

func (e *env) postLogin(remote, name, pw string) *httptest.ResponseRecorder {
	e.t.Helper()
	c, tok := e.loginForm(remote)
	return e.do(request{method: "POST", path: "/login", remote: remote, cookies: []*http.Cookie{c},
		form: url.Values{"csrf": {tok}, "name": {name}, "password": {pw}, "next": {"/"}}})
}

// login returns a session cookie and the session's CSRF token.
func (e *env) login(name, pw string) (*http.Cookie, string) {
	e.t.Helper()
	rec := e.postLogin("192.0.2.10:4000", name, pw)
	c := cookie(rec, sessionCookie)
	if rec.Code != http.StatusSeeOther || c == nil {
		e.t.Fatalf("login %s: %d %s", name, rec.Code, rec.Body)
	}
	page := e.do(request{path: "/", cookies: []*http.Cookie{c}})
	if loc := page.Header().Get("Location"); page.Code == http.StatusSeeOther && loc == "/users" { // a secadmin's home
		page = e.do(request{path: loc, cookies: []*http.Cookie{c}})
	}
	m := csrfRE.FindStringSubmatch(page.Body.String())
	if page.Code != 200 || m == nil {
		e.t.Fatalf("overview after login: %d", page.Code)
	}
	return c, m[1]
}

func (e *env) entries(kind string) []journal.Entry {
	e.t.Helper()
	var out []journal.Entry
	for en, err := range journal.Query(e.dir, journal.Filter{Kind: kind}) {
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, en)
	}
	return out
}

func (e *env) append(en journal.Entry) journal.Entry {
	e.t.Helper()
	st, err := e.j.Append(en)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func TestAPIRequiresBasicAuth(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/api/drills", "/api/checks", "/api/findings", "/api/journal"} {
		rec := e.do(request{path: path})
		if rec.Code != 401 || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s without credentials: %d, WWW-Authenticate %q", path, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
		rec = e.do(request{path: path, user: "li.wei", pw: "not the password", remote: "192.0.2.50:1"})
		if rec.Code != 401 {
			t.Errorf("%s with a wrong password: %d", path, rec.Code)
		}
		rec = e.do(request{path: path, user: "li.wei", pw: auditorPW})
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s with credentials: %d %s", path, rec.Code, rec.Body)
		}
		// A session cookie is no API credential.
		c, _ := e.login("li.wei", auditorPW)
		if rec := e.do(request{path: path, cookies: []*http.Cookie{c}}); rec.Code != 401 {
			t.Errorf("%s with a session cookie only: %d", path, rec.Code)
		}
	}
	fails := e.entries("login.fail")
	if len(fails) != 4 {
		t.Fatalf("login.fail entries: %d, want 4 (one per wrong password)", len(fails))
	}
	for _, f := range fails {
		if f.Subject != "li.wei" || f.Outcome != "fail" || strings.Contains(f.Detail, "not the password") {
			t.Errorf("login.fail entry: %+v", f)
		}
	}
}

func TestPagesRedirectToLoginWithoutSession(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/", "/journal?kind=drill.run", "/backups/yb-nightly", "/sources/yb-prod",
		"/roots/exports", "/drills/yb-drill", "/journal/1"} {
		rec := e.do(request{path: path})
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
			t.Errorf("GET %s: %d → %q, want 303 to /login", path, rec.Code, loc)
			continue
		}
		if next, _ := url.ParseQuery(strings.TrimPrefix(loc, "/login?")); next.Get("next") != path {
			t.Errorf("GET %s: next=%q", path, next.Get("next"))
		}
	}
	// A stale or forged cookie is no session.
	rec := e.do(request{path: "/", cookies: []*http.Cookie{{Name: sessionCookie, Value: "forged"}}})
	if rec.Code != http.StatusSeeOther {
		t.Errorf("forged session: %d", rec.Code)
	}
	// A POST without a session is refused outright.
	rec = e.do(request{method: "POST", path: "/jobs/drill.run/yb-drill/run", form: url.Values{"csrf": {"x"}}})
	if rec.Code != http.StatusForbidden {
		t.Errorf("POST without a session: %d", rec.Code)
	}
	// The login page sends a logged-in user on, but only within the site.
	c, _ := e.login("li.wei", auditorPW)
	for next, want := range map[string]string{"/journal": "/journal", "//evil.example/": "/", "https://evil.example/": "/"} {
		rec := e.do(request{path: "/login?next=" + url.QueryEscape(next), cookies: []*http.Cookie{c}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
			t.Errorf("login?next=%s with a session: %d → %q, want %q", next, rec.Code, rec.Header().Get("Location"), want)
		}
	}
}

func TestSessionCookieFlagsAndLogout(t *testing.T) {
	e := newEnv(t)
	rec := e.postLogin("192.0.2.10:4000", "li.wei", auditorPW)
	c := cookie(rec, sessionCookie)
	if rec.Code != http.StatusSeeOther || c == nil {
		t.Fatalf("login: %d", rec.Code)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
		t.Errorf("session cookie over http: %+v", c)
	}
	if len(c.Value) != 43 { // 32 random bytes, base64url
		t.Errorf("session id %d characters, want 43", len(c.Value))
	}
	ok := e.entries("login.ok")
	if len(ok) != 1 || ok[0].Subject != "li.wei" || ok[0].Actor.WebUser != "li.wei" || ok[0].Actor.Process != "atrest serve" {
		t.Errorf("login.ok entries: %+v", ok)
	}

	// Over TLS the cookies are Secure too.
	lc, tok := e.loginForm("192.0.2.11:1")
	rec = e.do(request{tls: true, path: "/login", method: "POST", remote: "192.0.2.11:1", cookies: []*http.Cookie{lc},
		form: url.Values{"csrf": {tok}, "name": {"li.wei"}, "password": {auditorPW}}})
	if sc := cookie(rec, sessionCookie); sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie over TLS: %+v", sc)
	}
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Errorf("no HSTS over TLS")
	}

	// Logout needs the token, then ends the session.
	_, csrf := e.login("li.wei", auditorPW)
	c2, csrf2 := e.login("li.wei", auditorPW)
	if rec := e.do(request{method: "POST", path: "/logout", cookies: []*http.Cookie{c2}, form: url.Values{"csrf": {csrf}}}); rec.Code != 403 {
		t.Errorf("logout with another session's token: %d", rec.Code)
	}
	rec = e.do(request{method: "POST", path: "/logout", cookies: []*http.Cookie{c2}, form: url.Values{"csrf": {csrf2}}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rec.Code)
	}
	if gone := cookie(rec, sessionCookie); gone == nil || gone.MaxAge >= 0 {
		t.Errorf("logout did not clear the cookie: %+v", gone)
	}
	if rec := e.do(request{path: "/", cookies: []*http.Cookie{c2}}); rec.Code != http.StatusSeeOther {
		t.Errorf("session after logout: %d", rec.Code)
	}
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.s.now = func() time.Time { return now }
	c, _ := e.login("li.wei", auditorPW)
	now = now.Add(29 * time.Minute)
	if rec := e.do(request{path: "/", cookies: []*http.Cookie{c}}); rec.Code != 200 {
		t.Fatalf("after 29 idle minutes: %d", rec.Code)
	}
	now = now.Add(31 * time.Minute)
	if rec := e.do(request{path: "/", cookies: []*http.Cookie{c}}); rec.Code != http.StatusSeeOther {
		t.Errorf("after 31 idle minutes: %d, want the login redirect", rec.Code)
	}
}

func TestCSRFRejected(t *testing.T) {
	e := newEnv(t)
	c, tok := e.login("root.admin", adminPW)
	_, other := e.login("li.wei", auditorPW)
	run := "/jobs/drill.run/yb-drill/run"
	for name, form := range map[string]url.Values{
		"no token":                {},
		"wrong token":             {"csrf": {"AAAA" + tok[4:]}},
		"another session's token": {"csrf": {other}},
	} {
		rec := e.do(request{method: "POST", path: run, cookies: []*http.Cookie{c}, form: form})
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, rec.Code)
		}
	}
	// A cross-site POST is refused even with the token.
	rec := e.do(request{method: "POST", path: run, cookies: []*http.Cookie{c}, form: url.Values{"csrf": {tok}},
		header: map[string]string{"Origin": "https://evil.example"}})
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d", rec.Code)
	}
	if len(e.runner.calls) != 0 {
		t.Errorf("runs started: %v", e.runner.calls)
	}
	// The login form has its own token: a POST without it, or with a token
	// that does not match the form's cookie, is refused before any password
	// check.
	lc, ltok := e.loginForm("192.0.2.20:1")
	for name, r := range map[string]request{
		"no cookie":      {form: url.Values{"csrf": {ltok}, "name": {"li.wei"}, "password": {auditorPW}}},
		"no token":       {cookies: []*http.Cookie{lc}, form: url.Values{"name": {"li.wei"}, "password": {auditorPW}}},
		"token mismatch": {cookies: []*http.Cookie{lc}, form: url.Values{"csrf": {tok}, "name": {"li.wei"}, "password": {auditorPW}}},
	} {
		r.method, r.path = "POST", "/login"
		if rec := e.do(r); rec.Code != http.StatusForbidden || cookie(rec, sessionCookie) != nil {
			t.Errorf("login with %s: %d", name, rec.Code)
		}
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	run := "/jobs/drill.run/yb-drill/run"

	c, tok := e.login("li.wei", auditorPW)
	rec := e.do(request{method: "POST", path: run, cookies: []*http.Cookie{c}, form: url.Values{"csrf": {tok}}})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "403") {
		t.Fatalf("auditor run: %d", rec.Code)
	}
	if len(e.runner.calls) != 0 {
		t.Fatalf("auditor started a run: %v", e.runner.calls)
	}
	denied := e.entries("access.denied")
	if len(denied) != 1 || denied[0].Subject != "yb-drill" || denied[0].Actor.WebUser != "li.wei" || denied[0].Outcome != "denied" {
		t.Fatalf("access.denied entries: %+v", denied)
	}
	// Auditors read everything.
	for _, p := range []string{"/", "/backups/yb-nightly", "/drills/yb-drill", "/sources/yb-prod", "/roots/exports", "/journal"} {
		if rec := e.do(request{path: p, cookies: []*http.Cookie{c}}); rec.Code != 200 {
			t.Errorf("auditor GET %s: %d", p, rec.Code)
		}
	}

	c, tok = e.login("root.admin", adminPW)
	rec = e.do(request{method: "POST", path: run, cookies: []*http.Cookie{c}, form: url.Values{"csrf": {tok}}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/drills/yb-drill?started=drill.run" {
		t.Fatalf("admin run: %d → %q", rec.Code, rec.Header().Get("Location"))
	}
	if want := []string{"drill.run yb-drill by root.admin"}; !slices.Equal(e.runner.calls, want) {
		t.Errorf("runs: %v, want %v", e.runner.calls, want)
	}
	// A job serve does not schedule cannot be started; a busy one says so.
	rec = e.do(request{method: "POST", path: "/jobs/backup.check/yb-nightly/run", cookies: []*http.Cookie{c}, form: url.Values{"csrf": {tok}}})
	if rec.Code != http.StatusNotFound {
		t.Errorf("unscheduled job: %d", rec.Code)
	}
	e.runner.err = fmt.Errorf("daemon: the job's previous run is still running")
	rec = e.do(request{method: "POST", path: run, cookies: []*http.Cookie{c}, form: url.Values{"csrf": {tok}}})
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "still running") {
		t.Errorf("busy job: %d", rec.Code)
	}

	// Deleting a user ends their sessions at once.
	if _, err := DeleteUser(e.users, "root.admin"); err != nil {
		t.Fatal(err)
	}
	if rec := e.do(request{path: "/", cookies: []*http.Cookie{c}}); rec.Code != http.StatusSeeOther {
		t.Errorf("deleted user's session: %d", rec.Code)
	}
}

func TestUnknownUserNotJournaledByName(t *testing.T) {
	e := newEnv(t)
	e.postLogin("192.0.2.30:1", "my-secret-password-typed-here", "x")
	fails := e.entries("login.fail")
	if len(fails) != 1 || fails[0].Subject != "-" || strings.Contains(fails[0].Detail, "my-secret") {
		t.Errorf("login.fail for an unknown name: %+v", fails)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(request{path: "/static/"}); rec.Code != http.StatusNotFound {
		t.Errorf("/static/ listing: %d", rec.Code)
	}
	c, _ := e.login("li.wei", auditorPW)
	for _, r := range []request{
		{path: "/login"},
		{path: "/"},
		{path: "/", cookies: []*http.Cookie{c}},
		{path: "/journal", cookies: []*http.Cookie{c}},
		{path: "/backups/yb-nightly", cookies: []*http.Cookie{c}},
		{path: "/nope", cookies: []*http.Cookie{c}},
		{path: "/api/drills"},
		{path: "/api/drills", user: "li.wei", pw: auditorPW},
		{path: "/static/style.css"},
		{path: "/static/"}, // 404: no listing
		{method: "POST", path: "/login"},
	} {
		rec := e.do(r)
		h := rec.Header()
		what := r.method + " " + r.path
		cspv := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(cspv, want) {
				t.Errorf("%s: CSP %q lacks %q", what, cspv, want)
			}
		}
		if strings.Contains(cspv, "unsafe") {
			t.Errorf("%s: CSP allows unsafe: %q", what, cspv)
		}
		for k, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "no-referrer"} {
			if h.Get(k) != want {
				t.Errorf("%s: %s = %q, want %q", what, k, h.Get(k), want)
			}
		}
		if !strings.HasPrefix(r.path, "/static/") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", what, h.Get("Cache-Control"))
		}
		if strings.Contains(strings.ToLower(rec.Body.String()), "<script") || strings.Contains(rec.Body.String(), " style=") {
			t.Errorf("%s: inline script or style in the page", what)
		}
		// Offline: nothing is loaded from another origin.
		if m := regexp.MustCompile(`(src|href)="(https?:)?//`).FindString(rec.Body.String()); m != "" {
			t.Errorf("%s: loads from another origin: %s", what, m)
		}
	}
}

// drillEntry is the entry cmd/atrest journals for a drill (drillEntry there).
func drillEntry(job string, rto float64, ok bool) journal.Entry {
	e := journal.Entry{Kind: "drill.run", Subject: job, Outcome: "ok", Detail: "backup yb/2026/11/24/x",
		Figures: map[string]any{"rpo_seconds": 12800.0, "seconds": rto + 3, "tables": 3, "tables_matched": 3,
			"rows": 957243, "digests_verified": true, "phases": map[string]any{"load_seconds": rto - 1}}}
	if ok {
		e.Figures["rto_seconds"] = rto
	} else {
		e.Outcome = "fail"
		e.Figures["failure"] = map[string]any{"digest_mismatch": 1}
		e.Detail = "digest_mismatch: table cb_ryxx"
	}
	return e
}

func TestOverviewAndAPIShowTheJournal(t *testing.T) {
	e := newEnv(t)
	e.append(journal.Entry{Kind: "scan.db", Subject: "yb-prod", Outcome: "findings", Figures: map[string]any{
		"plaintext_columns": 3, "plaintext_by_type": map[string]any{"cn_resident_id": 2, "cn_mobile": 1},
		"tables": 12, "columns_sampled": 80}})
	e.append(journal.Entry{Kind: "scan.db", Subject: "yb-prod", Outcome: "error", Detail: "server went away"})
	e.append(journal.Entry{Kind: "scan.files", Subject: "exports", Outcome: "findings", Figures: map[string]any{
		"findings": 7, "by_type": map[string]any{"bank_card": 5, "email": 2}, "files": 40}})
	bak := e.append(journal.Entry{Kind: "backup.run", Subject: "yb-nightly", Outcome: "ok", Figures: map[string]any{"bytes": 1000,
		"suite": map[string]any{"sm": 1}}})
	e.append(journal.Entry{Kind: "backup.check", Subject: "yb-nightly", Outcome: "fail", Figures: map[string]any{
		"pass": 2, "fail": 1, "checks": map[string]any{"freshness": 1, "object_lock": 0}}})
	e.append(drillEntry("yb-drill", 38.5, true))
	e.append(drillEntry("yb-drill", 0, false))
	last := e.append(drillEntry("yb-drill", 41.2, true))

	c, _ := e.login("li.wei", auditorPW)
	body := e.do(request{path: "/", cookies: []*http.Cookie{c}}).Body.String()
	card := body[strings.Index(body, `id="last-drill"`):]
	card = card[:strings.Index(card, "</section>")]
	for _, want := range []string{"yb-drill", "41.2 s", "通过 PASS", fmt.Sprintf(`href="/journal/%d"`, last.Seq), "yb-nightly"} {
		if !strings.Contains(card, want) {
			t.Errorf("last drill card lacks %q:\n%s", want, card)
		}
	}
	for _, want := range []string{"<svg", "<polyline", `class="fail"`, "新鲜 fresh", "对象锁定 object_lock",
		">3<", ">7<", "li.wei", `<td class="suite"><span class="badge good" title="SM2, SM3, SM4">国密 sm</span></td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}

	api := func(path string, v any) {
		t.Helper()
		rec := e.do(request{path: path, user: "li.wei", pw: auditorPW})
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var drills struct {
		Drills []struct {
			Job       string   `json:"job"`
			Seq       int      `json:"seq"`
			Outcome   string   `json:"outcome"`
			RTO       *float64 `json:"rto_seconds"`
			Failure   string   `json:"failure"`
			BackupJob string   `json:"backup_job"`
			Passed    bool     `json:"passed"`
		} `json:"drills"`
	}
	api("/api/drills", &drills)
	if len(drills.Drills) != 3 || drills.Drills[0].Seq != last.Seq || *drills.Drills[0].RTO != 41.2 ||
		drills.Drills[0].BackupJob != "yb-nightly" || drills.Drills[1].Passed || drills.Drills[1].Failure != "digest_mismatch" {
		t.Errorf("/api/drills: %+v", drills)
	}
	var checks struct {
		Jobs []struct {
			Job, Freshness string
			LastBackup     *ref              `json:"last_backup"`
			Checks         map[string]string `json:"checks"`
		} `json:"jobs"`
	}
	api("/api/checks", &checks)
	if len(checks.Jobs) != 1 || checks.Jobs[0].Freshness != "fresh" || checks.Jobs[0].LastBackup.Seq != bak.Seq ||
		checks.Jobs[0].Checks["object_lock"] != "fail" || checks.Jobs[0].Checks["freshness"] != "pass" {
		t.Errorf("/api/checks: %+v", checks)
	}
	var findings struct {
		Sources, Roots []struct {
			Name      string
			Plaintext int
			ByType    map[string]int `json:"by_type"`
			LastScan  *ref           `json:"last_scan"`
		}
	}
	api("/api/findings", &findings)
	if len(findings.Sources) != 1 || findings.Sources[0].Plaintext != 3 || findings.Sources[0].ByType["cn_resident_id"] != 2 ||
		findings.Sources[0].LastScan.Outcome != "error" {
		t.Errorf("/api/findings sources: %+v", findings.Sources)
	}
	if len(findings.Roots) != 1 || findings.Roots[0].Plaintext != 7 || findings.Roots[0].ByType["bank_card"] != 5 {
		t.Errorf("/api/findings roots: %+v", findings.Roots)
	}

	// The backup job's page: freshness against the RPO, turning stale.
	now := time.Now().Add(27 * time.Hour)
	e.s.now = func() time.Time { return now }
	c, _ = e.login("li.wei", auditorPW)
	page := e.do(request{path: "/backups/yb-nightly", cookies: []*http.Cookie{c}}).Body.String()
	if !strings.Contains(page, `id="freshness" class="status bad"`) || !strings.Contains(page, "yb-drill") {
		t.Errorf("backup page after the RPO: not stale")
	}
	// The job's suite, and the last good backup's.
	if !strings.Contains(page, `<dd id="suite"><span class="badge good" title="SM2, SM3, SM4">国密 sm</span></dd>`) ||
		strings.Count(page, "国密 sm") != 2 {
		t.Errorf("backup page does not show the suite")
	}
}

func TestJournalBrowserFiltersAndPages(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 120; i++ {
		kind := "backup.run"
		if i%3 == 0 {
			kind = "scan.files"
		}
		e.append(journal.Entry{Kind: kind, Subject: fmt.Sprintf("job-%d", i%2), Outcome: "ok"})
	}
	type page struct {
		Entries    []journal.Entry `json:"entries"`
		More       bool            `json:"more"`
		Newer      bool            `json:"newer"`
		NextBefore int             `json:"next_before"`
		PrevAfter  int             `json:"prev_after"`
	}
	get := func(q string) page {
		t.Helper()
		rec := e.do(request{path: "/api/journal?" + q, user: "root.admin", pw: adminPW})
		if rec.Code != 200 {
			t.Fatalf("/api/journal?%s: %d %s", q, rec.Code, rec.Body)
		}
		var p page
		json.Unmarshal(rec.Body.Bytes(), &p)
		return p
	}
	p := get("")
	if len(p.Entries) != 50 || !p.More || p.Entries[0].Kind != "login.fail" && p.Entries[0].Seq < 120 {
		t.Errorf("page 1: %d entries, more %v", len(p.Entries), p.More)
	}
	p = get("kind=scan.files&size=15&page=3")
	if len(p.Entries) != 10 || p.Entries[0].Seq != 30 || p.Entries[9].Seq != 3 || p.More || !p.Newer {
		t.Errorf("scan.files page 3 of 15: %d entries, first %d, more %v", len(p.Entries), p.Entries[0].Seq, p.More)
	}
	// Cursors walk the same pages as numbers, at any depth.
	p1 := get("kind=scan.files&size=15")
	p2 := get(fmt.Sprintf("kind=scan.files&size=15&before=%d", p1.NextBefore))
	p3 := get(fmt.Sprintf("kind=scan.files&size=15&before=%d", p2.NextBefore))
	if p1.NextBefore != 78 || len(p2.Entries) != 15 || p2.Entries[0].Seq != 75 || p3.Entries[0].Seq != 30 || len(p3.Entries) != 10 || p3.More {
		t.Errorf("before= pages: %+v / %d %d / %d %d", p1.NextBefore, len(p2.Entries), p2.Entries[0].Seq, p3.Entries[0].Seq, len(p3.Entries))
	}
	back := get(fmt.Sprintf("kind=scan.files&size=15&after=%d", p3.PrevAfter))
	if len(back.Entries) != 15 || back.Entries[0].Seq != p2.Entries[0].Seq || back.Entries[14].Seq != p2.Entries[14].Seq || !back.Newer {
		t.Errorf("after= goes back to page 2: %d entries, %+v", len(back.Entries), back)
	}
	if top := get(fmt.Sprintf("kind=scan.files&size=15&after=%d", p2.PrevAfter)); len(top.Entries) != 15 || top.Entries[0].Seq != 120 || top.Newer {
		t.Errorf("after= back to the newest page: %+v", top)
	}
	p = get("kind=backup&subject=job-1&outcome=ok")
	for _, en := range p.Entries {
		if en.Kind != "backup.run" || en.Subject != "job-1" {
			t.Errorf("filtered entry: %+v", en)
		}
	}
	if p = get("since=1h&size=500"); len(p.Entries) != 120 || p.More {
		t.Errorf("since=1h: %d", len(p.Entries))
	}
	if p = get("until=2000-01-01"); len(p.Entries) != 0 || p.More {
		t.Errorf("until=2000-01-01: %d", len(p.Entries))
	}
	for _, bad := range []string{"since=yesterday", "page=0", "size=9999", "page=1000", "before=x", "before=3&after=1"} {
		if rec := e.do(request{path: "/api/journal?" + bad, user: "root.admin", pw: adminPW}); rec.Code != 400 {
			t.Errorf("%s: %d", bad, rec.Code)
		}
	}

	c, _ := e.login("li.wei", auditorPW)
	body := e.do(request{path: "/journal?kind=scan.files&page=1", cookies: []*http.Cookie{c}}).Body.String()
	if !strings.Contains(body, "showing #120 … #3") || strings.Contains(body, "较旧 Older") {
		t.Errorf("journal page: range or pager wrong")
	}
	body = e.do(request{path: "/journal", cookies: []*http.Cookie{c}}).Body.String()
	if !strings.Contains(body, "较旧 Older") {
		t.Errorf("journal page 1 of 120+: no link to older entries")
	}
	rec := e.do(request{path: "/journal/7", cookies: []*http.Cookie{c}})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "#7") {
		t.Errorf("/journal/7: %d", rec.Code)
	}
	if rec := e.do(request{path: "/journal/99999", cookies: []*http.Cookie{c}}); rec.Code != 404 {
		t.Errorf("/journal/99999: %d", rec.Code)
	}
}

func TestVerifyStatusShown(t *testing.T) {
	e := newEnv(t)
	e.append(journal.Entry{Kind: "backup.run", Subject: "yb-nightly", Outcome: "ok"})
	if err := e.j.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	c, _ := e.login("li.wei", auditorPW)
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := e.do(request{path: "/", cookies: []*http.Cookie{c}}).Body.String()
		if strings.Contains(body, "校验通过 verified") {
			if !strings.Contains(body, "覆盖 covers 1..") {
				t.Errorf("no newest checkpoint shown")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("journal never shown as verified")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUsersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	if err := AddUser(path, "zhang.san", RoleAuditor, "short", time.Now()); err == nil {
		t.Error("short password accepted")
	}
	if err := AddUser(path, "zhang san", RoleAuditor, adminPW, time.Now()); err == nil {
		t.Error("name with a space accepted")
	}
	if err := AddUser(path, "zhang.san", Role("root"), adminPW, time.Now()); err == nil {
		t.Error("role root accepted")
	}
	if err := AddUser(path, "zhang.san", RoleAuditor, adminPW, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(path, "zhang.san", RoleAdmin, adminPW, time.Now()); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("duplicate: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), adminPW) || !strings.Contains(string(data), `"hash":"$argon2id$v=19$m=`) {
		t.Errorf("users file: %s", data)
	}
	us, err := ReadUsers(path)
	if err != nil || len(us) != 1 || !VerifyPassword(us[0].Hash, adminPW) || VerifyPassword(us[0].Hash, adminPW+"x") {
		t.Fatalf("read back: %+v %v", us, err)
	}
	if _, err := DeleteUser(path, "nobody"); err == nil {
		t.Error("deleting an unknown user succeeded")
	}
	if _, err := DeleteUser(path, "zhang.san"); err != nil {
		t.Fatal(err)
	}
	if us, _ := ReadUsers(path); len(us) != 0 {
		t.Errorf("after delete: %+v", us)
	}
	os.Chmod(path, 0o644)
	if _, err := ReadUsers(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable users file: %v", err)
	}
	os.WriteFile(path, []byte("{\"name\":\"a\",\"role\":\"admin\",\"hash\":\"plain\"}\n"), 0o600)
	os.Chmod(path, 0o600)
	if _, err := ReadUsers(path); err == nil || !strings.Contains(err.Error(), path+":1:") {
		t.Errorf("bad hash: %v", err)
	}
}

// TestBackupPageCountsTheMonthsBackups: the backup job's page answers "were
// this month's backups restorable?" backup by backup, from the items the
// jobs journal: made, read back whole, drilled, failed, unproven.
func TestBackupPageCountsTheMonthsBackups(t *testing.T) {
	e := newEnv(t)
	item := func(key, state string) []journal.Item {
		return []journal.Item{{Kind: journal.ItemBackup, Name: key, State: state}}
	}
	for _, k := range []string{"k/1", "k/2", "k/3"} {
		e.append(journal.Entry{Kind: "backup.run", Subject: "yb-nightly", Outcome: "ok", Detail: k, Items: item(k, journal.BackupMade)})
	}
	e.append(journal.Entry{Kind: "backup.check", Subject: "yb-nightly", Outcome: "ok", Items: item("k/1", journal.BackupRead)})
	e.append(journal.Entry{Kind: "drill.run", Subject: "yb-drill", Outcome: "fail", Detail: "backup k/2; integrity: digest differs",
		Items: item("k/2", journal.BackupRestoreFailed)})
	c, _ := e.login("root.admin", adminPW)
	rec := e.do(request{path: "/backups/yb-nightly", cookies: []*http.Cookie{c}})
	body := rec.Body.String()
	i := strings.Index(body, `id="coverage"`)
	if rec.Code != http.StatusOK || i < 0 {
		t.Fatalf("GET /backups/yb-nightly: %d, no coverage line", rec.Code)
	}
	line := body[i:min(len(body), i+600)]
	for _, want := range []string{"3 个备份 backups", "1 个整体读回 read back whole", "0 个经演练恢复 drilled", "1 个失败 failed", "1 个未经证明 unproven"} {
		if !strings.Contains(line, want) {
			t.Errorf("coverage line lacks %q: %s", want, line)
		}
	}
}

// TestDrillPageSaysTargetsMetOrMissed: a drill's runs show whether they met
// their RTO and RPO targets, and mark a subset drill.
func TestDrillPageSaysTargetsMetOrMissed(t *testing.T) {
	e := newEnv(t)
	e.append(journal.Entry{Kind: "drill.run", Subject: "yb-drill", Outcome: "ok", Figures: map[string]any{
		"rto_seconds": 41.2, "rto_target_seconds": 30.0, "rto_met": false, "rpo_seconds": 3600.0, "rpo_met": true,
		"tables": 4, "subset": true, "tables_not_run": 3}})
	c, _ := e.login("root.admin", adminPW)
	body := e.do(request{path: "/drills/yb-drill", cookies: []*http.Cookie{c}}).Body.String()
	for _, want := range []string{"未达标 missed", "达标 met", "部分 subset"} {
		if !strings.Contains(body, want) {
			t.Errorf("drill page lacks %q", want)
		}
	}
}
