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

// A review by a confirmed auditor meets MLPS-8.1.5.2; a note with an
// identifier, or an unknown user, is refused and nothing is journaled.
func TestAuditReview(t *testing.T) {
	e := newReportEnv(t)
	if err := web.AddUser(e.conf.HTTP.UsersFile, "li.wei", web.RoleAuditor, "correct horse battery", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := web.AddUser(e.conf.HTTP.UsersFile, "ops", web.RoleAdmin, "correct horse battery", time.Now()); err != nil {
		t.Fatal(err)
	}
	review := func(args ...string) (string, string, int) {
		return atrest(t, append([]string{"audit", "review", "--config", e.cfg, "--period", e.period}, args...)...)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--note", "ok"}, ""},
		{[]string{"--note", "   "}, "--note"},
		{[]string{"--note", "found 11010519491231002X in exports"}, "cn_resident_id"},
		{[]string{"--note", "ok", "--as", "nobody"}, `no user "nobody"`},
		{[]string{"--note", "ok", "--as", "bad name!"}, "user name"},
	} {
		if c.want == "" {
			continue
		}
		_, stderr, code := review(c.args...)
		if code != exitCantRun || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "11010519491231002X") {
			t.Errorf("%v: exit %d, stderr %q; want 2 with %q", c.args, code, stderr, c.want)
		}
	}
	if n := count(t, e, "review"); n != 0 {
		t.Fatalf("%d reviews journaled by refused runs", n)
	}

	// An admin's review is journaled but not an auditor's: partly met.
	if out, stderr, code := review("--note", "looked at the drills", "--as", "ops"); code != exitOK || !strings.Contains(out, "confirmed: false") {
		t.Fatalf("admin review: exit %d: %s%s", code, out, stderr)
	}
	if v := reportVerdict(t, e, "MLPS-8.1.5.2"); v != "partly_met" {
		t.Errorf("after an admin's review: %s", v)
	}
	out, stderr, code := review("--note", "Q4 reviewed: mobile numbers in exports, ticket SEC-88", "--as", "li.wei")
	if code != exitOK || !strings.Contains(out, "by li.wei (auditor role confirmed: true)") {
		t.Fatalf("auditor review: exit %d: %s%s", code, out, stderr)
	}
	var last journal.Entry
	for en := range journal.Query(e.conf.JournalDir(), journal.Filter{Kind: "review"}) {
		last = en
	}
	if last.Actor.WebUser != "li.wei" || last.Subject != e.period || last.Figures["auditor"] != true || !strings.Contains(last.Detail, "SEC-88") {
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
