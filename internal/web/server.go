package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Appender journals the dashboard's own events; *journal.Journal is one.
type Appender interface {
	Append(journal.Entry) (journal.Entry, error)
}

// Runner starts runs of scheduled jobs; *daemon.Daemon is one.
type Runner interface {
	// RunNow starts kind/name at once on behalf of webUser, through the
	// scheduler's one-run-per-job path; an error says why it did not start.
	RunNow(kind, name, webUser string) error
	// Jobs lists the scheduled jobs as "kind name".
	Jobs() []string
}

// Inventory is what the configuration names: pages exist for these even
// before the journal mentions them, and the backup jobs' RPOs judge
// freshness.
type Inventory struct {
	Sources []string
	Roots   []string
	Backups []BackupJob
	Drills  []DrillJob
}

// BackupJob is a backups[] entry.
type BackupJob struct {
	Name   string
	Source string
	RPO    time.Duration
	Format string
	// Suite is the job's crypto suite (standard or sm): what its new
	// backups are made with.
	Suite string
}

// DrillJob is a drills[] entry.
type DrillJob struct {
	Name   string
	Backup string
}

// Settings are what the dashboard takes from the configuration. Configure
// replaces them when serve reloads it (SIGHUP), so names and labels follow.
type Settings struct {
	Inventory Inventory
	// Location is the time zone pages show times in (config timezone),
	// each with its offset; nil: the host's.
	Location *time.Location
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (http.trusted_proxies).
	TrustedProxies []netip.Prefix
	// Reports makes the officer's period reports and evidence bundles;
	// nil: the audit page offers none.
	Reports *report.Maker
}

// Options configure a Server.
type Options struct {
	Settings
	// JournalDir is the journal the pages are views of.
	JournalDir string
	// Journal takes the dashboard's own entries (login.ok, login.fail,
	// logout, access.denied, user.add, user.del, review, verify). Required.
	Journal   Appender
	UsersFile string
	// Runner starts runs for system administrators; nil: no page can
	// start one.
	Runner Runner
	// Verify verifies the journal (signatures, chain, anchor); the result
	// is cached for VerifyEvery (default 10 minutes). Nil: not shown.
	Verify      func(context.Context) (journal.Report, error)
	VerifyEvery time.Duration
	// Process is the actor.process of the dashboard's entries.
	Process string
	Now     func() time.Time // default time.Now
	Log     io.Writer        // one line per refused login or run; default io.Discard

	// Defaults: 30 minutes idle, 12 hours in all. Failed logins: 5 free
	// per address and per user name; after that an address is refused
	// (429) for 1 s, doubling with each further failure up to LoginWindow,
	// and a user name's attempts wait 1 s, doubling up to 10 s; a key
	// that fails no more for LoginWindow (15 minutes) is forgotten.
	SessionIdle   time.Duration
	SessionMax    time.Duration
	LoginFailures int
	LoginWindow   time.Duration
}

// userMaxDelay caps a user name's login delay: enough to make guessing
// slow, short enough that its owner, from another address, still gets in.
const userMaxDelay = 10 * time.Second

// Server is the dashboard's http.Handler.
type Server struct {
	o        Options
	now      func() time.Time
	mux      *http.ServeMux
	pages    map[string]*template.Template
	users    *userDB
	sessions *sessions
	// ipLimit refuses addresses that failed too often; userLimit delays
	// user names that did; hashes bounds the password hashing under way.
	ipLimit, userLimit *penalties
	hashes             *hashGate
	checking           singleflight.Group // password checks under way, by address and credentials
	sleep              func(context.Context, time.Duration) error
	basic              *basicCache
	view               *view
	verify             *verifyCache
	set                atomic.Pointer[Settings]
}

// Cookie names. The login cookie carries the login form's CSRF token
// (double submit: there is no session yet to hold it).
const (
	sessionCookie = "atrest_session"
	loginCookie   = "atrest_login"
)

