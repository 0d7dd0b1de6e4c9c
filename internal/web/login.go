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

// login checks the form. Failures count against the client's address and
// the user name; the sixth within the window (and every attempt after it,
// right password or not) gets 429 until the oldest failure leaves the
// window. Each failure is journaled as login.fail, a block once per window
// and key; a success as login.ok. The password goes no further than
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
	now, ip := s.now(), clientIP(r)
	u, known, uerr := s.users.lookup(name)
	if uerr != nil {
		s.logf("users file: %s", oneLine(uerr.Error()))
	}
	// A name that is no user is not journaled: it may be a password typed
	// into the wrong field.
	subject := name
	if !known {
		subject = "-"
	}
	ipKey, userKey := "ip "+ip, "user "+name
	if s.throttled(ipKey, userKey, subject, "from "+ip) {
		s.logf("login: refused from %s: rate limited", ip)
		w.Header().Set("Retry-After", fmt.Sprint(int(s.o.LoginWindow.Seconds())))
		s.showLogin(w, r, http.StatusTooManyRequests, name,
			"登录失败次数过多，请稍后再试 — Too many failed logins: try again later.")
		return
	}
	hash := dummyHash()
	if known {
		hash = u.Hash
	}
	if !VerifyPassword(hash, pw) || !known {
		s.limit.fail(ipKey, now)
		s.limit.fail(userKey, now)
		why := "wrong password"
		if !known {
			why = "unknown user name (not recorded)"
		}
		s.journal(journal.Entry{Kind: "login.fail", Subject: subject, Outcome: "fail",
			Detail: fmt.Sprintf("from %s: %s", ip, why)})
		s.logf("login: failed from %s", ip)
		s.showLogin(w, r, http.StatusUnauthorized, name, "用户名或密码错误 — Wrong user name or password.")
		return
	}
	s.limit.reset(userKey)
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
// limits and journaling as the login form.
func (s *Server) basicUser(w http.ResponseWriter, r *http.Request) (User, bool) {
	name, pw, ok := r.BasicAuth()
	now, ip := s.now(), clientIP(r)
	unauthorized := func() {
		w.Header().Set("WWW-Authenticate", `Basic realm="atrest", charset="UTF-8"`)
		writeJSONError(w, http.StatusUnauthorized, "authentication required: HTTP Basic with a dashboard user")
	}
	if !ok {
		unauthorized()
		return User{}, false
	}
	u, known, uerr := s.users.lookup(name)
	if uerr != nil {
		s.logf("users file: %s", oneLine(uerr.Error()))
	}
	subject := name
	if !known {
		subject = "-"
	}
	ipKey, userKey := "ip "+ip, "user "+name
	if s.throttled(ipKey, userKey, subject, "api, from "+ip) {
		w.Header().Set("Retry-After", fmt.Sprint(int(s.o.LoginWindow.Seconds())))
		writeJSONError(w, http.StatusTooManyRequests, "too many failed logins: try again later")
		return User{}, false
	}
	if known {
		tag := s.basic.tag(u, pw)
		if s.basic.ok(tag, now) {
			return u, true
		}
		if VerifyPassword(u.Hash, pw) {
			s.basic.put(tag, now)
			s.limit.reset(userKey)
			return u, true
		}
	} else {
		VerifyPassword(dummyHash(), pw)
	}
	s.limit.fail(ipKey, now)
	s.limit.fail(userKey, now)
	why := "wrong password"
	if !known {
		why = "unknown user name (not recorded)"
	}
	s.journal(journal.Entry{Kind: "login.fail", Subject: subject, Outcome: "fail",
		Detail: fmt.Sprintf("api, from %s: %s", ip, why)})
	unauthorized()
	return User{}, false
}

// throttled reports whether the address or the user name has used up its
// failures in the window. The first refusal of each blocked key in a window
// is journaled (login.fail, outcome rate_limited); later ones are not, so a
// client that keeps trying cannot fill the journal.
func (s *Server) throttled(ipKey, userKey, subject, from string) bool {
	now := s.now()
	ipBlocked, userBlocked := s.limit.blocked(ipKey, now), s.limit.blocked(userKey, now)
	if !ipBlocked && !userBlocked {
		return false
	}
	var noted []string
	if ipBlocked && s.limit.note(ipKey, now) {
		noted = append(noted, "this address")
	}
	if userBlocked && s.limit.note(userKey, now) {
		noted = append(noted, "this user name")
	}
	if len(noted) > 0 {
		s.journal(journal.Entry{Kind: "login.fail", Subject: subject, Outcome: "rate_limited",
			Detail: fmt.Sprintf("%s: %d failed logins within %s for %s; further attempts refused, and not journaled, until the window passes",
				from, s.o.LoginFailures, s.o.LoginWindow, strings.Join(noted, " and "))})
	}
	return true
}
