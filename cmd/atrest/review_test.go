package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/web"
)

// A review is an authenticated act of an auditor: --as and the password on
// stdin. Without --as, with a wrong password, or as another role it is
// refused (exit 2) and journaled (access.denied, login.fail), and the
// report's 8.1.5.2 stays not met; root naming the auditor without the
// password no longer meets it. The auditor's own review does.
func TestAuditReview(t *testing.T) {
	e := newReportEnv(t)
	const auditorPW, opsPW, secPW = "审计员 correct horse battery", "ops correct horse battery", "sec correct horse battery"
	for _, u := range []struct {
		name string
		role web.Role
		pw   string
	}{{"li.wei", web.RoleAuditor, auditorPW}, {"ops", web.RoleSysadmin, opsPW}, {"zhang.sec", web.RoleSecadmin, secPW}} {
		if err := web.AddUser(e.conf.HTTP.UsersFile, u.name, u.role, u.pw, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	review := func(stdin string, args ...string) (string, string, int) {
		return atrestIn(t, stdin, append([]string{"audit", "review", "--config", e.cfg, "--period", e.period}, args...)...)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"--note", "   "}, "--note"},
		{auditorPW, []string{"--note", "found 11010519491231002X in exports", "--as", "li.wei"}, "cn_resident_id"},
		{"", []string{"--note", "ok"}, "a review is an authenticated act of an audit administrator: give --as NAME"},
		{"", []string{"--note", "ok", "--as", "li.wei"}, "empty password on stdin"},
		{"not the password\n", []string{"--note", "ok", "--as", "li.wei"}, "wrong user name or password"},
		{auditorPW + "\n", []string{"--note", "ok", "--as", "nobody"}, "wrong user name or password"},
		{opsPW + "\n", []string{"--note", "ok", "--as", "ops"}, "ops is sysadmin, and only the auditor may record reviews"},
		{secPW + "\n", []string{"--note", "ok", "--as", "zhang.sec"}, "zhang.sec is secadmin, and only the auditor may record reviews"},
		{"", []string{"--note", "ok", "--as", "bad name!"}, "user name"},
	} {
		_, stderr, code := review(c.stdin, c.args...)
		if code != exitCantRun || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "11010519491231002X") ||
			(c.stdin != "" && strings.Contains(stderr, strings.TrimSpace(c.stdin))) {
			t.Errorf("%v: exit %d, stderr %q; want 2 with %q", c.args, code, stderr, c.want)
		}
	}
	if n := count(t, e, "review"); n != 0 {
		t.Fatalf("%d reviews journaled by refused runs", n)
	}
	var refused []string
	for _, k := range []string{"access.denied", "login.fail"} {
		for en := range journal.Query(e.conf.JournalDir(), journal.Filter{Kind: k}) {
			refused = append(refused, en.Kind+" "+en.Subject+" by "+en.Actor.WebUser)
		}
	}
	want := []string{"access.denied " + e.period + " by ", "access.denied ops by ops", "access.denied zhang.sec by zhang.sec",
		"login.fail li.wei by ", "login.fail - by "}
	if strings.Join(refused, "|") != strings.Join(want, "|") {
		t.Errorf("refusals journaled:\n %s\nwant\n %s", strings.Join(refused, "\n "), strings.Join(want, "\n "))
	}
	if v := reportVerdict(t, e, "MLPS-8.1.5.2"); v != "not_met" {
		t.Errorf("after refused reviews: %s", v)
	}

	// What root could write before: the auditor named, no password.
	if err := record(e.conf, journal.Entry{Kind: "review", Subject: e.period, Outcome: "ok", Detail: "looked at it",
		Actor: journal.Actor{WebUser: "li.wei"}, Figures: map[string]any{"auditor": true}}); err != nil {
		t.Fatal(err)
	}
	if v := reportVerdict(t, e, "MLPS-8.1.5.2"); v != "partly_met" {
		t.Errorf("after an unauthenticated review: %s", v)
	}

	out, stderr, code := review(auditorPW+"\n", "--note", "Q4 reviewed: mobile numbers in exports, ticket SEC-88", "--as", "li.wei")
	if code != exitOK || !strings.Contains(out, "by the auditor li.wei (authenticated)") || strings.Contains(out+stderr, auditorPW) {
		t.Fatalf("auditor review: exit %d: %s%s", code, out, stderr)
	}
	var last journal.Entry
	for en := range journal.Query(e.conf.JournalDir(), journal.Filter{Kind: "review"}) {
		last = en
	}
	if last.Actor.WebUser != "li.wei" || last.Subject != e.period || last.Figures["authenticated"] != true || !strings.Contains(last.Detail, "SEC-88") {
		t.Errorf("review entry %+v", last)
	}
	if v := reportVerdict(t, e, "MLPS-8.1.5.2"); v != "met" {
		t.Errorf("after the auditor's review: %s", v)
	}
}

func count(t *testing.T, e *reportEnv, kind string) int {
	n := 0
	for _, err := range journal.Query(e.conf.JournalDir(), journal.Filter{Kind: kind}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func reportVerdict(t *testing.T, e *reportEnv, id string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "r.json")
	if _, stderr, code := atrest(t, "report", "--config", e.cfg, "--period", e.period, "--format", "json", "-o", out); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(out)
	var doc reportDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	v, _ := doc.control(t, id)
	return v
}