// csp allows the embedded stylesheet and nothing else from anywhere: no
// script, no frame, no plugin, forms only to this origin.
const csp = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// New returns the dashboard. It reads nothing yet: the users file and the
// journal are read on the first request, and again as they change.
func New(o Options) (*Server, error) {
	if o.Journal == nil || o.JournalDir == "" {
		return nil, errors.New("web: no journal")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.VerifyEvery <= 0 {
		o.VerifyEvery = 10 * time.Minute
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 30 * time.Minute
	}
	if o.SessionMax <= 0 {
		o.SessionMax = 12 * time.Hour
	}
	if o.LoginFailures <= 0 {
		o.LoginFailures = 5
	}
	if o.LoginWindow <= 0 {
		o.LoginWindow = 15 * time.Minute
	}
	s := &Server{o: o, now: o.Now, users: &userDB{path: o.UsersFile},
		sessions:  newSessions(o.SessionIdle, o.SessionMax, 10000),
		ipLimit:   newPenalties(o.LoginFailures, o.LoginWindow, o.LoginWindow),
		userLimit: newPenalties(o.LoginFailures, o.LoginWindow, userMaxDelay),
		hashes:    newHashGate(hashBudgetKiB),
		sleep:     sleepCtx,
		basic:     newBasicCache(5 * time.Minute),
		view:      newView(o.JournalDir),
		verify:    newVerifyCache(o.Verify, o.VerifyEvery, o.Now)}
	s.Configure(o.Settings)
	pages, err := parsePages(s.funcs())
	if err != nil {
		return nil, err
	}
	s.pages = pages
	s.routes()
	return s, nil
}

// Configure replaces the settings; pages served after it use the new ones.
func (s *Server) Configure(set Settings) {
	if set.Location == nil {
		set.Location = time.Local
	}
	s.set.Store(&set)
}

func (s *Server) settings() *Settings { return s.set.Load() }

// SetRunner gives the dashboard the daemon that starts runs, which is made
// after the dashboard it serves. Call it before serving.
func (s *Server) SetRunner(r Runner) { s.o.Runner = r }

// Close stops a journal verification under way.
func (s *Server) Close() error {
	s.verify.close()
	return nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	m.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
	m.HandleFunc("GET /login", s.loginForm)
	m.HandleFunc("POST /login", s.login)
	// Every page and action names what it needs (roles.go has the matrix).
	m.Handle("POST /logout", s.page("", s.logout))
	m.Handle("GET /{$}", s.page(ActRead, s.overview))
	m.Handle("GET /sources/{name}", s.page(ActRead, s.sourcePage))
	m.Handle("GET /roots/{name}", s.page(ActRead, s.rootPage))
	m.Handle("GET /backups/{name}", s.page(ActRead, s.backupPage))
	m.Handle("GET /drills/{name}", s.page(ActRead, s.drillPage))
	m.Handle("GET /jobs/{kind}/{name}", s.page(ActRead, s.jobPage))
	m.Handle("POST /jobs/{kind}/{name}/run", s.page(ActRun, s.runJob))
	m.Handle("GET /journal", s.page(ActRead, s.journalPage))
	m.Handle("GET /journal/{seq}", s.page(ActRead, s.entryPage))
	m.Handle("GET /users", s.page(ActUsers, s.usersPage))
	m.Handle("POST /users", s.page(ActManage, s.addUser))
	m.Handle("POST /users/{name}/delete", s.page(ActManage, s.deleteUser))
	m.Handle("GET /audit", s.page(ActAudit, s.auditPage))
	m.Handle("POST /report", s.page(ActAudit, s.makeReport))
	m.Handle("POST /verify", s.page(ActAudit, s.verifyNow))
	m.Handle("POST /reviews", s.page(ActReview, s.addReview))
	m.Handle("GET /api/drills", s.api(ActRead, s.apiDrills))
	m.Handle("GET /api/checks", s.api(ActRead, s.apiChecks))
	m.Handle("GET /api/findings", s.api(ActRead, s.apiFindings))
	m.Handle("GET /api/journal", s.api(ActRead, s.apiJournal))
	s.mux = m
}

// ServeHTTP sets the security headers on every response, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "public, max-age=300")
	} else {
		h.Set("Cache-Control", "no-store")
	}
	if s.secure(r) {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	s.mux.ServeHTTP(w, r)
}

// req is one authenticated page request.
type req struct {
	w    http.ResponseWriter
	r    *http.Request
	sess session
}

// page wraps a handler that needs a logged-in user whose role may do a
// ("": any role). Without a live session a GET is sent to the login form;
// anything else is refused with 403, as is a POST without this session's
// CSRF token or from another site. A role that may not do a gets 403 and
// the attempt is journaled (access.denied), except the overview, from
// which a security administrator, who reads no results, is sent to the
// users page.
func (s *Server) page(a Action, fn func(*req)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.session(r)
		get := r.Method == http.MethodGet || r.Method == http.MethodHead
		if !ok {
			if get {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, nil, http.StatusForbidden, "未登录或会话已过期", "Not logged in, or the session expired.")
			return
		}
		if !get {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !s.sameOrigin(r) {
				s.errorPage(w, r, &sess, http.StatusForbidden, "跨站请求被拒绝", "Cross-site request refused.")
				return
			}
			if !tokensEqual(r.PostFormValue("csrf"), sess.csrf) {
				s.logf("csrf: %s %s by %s refused: missing or wrong token", r.Method, r.URL.Path, sess.user)
				s.errorPage(w, r, &sess, http.StatusForbidden, "表单令牌无效，请刷新页面后重试", "The form's CSRF token is missing or wrong: reload the page and try again.")
				return
			}
		}
		q := &req{w: w, r: r, sess: sess}
		if a != "" && !sess.role.May(a) {
			if get && r.URL.Path == "/" {
				http.Redirect(w, r, home(sess.role), http.StatusSeeOther)
				return
			}
			s.deny(q, a)
			return
		}
		fn(q)
	})
}

