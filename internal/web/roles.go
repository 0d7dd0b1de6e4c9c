package web

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// Role is what a dashboard user may do. The three roles are separated
// (三权分立, GB/T 22239-2019 8.1.4.2 and 8.1.5): no user holds two, and
// no role may do what another's line holds.
type Role string

const (
	// RoleSysadmin (系统管理员) runs jobs and reads their results.
	RoleSysadmin Role = "sysadmin"
	// RoleSecadmin (安全管理员) manages users and their roles; they read
	// no results and run nothing.
	RoleSecadmin Role = "secadmin"
	// RoleAuditor (审计管理员) reads everything, makes reports and
	// evidence bundles, verifies the journal and records reviews; they
	// change nothing.
	RoleAuditor Role = "auditor"
	// RoleAdmin is what users files and scripts from before the three roles
	// call the system administrator; it is read as RoleSysadmin.
	RoleAdmin Role = "admin"
)

// Roles lists the roles in the order pages and reports show them.
var Roles = []Role{RoleSysadmin, RoleSecadmin, RoleAuditor}

// ParseRole checks a role name; admin is read as sysadmin.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleSysadmin, RoleSecadmin, RoleAuditor:
		return r, nil
	case RoleAdmin:
		return RoleSysadmin, nil
	}
	return "", fmt.Errorf("role %q: want sysadmin, secadmin or auditor (admin is read as sysadmin; one role per user)", s)
}

// Label is the role's name in Chinese and English.
func (r Role) Label() string {
	switch r {
	case RoleSysadmin:
		return "系统管理员 sysadmin"
	case RoleSecadmin:
		return "安全管理员 secadmin"
	case RoleAuditor:
		return "审计管理员 auditor"
	}
	return string(r)
}

// Action is something a role may or may not do.
type Action string

const (
	ActRead   Action = "read"   // the results: overview, sources, roots, backups, drills, journal, API
	ActRun    Action = "run"    // start a run of a scheduled job
	ActUsers  Action = "users"  // see the users and their roles
	ActManage Action = "manage" // add and delete users
	ActAudit  Action = "audit"  // period reports, evidence bundles, verification on demand
	ActReview Action = "review" // record a review of a period
)

// grants is the role matrix; every check of the dashboard and the CLI
// asks it (Role.May).
var grants = map[Role][]Action{
	RoleSysadmin: {ActRead, ActRun},
	RoleSecadmin: {ActUsers, ActManage},
	RoleAuditor:  {ActRead, ActUsers, ActAudit, ActReview},
}

// May reports whether r may do a.
func (r Role) May(a Action) bool { return slices.Contains(grants[r], a) }

// holders are the names of the users who hold r.
func holders(us []User, r Role) []string {
	var out []string
	for _, u := range us {
		if u.Role == r {
			out = append(out, u.Name)
		}
	}
	return out
}

