package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// Each role is refused outside its line, on pages, actions and the API
// alike: 403, and an access.denied entry with the user's name and role.
// What a role may do works.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t)
	type try struct {
		name   string
		method string
		path   string
		form   url.Values
		api    bool
		// what each role gets
		sys, sec, aud int
	}
	tries := []try{
		{"overview", "GET", "/", nil, false, 200, 303, 200},
		{"backup page", "GET", "/backups/yb-nightly", nil, false, 200, 403, 200},
		{"journal", "GET", "/journal", nil, false, 200, 403, 200},
		{"run a job", "POST", "/jobs/drill.run/yb-drill/run", url.Values{}, false, 303, 403, 403},
		{"users page", "GET", "/users", nil, false, 403, 200, 200},
		{"add a user", "POST", "/users", url.Values{"name": {"wang.new"}, "role": {"auditor"}, "password": {"a password long enough"}}, false, 403, 303, 403},
		{"delete a user", "POST", "/users/wang.new/delete", url.Values{}, false, 403, 303, 403},
		{"audit page", "GET", "/audit", nil, false, 403, 403, 200},
		{"report", "POST", "/report", url.Values{"period": {"2026-12"}, "format": {"json"}}, false, 403, 403, 200},
		{"verify now", "POST", "/verify", url.Values{}, false, 403, 403, 200},
		{"review", "POST", "/reviews", url.Values{"period": {"2026-12"}, "note": {"reviewed the month"}}, false, 403, 403, 303},
		{"API findings", "GET", "/api/findings", nil, true, 200, 403, 200},
		{"API journal", "GET", "/api/journal", nil, true, 200, 403, 200},
	}
	users := []struct {
		name, pw string
		role     Role
		code     func(try) int
	}{
		{"root.admin", adminPW, RoleSysadmin, func(x try) int { return x.sys }},
		{"zhang.sec", secPW, RoleSecadmin, func(x try) int { return x.sec }},
		{"li.wei", auditorPW, RoleAuditor, func(x try) int { return x.aud }},
	}
	for _, u := range users {
		c, tok := e.login(u.name, u.pw)
		before := len(e.entries("access.denied"))
		want := 0
		for _, x := range tries {
			r := request{method: x.method, path: x.path}
			if x.api {
				r.user, r.pw = u.name, u.pw
			} else {
				r.cookies = []*http.Cookie{c}
			}
			if x.form != nil {
				r.form = url.Values{"csrf": {tok}}
				for k, v := range x.form {
					r.form[k] = v
				}
			}
			rec := e.do(r)
			if rec.Code != u.code(x) {
				t.Errorf("%s (%s) %s: %d, want %d", u.name, u.role, x.name, rec.Code, u.code(x))
			}
			if rec.Code == 403 {
				want++
				if !x.api && !strings.Contains(rec.Body.String(), "记入审计日志") {
					t.Errorf("%s %s: the 403 page does not say the attempt was journaled", u.name, x.name)
				}
			}
		}
		denied := e.entries("access.denied")[before:]
		if len(denied) != want {
			t.Errorf("%s: %d access.denied entries, want %d", u.name, len(denied), want)
		}
		for _, d := range denied {
			if d.Actor.WebUser != u.name || d.Outcome != "denied" || !strings.HasPrefix(d.Detail, string(u.role)+" "+u.name+" may not") {
				t.Errorf("%s: access.denied entry %+v", u.name, d)
			}
			if r, _ := d.Figures["role"].(map[string]any); r[string(u.role)] == nil {
				t.Errorf("%s: access.denied figures %v", u.name, d.Figures)
			}
		}
	}
	// Only the sysadmin's run started, and the secadmin's added user is gone
	// again; nobody else's attempt changed anything.
	if want := []string{"drill.run yb-drill by root.admin"}; !slices.Equal(e.runner.calls, want) {
		t.Errorf("runs: %v", e.runner.calls)
	}
	us, _ := ReadUsers(e.users)
	if len(us) != 3 {
		t.Errorf("users after the matrix: %+v", us)
	}
	if n := len(e.entries("review")); n != 1 {
		t.Errorf("%d reviews journaled, want the auditor's one", n)
	}
}

