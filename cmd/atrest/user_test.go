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

func userEntries(t *testing.T, cfg *config.Config) []journal.Entry {
	t.Helper()
	var out []journal.Entry
	for e, err := range journal.Query(cfg.JournalDir(), journal.Filter{Kind: "user"}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestUserAddDel(t *testing.T) {
	cfgPath, cfg := newUserEnv(t)
	const pw = "一二三四 five six seven"
	out, stderr, code := atrestIn(t, pw+"\n", "user", "add", "--config", cfgPath, "--role", "auditor", "li.wei")
	if code != 0 {
		t.Fatalf("user add: exit %d: %s", code, stderr)
	}
	if strings.Contains(out+stderr, pw) || !strings.Contains(out, "li.wei (auditor) added to "+cfg.HTTP.UsersFile) {
		t.Errorf("user add said: %q %q", out, stderr)
	}
	fi, err := os.Stat(cfg.HTTP.UsersFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file %s: %v %v", cfg.HTTP.UsersFile, fi, err)
	}
	data, _ := os.ReadFile(cfg.HTTP.UsersFile)
	if bytes.Contains(data, []byte(pw)) {
		t.Fatal("the password is in the users file")
	}
	us, err := web.ReadUsers(cfg.HTTP.UsersFile)
	if err != nil || len(us) != 1 || us[0].Name != "li.wei" || us[0].Role != web.RoleAuditor || !web.VerifyPassword(us[0].Hash, pw) {
		t.Fatalf("users: %+v %v", us, err)
	}
	if !strings.HasPrefix(us[0].Hash, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Errorf("hash parameters: %s", us[0].Hash)
	}

	// Without the trailing newline, as from printf, and as JSON.
	out, stderr, code = atrestIn(t, "root admin password", "user", "add", "--config", cfgPath, "--role", "admin", "--format", "jsonl", "root.admin")
	var rec map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &rec) != nil || rec["record"] != "user" || rec["role"] != "admin" {
		t.Fatalf("user add admin: exit %d: %q %s", code, out, stderr)
	}

	// Refusals: exit 2, a one-line error, nothing changed.
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"another long password\n", []string{"add", "--role", "admin", "li.wei"}, "already exists"},
		{"\n", []string{"add", "--role", "auditor", "zhang.san"}, "empty password"},
		{"", []string{"add", "--role", "auditor", "zhang.san"}, "empty password"},
		{"s4ort\n", []string{"add", "--role", "auditor", "zhang.san"}, "shorter than 12"},
		{"a long enough password\n", []string{"add", "--role", "root", "zhang.san"}, "want admin or auditor"},
		{"a long enough password\n", []string{"add", "--role", "auditor", "../etc"}, "user name"},
		{"", []string{"del", "nobody"}, "no such user"},
	} {
		args := append([]string{"user", c.args[0], "--config", cfgPath}, c.args[1:]...)
		out, stderr, code := atrestIn(t, c.stdin, args...)
		if code != exitCantRun || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("atrest %s: exit %d, stderr %q, want %q", strings.Join(args, " "), code, stderr, c.want)
		}
		if strings.TrimSpace(c.stdin) != "" && strings.Contains(out+stderr, strings.TrimSpace(c.stdin)) {
			t.Errorf("atrest %s echoed the password", strings.Join(args, " "))
		}
	}
	if after, _ := os.ReadFile(cfg.HTTP.UsersFile); len(after) == 0 || bytes.Count(after, []byte("\n")) != 2 {
		t.Errorf("users file after refusals: %s", after)
	}

	if out, stderr, code := atrest(t, "user", "del", "--config", cfgPath, "li.wei"); code != 0 || !strings.Contains(out, "li.wei (auditor) deleted") {
		t.Fatalf("user del: exit %d: %s %s", code, out, stderr)
	}
	if us, _ := web.ReadUsers(cfg.HTTP.UsersFile); len(us) != 1 || us[0].Name != "root.admin" {
		t.Errorf("after del: %+v", us)
	}

	// The journal: each command, refusals included, by name and role only.
	var got []string
	for _, e := range userEntries(t, cfg) {
		got = append(got, e.Kind+" "+e.Subject+" "+e.Outcome)
		for _, secret := range []string{pw, "root admin password", "argon2", "another long password"} {
			if strings.Contains(e.Detail+e.Subject, secret) {
				t.Errorf("journal entry %d carries %q: %+v", e.Seq, secret, e)
			}
		}
		if e.Actor.OSUser == "" || e.Actor.Process == "" {
			t.Errorf("journal entry without an actor: %+v", e)
		}
	}
	want := []string{"user.add li.wei ok", "user.add root.admin ok", "user.add li.wei error", "user.del nobody error", "user.del li.wei ok"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("journal:\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
	if out, stderr, code := atrest(t, "audit", "verify", "--config", cfgPath); code != 0 {
		t.Errorf("audit verify: exit %d: %s %s", code, out, stderr)
	}
}