// home is where a role's pages start.
func home(r Role) string {
	if r.May(ActRead) {
		return "/"
	}
	return "/users"
}

// deny answers 403 to a request its user's role may not make, and journals
// the attempt (access.denied): who, in which role, what, from where. The
// subject is what was asked for: the job, the user, else the path.
func (s *Server) deny(q *req, a Action) {
	subject := q.r.PathValue("name")
	if subject == "" {
		subject = q.r.URL.Path
	}
	s.journal(journal.Entry{Kind: "access.denied", Subject: subject, Outcome: "denied",
		Actor:   journal.Actor{WebUser: q.sess.user},
		Figures: map[string]any{"role": Tag(string(q.sess.role)), "action": Tag(string(a))},
		Detail: fmt.Sprintf("%s %s may not %s (%s %s; only the %s may), from %s",
			q.sess.role, q.sess.user, actionText[a], q.r.Method, q.r.URL.Path, mayDo(a), s.clientIP(q.r))})
	s.logf("%s %s: refused for %s %s", q.r.Method, q.r.URL.Path, q.sess.role, q.sess.user)
	s.errorPage(q.w, q.r, &q.sess, http.StatusForbidden, fmt.Sprintf("%s不能%s，此次尝试已记入审计日志", q.sess.role.Label(), actionZH[a]),
		fmt.Sprintf("A %s may not %s: only the %s may. The attempt has been journaled.", q.sess.role, actionText[a], mayDo(a)))
}

// session returns the request's live session. A session whose user was
// deleted or changed role since login ends here.
func (s *Server) session(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	sess, ok := s.sessions.get(c.Value, s.now())
	if !ok {
		return session{}, false
	}
	u, ok, _ := s.users.lookup(sess.user)
	if !ok || u.Role != sess.role {
		s.sessions.delete(sess.id)
		return session{}, false
	}
	return sess, true
}

// sameOrigin refuses a request a browser marks as cross-site. The CSRF
// token is the real check; this is a second one that costs nothing. Origin
// "null" is what a browser sends under Referrer-Policy no-referrer.
func (s *Server) sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	scheme := "http"
	if s.secure(r) {
		scheme = "https"
	}
	return o == scheme+"://"+r.Host
}

// journal appends one of the dashboard's own entries. A failure is logged:
// the request it records has been answered either way.
func (s *Server) journal(e journal.Entry) {
	e.Actor.Process = s.o.Process
	if _, err := s.o.Journal.Append(e); err != nil {
		s.logf("journal: %s %s: %s", e.Kind, e.Subject, oneLine(err.Error()))
	}
}

func (s *Server) logf(format string, args ...any) {
	fmt.Fprintf(s.o.Log, "%s atrest serve: web: %s\n", s.now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// render executes a page template into a buffer first, so that a template
// error is a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "base", data); err != nil {
		s.logf("render %s: %s", name, oneLine(err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// common is what every page's layout needs.
type common struct {
	Title  string
	User   string
	Role   Role
	CSRF   string
	Now    time.Time
	Active string // nav entry
	Zone   string // the time zone times are shown in
}

func (s *Server) common(sess *session, title, active string) common {
	c := common{Title: title, Now: s.now(), Active: active, Zone: zoneName(s.settings().Location, s.now())}
	if sess != nil {
		c.User, c.Role, c.CSRF = sess.user, sess.role, sess.csrf
	}
	return c
}

// zoneName names loc for people: its IANA name, or for the host's zone
// (no timezone in the config), its abbreviation and offset now.
func zoneName(loc *time.Location, now time.Time) string {
	if loc == time.Local {
		return now.In(loc).Format("MST -07:00")
	}
	return loc.String()
}

type errorData struct {
	common
	Code    int
	Status  string
	Chinese string
	English string
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, sess *session, code int, zh, en string) {
	s.render(w, code, "error", errorData{common: s.common(sess, http.StatusText(code), ""),
		Code: code, Status: http.StatusText(code), Chinese: zh, English: en})
}
