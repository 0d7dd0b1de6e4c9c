package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/web"
)

// atrestIn is atrest with stdin.
func atrestIn(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// newUserEnv is an initialised installation with no users.
func newUserEnv(t *testing.T) (cfgPath string, cfg *config.Config) {
	t.Helper()
	dir := t.TempDir()
	cfgPath = filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfgPath, []byte("state_dir: state\nfingerprint_key_file: keys/fp.key\njournal:\n  signing_key_file: keys/j.key\n"), 0o644)
	if out, stderr, code := atrest(t, "init", "--config", cfgPath); code != 0 {
		t.Fatalf("init: exit %d: %s %s", code, out, stderr)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	return cfgPath, cfg
}

func TestUserAddDel(t *testing.T) {
	cfgPath, cfg := newUserEnv(t)
	const secPW, pw = "安全管理员 zhang's password", "一二三四 five six seven"

	// The bootstrap: root on the host adds the first security administrator.
	out, stderr, code := atrestIn(t, secPW+"\n", "user", "add", "--config", cfgPath, "--role", "secadmin", "zhang.sec")
	if code != 0 || !strings.Contains(out, "zhang.sec (secadmin) added to "+cfg.HTTP.UsersFile+" (bootstrap") {
		t.Fatalf("bootstrap: exit %d: %q %s", code, out, stderr)
	}
	fi, err := os.Stat(cfg.HTTP.UsersFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file %s: %v %v", cfg.HTTP.UsersFile, fi, err)
	}

	// Then the secadmin adds users: their password first, the new one next.
	out, stderr, code = atrestIn(t, secPW+"\n"+pw+"\n", "user", "add", "--config", cfgPath, "--as", "zhang.sec", "--role", "auditor", "li.wei")
	if code != 0 {
		t.Fatalf("user add: exit %d: %s", code, stderr)
	}
	if strings.Contains(out+stderr, pw) || strings.Contains(out+stderr, secPW) || !strings.Contains(out, "li.wei (auditor) added to "+cfg.HTTP.UsersFile+" (by zhang.sec)") {
		t.Errorf("user add said: %q %q", out, stderr)
	}
	data, _ := os.ReadFile(cfg.HTTP.UsersFile)
	if bytes.Contains(data, []byte(pw)) || bytes.Contains(data, []byte(secPW)) {
		t.Fatal("a password is in the users file")
	}
	us, err := web.ReadUsers(cfg.HTTP.UsersFile)
	if err != nil || len(us) != 2 || us[1].Name != "li.wei" || us[1].Role != web.RoleAuditor || !web.VerifyPassword(us[1].Hash, pw) {
		t.Fatalf("users: %+v %v", us, err)
	}
	if !strings.HasPrefix(us[1].Hash, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Errorf("hash parameters: %s", us[1].Hash)
	}

	// --role admin is the sysadmin; without the trailing newline, as from
	// printf, and as JSON.
	out, stderr, code = atrestIn(t, secPW+"\nroot admin password", "user", "add", "--config", cfgPath, "--as", "zhang.sec", "--role", "admin", "--format", "jsonl", "root.admin")
	var rec map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rec) != nil || rec["record"] != "user" || rec["role"] != "sysadmin" || rec["by"] != "zhang.sec" {
		t.Fatalf("user add admin: exit %d: %q %s", code, out, stderr)
	}

	// Refusals: exit 2, a one-line error, nothing changed.
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"another long password\n", []string{"add", "--role", "auditor", "zhang.san"}, "only a security administrator may change users: act as one of them (zhang.sec)"},
		{secPW + "\nanother long password\n", []string{"add", "--as", "zhang.sec", "--role", "sysadmin", "li.wei"}, "already exists: li.wei (auditor; one role per user"},
		{secPW + "\n\n", []string{"add", "--as", "zhang.sec", "--role", "auditor", "zhang.san"}, "empty password on stdin: new password for zhang.san"},
		{secPW + "\n", []string{"add", "--as", "zhang.sec", "--role", "auditor", "zhang.san"}, "goes on line 2"},
		{secPW + "\ns4ort\n", []string{"add", "--as", "zhang.sec", "--role", "auditor", "zhang.san"}, "shorter than 12"},
		{secPW + "\na long enough password\n", []string{"add", "--as", "zhang.sec", "--role", "root", "zhang.san"}, "want sysadmin, secadmin or auditor"},
		{secPW + "\na long enough password\n", []string{"add", "--as", "zhang.sec", "--role", "auditor,sysadmin", "zhang.san"}, "one role per user"},
		{secPW + "\na long enough password\n", []string{"add", "--as", "zhang.sec", "--role", "auditor", "../etc"}, "user name"},
		{"not the password\na long enough password\n", []string{"add", "--as", "zhang.sec", "--role", "auditor", "zhang.san"}, "wrong user name or password"},
		{pw + "\na long enough password\n", []string{"add", "--as", "li.wei", "--role", "auditor", "zhang.san"}, "li.wei is auditor, and only the secadmin may manage users"},
		{"root admin password\n", []string{"del", "--as", "root.admin", "li.wei"}, "root.admin is sysadmin, and only the secadmin may manage users"},
		{"", []string{"del", "li.wei"}, "only a security administrator may change users"},
		{secPW + "\n", []string{"del", "--as", "zhang.sec", "nobody"}, "no such user"},
		{secPW + "\n", []string{"del", "--as", "zhang.sec", "zhang.sec"}, "cannot delete the last security administrator"},
	} {
		args := append([]string{"user", c.args[0], "--config", cfgPath}, c.args[1:]...)
		out, stderr, code := atrestIn(t, c.stdin, args...)
		if code != exitCantRun || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("atrest %s: exit %d, stderr %q, want %q", strings.Join(args, " "), code, stderr, c.want)
		}
		for _, line := range strings.Split(c.stdin, "\n") {
			if line != "" && strings.Contains(out+stderr, line) {
				t.Errorf("atrest %s echoed a password", strings.Join(args, " "))
			}
		}
	}
	if after, _ := os.ReadFile(cfg.HTTP.UsersFile); bytes.Count(after, []byte("\n")) != 3 {
		t.Errorf("users file after refusals: %s", after)
	}

	if out, stderr, code := atrestIn(t, secPW+"\n", "user", "del", "--config", cfgPath, "--as", "zhang.sec", "li.wei"); code != 0 || !strings.Contains(out, "li.wei (auditor) deleted") {
		t.Fatalf("user del: exit %d: %s %s", code, out, stderr)
	}
	if us, _ := web.ReadUsers(cfg.HTTP.UsersFile); len(us) != 2 || us[1].Name != "root.admin" {
		t.Errorf("after del: %+v", us)
	}

	// The journal: each command, refusals included, by name and role only;
	// who acted, and each attempt across a line as access.denied with the
	// user's name.
	var got []string
	for e, err := range journal.Query(cfg.JournalDir(), journal.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.Kind, "user.") && e.Kind != "access.denied" && e.Kind != "login.fail" {
			continue
		}
		got = append(got, e.Kind+" "+e.Subject+" "+e.Outcome+" by "+e.Actor.WebUser)
		for _, secret := range []string{pw, secPW, "root admin password", "argon2", "another long password", "not the password"} {
			if strings.Contains(e.Detail+e.Subject, secret) {
				t.Errorf("journal entry %d carries %q: %+v", e.Seq, secret, e)
			}
		}
		if e.Actor.OSUser == "" || e.Actor.Process == "" {
			t.Errorf("journal entry without an actor: %+v", e)
		}
	}
	want := []string{
		"user.add zhang.sec ok by ", "user.add li.wei ok by zhang.sec", "user.add root.admin ok by zhang.sec",
		"access.denied zhang.san denied by ", "user.add li.wei error by zhang.sec",
		"login.fail zhang.sec fail by ", "access.denied li.wei denied by li.wei", "access.denied root.admin denied by root.admin",
		"access.denied li.wei denied by ", "user.del nobody error by zhang.sec", "user.del zhang.sec error by zhang.sec",
		"user.del li.wei ok by zhang.sec"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("journal:\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
	if out, stderr, code := atrest(t, "audit", "verify", "--config", cfgPath); code != 0 {
		t.Errorf("audit verify: exit %d: %s %s", code, out, stderr)
	}
}