// mayDo names the roles that may do a: "auditor", "sysadmin or auditor".
func mayDo(a Action) string {
	var names []string
	for _, r := range Roles {
		if r.May(a) {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, " or ")
}

var actionZH = map[Action]string{
	ActRead: "查看结果", ActRun: "启动任务", ActUsers: "查看用户", ActManage: "管理用户",
	ActAudit: "生成报告或校验日志", ActReview: "记录审阅",
}

var actionText = map[Action]string{
	ActRead: "read results", ActRun: "start runs", ActUsers: "see users", ActManage: "manage users",
	ActAudit: "make reports or verify the journal", ActReview: "record reviews",
}

// ErrWrongPassword is a user name and password that do not match (or a name
// that is no user: the two are not told apart).
var ErrWrongPassword = errors.New("wrong user name or password")

// ErrNotAllowed is a user whose role may not do what was asked.
var ErrNotAllowed = errors.New("not allowed")

// Authenticate checks a user's password against the users file, for the
// command line (`--as NAME`, the password on stdin). A name that is no
// user costs the same hash.
func Authenticate(path, name, pw string) (User, error) {
	us, err := ReadUsers(path)
	if err != nil {
		return User{}, err
	}
	for _, u := range us {
		if u.Name == name {
			if VerifyPassword(u.Hash, pw) {
				return u, nil
			}
			return User{}, ErrWrongPassword
		}
	}
	VerifyPassword(dummyHash(), pw)
	return User{}, ErrWrongPassword
}

// Allow refuses u an action their role does not hold, with an error that
// says who may.
func Allow(u User, a Action) error {
	if u.Role.May(a) {
		return nil
	}
	return fmt.Errorf("%w: %s is %s, and only the %s may %s", ErrNotAllowed, u.Name, u.Role, mayDo(a), actionText[a])
}

// Refusals of a change to the users file by whom it was asked.
var (
	// ErrNeedSecadmin: the file has security administrators, and the
	// change was asked without being one of them (root on the host, say).
	ErrNeedSecadmin = errors.New("only a security administrator may change users")
	// ErrBootstrap: the file has no security administrator yet, and the
	// change was not to add the first.
	ErrBootstrap = errors.New("no security administrator yet")
)

// Change is one change to the users file, asked by the security
// administrator By (whose password the caller has checked: the session,
// or --as and stdin), or with By empty by root on the host.
type Change struct {
	Delete   bool // else add
	Name     string
	Role     Role   // to add
	Password string // to add
	By       string
}

// Apply makes the change under the users file's lock, by the rules the
// command line and the dashboard share:
//
//   - Only a security administrator changes users: By must be one, in the
//     file as it is now.
//   - While the file has no security administrator, root on the host (By
//     empty) may add the first one, and do nothing else: the bootstrap.
//     Once there is one, By empty is refused (ErrNeedSecadmin).
//   - A name holds one role: an existing name is refused; to change a role,
//     delete the user and add them again.
//   - The last security administrator cannot be deleted.
//
// It returns the role of the user added or deleted, and whether the change
// was the bootstrap.
func (c Change) Apply(path string, now time.Time) (role Role, bootstrap bool, err error) {
	if !c.Delete {
		if err := CheckName(c.Name); err != nil {
			return "", false, err
		}
		if c.Role, err = ParseRole(string(c.Role)); err != nil {
			return "", false, err
		}
		if err := CheckPassword(c.Password); err != nil {
			return "", false, err
		}
	}
	err = editUsers(path, func(us []User) ([]User, error) {
		sec := holders(us, RoleSecadmin)
		switch {
		case c.By == "" && len(sec) > 0:
			return nil, fmt.Errorf("%w: act as one of them (%s) with --as NAME", ErrNeedSecadmin, strings.Join(sec, ", "))
		case c.By == "" && (c.Delete || c.Role != RoleSecadmin):
			return nil, fmt.Errorf("%w: the first change must add one (atrest user add --role secadmin NAME)", ErrBootstrap)
		case c.By != "" && !slices.Contains(sec, c.By):
			return nil, fmt.Errorf("%w: %s is not one", ErrNeedSecadmin, c.By)
		}
		bootstrap = c.By == ""
		if c.Delete {
			var gone User
			us, err := deleteUser(us, c.Name, &gone)
			role = gone.Role
			return us, err
		}
		role = c.Role
		return addUser(us, c.Name, c.Role, c.Password, now)
	})
	return role, bootstrap, err
}

// Tag is how a name goes into an entry's figures, which hold counts and
// never strings (they could carry a value): a map of the name to 1, as
// figures.failure holds a drill's failure class.
func Tag(name string) map[string]any { return map[string]any{name: 1} }

// ChangeEntry is the journal's account of a change to the users file
// (user.add, user.del), from the command line and the dashboard alike:
// the user's name as subject, their role (figures.role), who made the
// change (actor.web_user; none for the bootstrap, made by root on the
// host), and a refusal's reason. Never the password or its hash.
func ChangeEntry(c Change, role Role, bootstrap bool, err error) journal.Entry {
	action := map[bool]string{false: "add", true: "del"}[c.Delete]
	if role == "" {
		role = c.Role
	}
	e := journal.Entry{Kind: "user." + action, Subject: c.Name, Outcome: "ok", Detail: "role " + string(role),
		Actor: journal.Actor{WebUser: c.By}, Figures: map[string]any{}}
	if role != "" {
		e.Figures["role"] = Tag(string(role))
	}
	if bootstrap {
		e.Figures["bootstrap"] = true
		e.Detail += ": bootstrap, the first security administrator, added on the host"
	}
	if err != nil {
		e.Outcome, e.Detail = "error", oneLine(err.Error())
		if errors.Is(err, ErrNeedSecadmin) {
			e.Kind, e.Outcome = "access.denied", "denied"
			e.Detail = "user " + action + " " + c.Name + ": " + e.Detail
		}
	}
	return e
}
