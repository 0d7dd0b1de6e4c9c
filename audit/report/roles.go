package report

import (
	"maps"
	"slices"
	"strings"

	"github.com/atrest/atrest/audit/journal"
)

// The three separated roles of the dashboard (三权分立): who held each at
// the end of the period and what each did in it, read from the journal
// alone: user.add and user.del say who was given which role and by whom,
// login.ok which role a user logged in with, and actor.web_user who did
// what. The report reads no users file: the journal is the record.

// RoleUsers is one role and the users who held it in the period.
type RoleUsers struct {
	Role  string       `json:"role"` // sysadmin, secadmin, auditor
	Label Text         `json:"label"`
	Users []UserRecord `json:"users"`
}

// UserRecord is one user: when they got the role (and were removed), and
// their journaled acts in the period by kind.
type UserRecord struct {
	Name    string `json:"name"`
	Added   *Ref   `json:"added,omitempty"`    // user.add, if journaled
	AddedBy string `json:"added_by,omitempty"` // the secadmin, or "bootstrap"
	Removed *Ref   `json:"removed,omitempty"`  // user.del in the period
	// Acts counts the period's entries with this user as actor.web_user,
	// by kind (login.ok, review, report, drill.run, access.denied …).
	Acts map[string]int `json:"acts"`
}

// roleLabels name the roles; admin is what users files called the system
// administrator before the three roles.
var roleLabels = []struct {
	Role  string
	Label Text
}{
	{"sysadmin", Text{"系统管理员：运行任务、查看结果", "system administrator: runs jobs, reads results"}},
	{"secadmin", Text{"安全管理员：管理用户与角色", "security administrator: manages users and roles"}},
	{"auditor", Text{"审计管理员：查看全部、生成报告、记录审阅", "audit administrator: reads everything, makes reports, records reviews"}},
}

// roleTracker folds user.add, user.del and login.ok entries into who holds
// which role, and counts the period's acts per web user.
type roleTracker struct {
	users map[string]*trackedUser
}

type trackedUser struct {
	role    string
	added   *Ref
	addedBy string
	removed *Ref
	gone    bool // deleted before the period
	acts    map[string]int
}

func newRoleTracker() *roleTracker { return &roleTracker{users: map[string]*trackedUser{}} }

// see takes one entry dated before the period's end; inPeriod says it is
// dated inside the period.
func (t *roleTracker) see(e journal.Entry, inPeriod bool) {
	switch {
	case e.Kind == "user.add" && e.Outcome == "ok":
		if role := entryRole(e); role != "" {
			u := t.user(e.Subject)
			r := refOf(e)
			u.role, u.added, u.removed, u.gone = role, &r, nil, false
			u.addedBy = e.Actor.WebUser
			if flag(e, "bootstrap") || u.addedBy == "" {
				u.addedBy = "bootstrap"
			}
		}
	case e.Kind == "user.del" && e.Outcome == "ok":
		if u, ok := t.users[e.Subject]; ok {
			r := refOf(e)
			u.removed, u.gone = &r, !inPeriod
		}
	case e.Kind == "login.ok":
		if role := entryRole(e); role != "" {
			u := t.user(e.Subject)
			if u.role == "" || u.gone {
				u.role, u.gone = role, false
			}
		}
	}
	if inPeriod && e.Actor.WebUser != "" {
		t.user(e.Actor.WebUser).acts[e.Kind]++
	}
}

func (t *roleTracker) user(name string) *trackedUser {
	u, ok := t.users[name]
	if !ok {
		u = &trackedUser{acts: map[string]int{}}
		t.users[name] = u
	}
	return u
}

// roles lists each role with its users, by name; users deleted before
// the period, or of no known role, are left out.
func (t *roleTracker) roles() []RoleUsers {
	var out []RoleUsers
	for _, rl := range roleLabels {
		ru := RoleUsers{Role: rl.Role, Label: rl.Label, Users: []UserRecord{}}
		for _, name := range slices.Sorted(maps.Keys(t.users)) {
			u := t.users[name]
			if u.role != rl.Role || u.gone {
				continue
			}
			ru.Users = append(ru.Users, UserRecord{Name: name, Added: u.added, AddedBy: u.addedBy, Removed: u.removed, Acts: u.acts})
		}
		out = append(out, ru)
	}
	return out
}

// entryRole reads the role of a user.add or login.ok entry: figures.role
// ({"auditor": 1}),
// or, in entries from before it was written, the detail ("role auditor",
// "from 10.0.0.5, role admin"). admin is the system administrator.
func entryRole(e journal.Entry) string {
	var role string
	if m, ok := e.Figures["role"].(map[string]any); ok {
		for k := range m {
			role = k
		}
	}
	if role == "" {
		if _, after, ok := strings.Cut(e.Detail, "role "); ok {
			role, _, _ = strings.Cut(after, " ")
			role = strings.TrimRight(role, ",;:")
		}
	}
	switch role {
	case "admin":
		return "sysadmin"
	case "sysadmin", "secadmin", "auditor":
		return role
	}
	return ""
}
