package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/atrest/atrest/audit/journal"
)

type usersData struct {
	common
	Users     []User
	Roles     []Role
	CanManage bool
	Done      string // what the last change did, from the redirect
	Error     string
	Name      string // the add form, refilled after a refusal (never the password)
	NewRole   string
	Changes   []journal.Entry // the newest user.add and user.del entries
}

// usersPage lists the users and their roles; a security administrator also
// gets the forms to add and delete them. Auditors read it too.
func (s *Server) usersPage(q *req) {
	s.showUsers(q, http.StatusOK, "", "")
}

func (s *Server) showUsers(q *req, code int, msg, name string) {
	d := usersData{common: s.common(&q.sess, "用户与角色 Users and roles", "users"), Roles: Roles,
		CanManage: q.sess.role.May(ActManage), Done: q.r.URL.Query().Get("done"), Error: msg, Name: name,
		NewRole: q.r.PostFormValue("role")}
	us, err := ReadUsers(s.o.UsersFile)
	if err != nil {
		d.Error, code = oneLine(err.Error()), http.StatusInternalServerError
	}
	d.Users = us
	d.Changes, _ = newest(s.o.JournalDir, journal.Filter{Kind: "user"}, 20)
	s.render(q.w, code, "users", d)
}

// addUser (POST /users: name, role, password) adds a user for a security
// administrator, by the rules atrest user add keeps (Change.Apply), and
// journals user.add, a refusal included.
func (s *Server) addUser(q *req) {
	c := Change{Name: strings.TrimSpace(q.r.PostFormValue("name")), Role: Role(q.r.PostFormValue("role")),
		Password: q.r.PostFormValue("password"), By: q.sess.user}
	s.change(q, c)
}

// deleteUser (POST /users/{name}/delete) deletes a user for a security
// administrator; their sessions end at their next request.
func (s *Server) deleteUser(q *req) {
	s.change(q, Change{Delete: true, Name: q.r.PathValue("name"), By: q.sess.user})
}

func (s *Server) change(q *req, c Change) {
	var role Role
	var err error
	busy := s.hashes.do(q.r.Context(), hashBudgetKiB, func() {
		role, _, err = c.Apply(s.o.UsersFile, s.now())
	})
	if busy {
		q.w.Header().Set("Retry-After", "1")
		s.showUsers(q, http.StatusServiceUnavailable, "服务器正忙，请稍后再试 — Too many password hashes at once: try again in a moment.", c.Name)
		return
	}
	e := ChangeEntry(c, role, false, err)
	e.Detail += ", from " + s.clientIP(q.r)
	s.journal(e)
	if err != nil {
		code := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrUserExists), errors.Is(err, ErrLastSecadmin):
			code = http.StatusConflict
		case errors.Is(err, ErrNoSuchUser):
			code = http.StatusNotFound
		case errors.Is(err, ErrNeedSecadmin):
			code = http.StatusForbidden
		}
		s.showUsers(q, code, "未更改 Not changed: "+oneLine(err.Error()), c.Name)
		return
	}
	done := "added " + c.Name + " (" + string(role) + ")"
	if c.Delete {
		done = "deleted " + c.Name + " (" + string(role) + ")"
	}
	http.Redirect(q.w, q.r, "/users?done="+url.QueryEscape(done), http.StatusSeeOther)
}
