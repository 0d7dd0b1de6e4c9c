package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/atrest/atrest/audit/journal"
)

type loginData struct {
	common
	Token string
	Next  string
	Name  string
	Error string // bilingual message for the form
}

// loginForm shows the form. Its CSRF token travels twice, in a cookie
// scoped to /login and in a hidden field; a login POST must carry both,
// equal, which a form on another site cannot (SameSite=Strict keeps the
// cookie home).
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.session(r); ok {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, code int, name, msg string) {
	tok := ""
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		tok = c.Value
	} else {
		tok = newToken()
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	s.render(w, code, "login", loginData{common: s.common(nil, "登录 Log in", ""), Token: tok,
		Next: localPath(next), Name: name, Error: msg})
}

// login checks the form through authenticate (which journals failures as
// login.fail; see there for the limits): a failure gets 401, an address
// that failed too often 429 with Retry-After, an overloaded server 503; a
// success is journaled as login.ok. The password goes no further than
// argon2id.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	c, err := r.Cookie(loginCookie)
	if !sameOrigin(r) || err != nil || !tokensEqual(r.PostFormValue("csrf"), c.Value) {
		s.errorPage(w, r, nil, http.StatusForbidden, "登录表单令牌无效，请重新打开登录页",
			"The login form's CSRF token is missing or wrong: open the login page again.")
		return
	}
	name, pw := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	u, res, wait := s.authenticate(r, name, pw, "")
	switch res {
	case rateLimited:
		w.Header().Set("Retry-After", retryAfter(wait))
		s.showLogin(w, r, http.StatusTooManyRequests, name,
			"登录失败次数过多，请稍后再试 — Too many failed logins: try again later.")
		return
	case busy:
		w.Header().Set("Retry-After", retryAfter(wait))
		s.showLogin(w, r, http.StatusServiceUnavailable, name,
			"登录请求过多，请稍后再试 — Too many logins at once: try again in a moment.")
		return
	case wrongPassword:
		s.showLogin(w, r, http.StatusUnauthorized, name, "用户名或密码错误 — Wrong user name or password.")
		return
	}
	now, ip := s.now(), clientIP(r)
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.delete(old.Value)
	}
	sess := s.sessions.create(u.Name, u.Role, now)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.id, Path: "/",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	s.journal(journal.Entry{Kind: "login.ok", Subject: u.Name, Outcome: "ok",
		Actor: journal.Actor{WebUser: u.Name}, Detail: fmt.Sprintf("from %s, role %s", ip, u.Role)})
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(q *req) {
	s.sessions.delete(q.sess.id)
	http.SetCookie(q.w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: q.r.TLS != nil, SameSite: http.SameSiteStrictMode})
	s.journal(journal.Entry{Kind: "logout", Subject: q.sess.user, Outcome: "ok",
		Actor: journal.Actor{WebUser: q.sess.user}, Detail: "from " + clientIP(q.r)})
	http.Redirect(q.w, q.r, "/login", http.StatusSeeOther)
}

// basicUser checks HTTP Basic credentials for the API, under the same
// limits and journaling as the login form (authenticate).
func (s *Server) basicUser(w http.ResponseWriter, r *http.Request) (User, bool) {
	name, pw, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="atrest", charset="UTF-8"`)
		writeJSONError(w, http.StatusUnauthorized, "authentication required: HTTP Basic with a dashboard user")
		return User{}, false
	}
	u, res, wait := s.authenticate(r, name, pw, "api")
	switch res {
	case loggedIn:
		return u, true
	case rateLimited:
		w.Header().Set("Retry-After", retryAfter(wait))
		writeJSONError(w, http.StatusTooManyRequests, "too many failed logins: try again later")
	case busy:
		w.Header().Set("Retry-After", retryAfter(wait))
		writeJSONError(w, http.StatusServiceUnavailable, "too many logins at once: try again in a moment")
	default:
		w.Header().Set("WWW-Authenticate", `Basic realm="atrest", charset="UTF-8"`)
		writeJSONError(w, http.StatusUnauthorized, "authentication required: HTTP Basic with a dashboard user")
	}
	return User{}, false
}