// The security administrator's users page keeps the rules the command
// line keeps: one role per name, a password policy, never the last
// security administrator deleted; every change and refusal is journaled by
// the secadmin's name, never with the password.
func TestUsersPage(t *testing.T) {
	e := newEnv(t)
	c, tok := e.login("zhang.sec", secPW)
	post := func(path string, form url.Values) *httptest.ResponseRecorder {
		form.Set("csrf", tok)
		return e.do(request{method: "POST", path: path, cookies: []*http.Cookie{c}, form: form})
	}
	page := e.do(request{path: "/users", cookies: []*http.Cookie{c}}).Body.String()
	for _, want := range []string{"root.admin", "系统管理员 sysadmin", "安全管理员 secadmin", "审计管理员 auditor", `id="add-user"`, `id="role-matrix"`} {
		if !strings.Contains(page, want) {
			t.Errorf("users page lacks %q", want)
		}
	}
	const newPW = "新审计员的长密码 2026"
	if rec := post("/users", url.Values{"name": {"wang.audit"}, "role": {"auditor"}, "password": {newPW}}); rec.Code != 303 ||
		!strings.HasPrefix(rec.Header().Get("Location"), "/users?done=") {
		t.Fatalf("add: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	for _, x := range []struct {
		form url.Values
		code int
		want string
	}{
		{url.Values{"name": {"wang.audit"}, "role": {"sysadmin"}, "password": {newPW}}, 409, "one role per user"},
		{url.Values{"name": {"zhao"}, "role": {"auditor"}, "password": {"short"}}, 400, "shorter than 12"},
		{url.Values{"name": {"zhao"}, "role": {"auditor,sysadmin"}, "password": {newPW}}, 400, "one role per user"},
		{url.Values{"name": {"../etc"}, "role": {"auditor"}, "password": {newPW}}, 400, "user name"},
	} {
		rec := post("/users", x.form)
		if rec.Code != x.code || !strings.Contains(rec.Body.String(), x.want) || strings.Contains(rec.Body.String(), newPW) {
			t.Errorf("add %v: %d, want %d with %q", x.form, rec.Code, x.code, x.want)
		}
	}
	if rec := post("/users/zhang.sec/delete", url.Values{}); rec.Code != 409 || !strings.Contains(rec.Body.String(), "last security administrator") {
		t.Errorf("delete the last secadmin: %d", rec.Code)
	}
	// The new auditor logs in; deleting them ends the session.
	wc, _ := e.login("wang.audit", newPW)
	if rec := post("/users/wang.audit/delete", url.Values{}); rec.Code != 303 {
		t.Fatalf("delete: %d", rec.Code)
	}
	if rec := e.do(request{path: "/audit", cookies: []*http.Cookie{wc}}); rec.Code != http.StatusSeeOther {
		t.Errorf("a deleted user's session: %d", rec.Code)
	}
	var got []string
	for _, en := range e.entries("user") {
		got = append(got, en.Kind+" "+en.Subject+" "+en.Outcome+" by "+en.Actor.WebUser)
		if strings.Contains(en.Detail, newPW) || strings.Contains(en.Detail, "argon2") {
			t.Errorf("entry %d carries the password or hash", en.Seq)
		}
	}
	want := []string{"user.add wang.audit ok by zhang.sec", "user.add wang.audit error by zhang.sec", "user.add zhao error by zhang.sec",
		"user.add zhao error by zhang.sec", "user.add ../etc error by zhang.sec", "user.del zhang.sec error by zhang.sec",
		"user.del wang.audit ok by zhang.sec"}
	if !slices.Equal(got, want) {
		t.Errorf("user entries:\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
	if add := e.entries("user.add")[0]; add.Figures["role"].(map[string]any)["auditor"] == nil {
		t.Errorf("user.add figures: %v", add.Figures)
	}
}

// A users file from before the three roles names "admin": it keeps
// working, read as sysadmin, and is written back as sysadmin at the next
// change.
func TestLegacyAdminIsSysadmin(t *testing.T) {
	e := newEnv(t)
	data, _ := os.ReadFile(e.users)
	if !strings.Contains(string(data), `"role":"sysadmin"`) {
		t.Fatalf("AddUser with admin wrote: %s", data)
	}
	os.WriteFile(e.users, []byte(strings.Replace(string(data), `"role":"sysadmin"`, `"role":"admin"`, 1)), 0o600)
	us, err := ReadUsers(e.users)
	if err != nil || us[0].Role != RoleSysadmin {
		t.Fatalf("read: %+v %v", us, err)
	}
	c, tok := e.login("root.admin", adminPW)
	if who := e.do(request{path: "/", cookies: []*http.Cookie{c}}).Body.String(); !strings.Contains(who, "root.admin · 系统管理员 sysadmin") {
		t.Errorf("the page does not name the sysadmin")
	}
	if rec := e.do(request{method: "POST", path: "/jobs/drill.run/yb-drill/run", cookies: []*http.Cookie{c}, form: url.Values{"csrf": {tok}}}); rec.Code != 303 {
		t.Errorf("legacy admin run: %d", rec.Code)
	}
	if ok := e.entries("login.ok"); ok[len(ok)-1].Figures["role"].(map[string]any)["sysadmin"] == nil {
		t.Errorf("login.ok figures: %v", ok[len(ok)-1].Figures)
	}
	if _, _, err := (Change{Name: "x.y", Role: RoleAuditor, Password: adminPW, By: "zhang.sec"}).Apply(e.users, time.Now()); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(e.users); strings.Contains(string(data), `"admin"`) {
		t.Errorf("admin written back: %s", data)
	}
}

// The rules of Change.Apply, which atrest user add|del use too.
func TestChangeRules(t *testing.T) {
	path := t.TempDir() + "/users"
	apply := func(c Change) (Role, bool, error) { return c.Apply(path, time.Now()) }
	if _, _, err := apply(Change{Name: "ops", Role: RoleSysadmin, Password: adminPW}); err == nil || !strings.Contains(err.Error(), "no security administrator yet") {
		t.Errorf("bootstrap with a sysadmin: %v", err)
	}
	if _, boot, err := apply(Change{Name: "zhang.sec", Role: RoleSecadmin, Password: secPW}); err != nil || !boot {
		t.Fatalf("bootstrap: %v %v", boot, err)
	}
	if _, _, err := apply(Change{Name: "other.sec", Role: RoleSecadmin, Password: secPW}); err == nil || !strings.Contains(err.Error(), "act as one of them (zhang.sec)") {
		t.Errorf("second change without --as: %v", err)
	}
	if _, _, err := apply(Change{Name: "ops", Role: RoleSysadmin, Password: adminPW, By: "ops"}); err == nil || !strings.Contains(err.Error(), "ops is not one") {
		t.Errorf("change by a non-secadmin: %v", err)
	}
	if role, boot, err := apply(Change{Name: "ops", Role: RoleAdmin, Password: adminPW, By: "zhang.sec"}); err != nil || boot || role != RoleSysadmin {
		t.Errorf("add by the secadmin: %s %v %v", role, boot, err)
	}
	if _, _, err := apply(Change{Delete: true, Name: "zhang.sec", By: "zhang.sec"}); err == nil {
		t.Errorf("deleted the last secadmin")
	}
	e := ChangeEntry(Change{Name: "x", Role: RoleAuditor}, "", false, ErrNeedSecadmin)
	if e.Kind != "access.denied" || e.Outcome != "denied" {
		t.Errorf("a refusal for want of a secadmin: %+v", e)
	}
	if e := ChangeEntry(Change{Name: "zhang.sec", Role: RoleSecadmin}, RoleSecadmin, true, nil); e.Figures["bootstrap"] != true || e.Actor.WebUser != "" {
		t.Errorf("bootstrap entry: %+v", e)
	}
}
