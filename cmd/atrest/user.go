package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/web"
)

func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add and delete dashboard users (sysadmin, secadmin, auditor)",
		Long: `The dashboard of atrest serve lets in the users listed in http.users_file
(default state_dir/users): one JSON object a line with the name, the role and an
argon2id hash of the password (with its parameters and salt), mode 0600, replaced
atomically. serve reads it again when it changes: no restart is needed, and a
deleted user's sessions end at their next request.

Three separated roles (三权分立); a user holds one:

  sysadmin  system administrator: runs jobs and reads their results
  secadmin  security administrator: adds and deletes users and their roles;
            reads no results, runs nothing, reviews nothing
  auditor   audit administrator: reads everything, makes reports and evidence
            bundles, verifies the journal, records reviews; changes nothing

A users file that says admin is read as sysadmin (and --role admin means it).

Who may change users: only a security administrator. On an installation without
one, root on the host adds the first (the bootstrap, journaled as such):

  atrest user add --config FILE --role secadmin zhang.sec

From then on every change names the security administrator who makes it with
--as NAME, whose password is the first line of stdin (then, for add, the new
user's password on the second); a change without --as, or --as a user of another
role, is refused (exit 2) and journaled as access.denied, a wrong password as
login.fail. The dashboard's users page keeps the same rules.

Both commands are journaled (user.add, user.del, with the role and who made the
change), never with a password or its hash.`,
	}
	cmd.AddCommand(newUserAddCmd(), newUserDelCmd())
	return cmd
}

type userOptions struct {
	configPath string
	role       string
	format     string
	as         string
}

func newUserAddCmd() *cobra.Command {
	var o userOptions
	cmd := &cobra.Command{
		Use:   "add --config FILE --role sysadmin|secadmin|auditor [--as SECADMIN] NAME",
		Short: "Add a dashboard user; passwords are read from stdin",
		Long: fmt.Sprintf(`add reads the passwords from stdin: with --as, first the security
administrator's own, then the new user's (at least %d characters); without --as
(the bootstrap of the first security administrator) only the new user's. On a
terminal it asks without echo (the new password twice); otherwise it reads one
line each (so a password manager or a script can pipe them in). No password is
ever echoed, logged or journaled: the users file keeps an argon2id hash, the
journal an entry user.add with the name, the role and who added it. An existing
name is refused: a user holds one role (delete it first to change it).

`, web.MinPasswordLen) + exitHelp,
		Example: `  atrest user add --config /etc/atrest/atrest.yaml --role secadmin zhang.sec      # the first, on the host
  printf '%s\n%s\n' "$SEC_PW" "$NEW_PW" | atrest user add --config atrest.yaml --as zhang.sec --role auditor li.wei`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runUserAdd(cmd, o, args[0]) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	cmd.Flags().StringVar(&o.role, "role", "", "sysadmin, secadmin or auditor (required; admin means sysadmin)")
	cmd.Flags().StringVar(&o.as, "as", "", "the security administrator making the change (their password: the first line of stdin)")
	cmd.Flags().StringVar(&o.format, "format", "table", "table, json or jsonl")
	cmd.MarkFlagRequired("role")
	return cmd
}

func newUserDelCmd() *cobra.Command {
	var o userOptions
	cmd := &cobra.Command{
		Use:   "del --config FILE --as SECADMIN NAME",
		Short: "Delete a dashboard user; their sessions end at once",
		Long: `del removes the user from http.users_file and journals user.del. The security
administrator named by --as makes the change; their password is read from stdin.
An unknown name is refused, and so is the last security administrator.

` + exitHelp,
		Example: `  echo "$SEC_PW" | atrest user del --config /etc/atrest/atrest.yaml --as zhang.sec li.wei`,
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return runUserDel(cmd, o, args[0]) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	cmd.Flags().StringVar(&o.as, "as", "", "the security administrator making the change (their password: stdin)")
	cmd.Flags().StringVar(&o.format, "format", "table", "table, json or jsonl")
	return cmd
}

// userRecord is what user add and del print with --format json|jsonl.
type userRecord struct {
	Record    string `json:"record"`
	Action    string `json:"action"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	By        string `json:"by,omitempty"` // the secadmin; empty for the bootstrap
	Bootstrap bool   `json:"bootstrap,omitempty"`
	UsersFile string `json:"users_file"`
}

func runUserAdd(cmd *cobra.Command, o userOptions, name string) error {
	if err := checkUserFormat(o.format); err != nil {
		return err
	}
	role, err := web.ParseRole(o.role)
	if err != nil {
		return fmt.Errorf("user add: --%w", err)
	}
	if err := web.CheckName(name); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	return changeUsers(cmd, cfg, o.format, web.Change{Name: name, Role: role, By: o.as})
}

func runUserDel(cmd *cobra.Command, o userOptions, name string) error {
	if err := checkUserFormat(o.format); err != nil {
		return err
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	return changeUsers(cmd, cfg, o.format, web.Change{Delete: true, Name: name, By: o.as})
}

func checkUserFormat(f string) error {
	switch f {
	case "table", "json", "jsonl":
		return nil
	}
	return fmt.Errorf("--format %q: want table, json or jsonl", f)
}

// changeUsers opens the journal first, so that a change it could not record
// is not made; authenticates the security administrator of --as (their
// password the first line of stdin); reads the new user's password (the
// next line); makes the change by the rules web.Change.Apply keeps, and
// journals the outcome, a refusal included.
func changeUsers(cmd *cobra.Command, cfg *config.Config, format string, c web.Change) error {
	action := map[bool]string{false: "add", true: "del"}[c.Delete]
	j, err := openJournal(cfg)
	if err != nil {
		return fmt.Errorf("user %s: %w", action, err)
	}
	defer j.Close()
	pw := newPasswords(cmd.InOrStdin(), cmd.ErrOrStderr())
	if c.By != "" {
		if _, err := actAs(j, cfg, pw, c.By, web.ActManage, "user "+action+" "+c.Name); err != nil {
			return fmt.Errorf("user %s: --as: %w", action, err)
		}
	}
	if !c.Delete {
		p, err := pw.read(fmt.Sprintf("New password for %s (at least %d characters)", c.Name, web.MinPasswordLen), true)
		if err == nil {
			err = web.CheckPassword(p)
		}
		if err != nil {
			return fmt.Errorf("user add %s: %w", c.Name, err)
		}
		c.Password = p
	}
	role, bootstrap, cerr := c.Apply(cfg.HTTP.UsersFile, time.Now())
	_, jerr := j.Append(web.ChangeEntry(c, role, bootstrap, cerr))
	jerr = errors.Join(jerr, j.Close())
	switch {
	case cerr != nil:
		return fmt.Errorf("user %s: %w", action, cerr)
	case jerr != nil:
		return fmt.Errorf("user %s %s: done in %s, but the journal failed: %w", action, c.Name, cfg.HTTP.UsersFile, jerr)
	}
	out := cmd.OutOrStdout()
	rec := userRecord{Record: "user", Action: action, Name: c.Name, Role: string(role), By: c.By, Bootstrap: bootstrap,
		UsersFile: cfg.HTTP.UsersFile}
	switch format {
	case "json", "jsonl":
		enc := json.NewEncoder(out)
		if format == "json" {
			enc.SetIndent("", "  ")
		}
		return enc.Encode(rec)
	}
	verb := map[string]string{"add": "added to", "del": "deleted from"}[action]
	by := "by " + c.By
	if bootstrap {
		by = "bootstrap: the first security administrator"
	}
	fmt.Fprintf(out, "user %s (%s) %s %s (%s)\n", c.Name, role, verb, cfg.HTTP.UsersFile, by)
	return nil
}

// actAs authenticates the dashboard user name for a command given --as,
// their password the next line of stdin, and checks their role may do a.
// A wrong password is journaled as login.fail (a name that is no user as
// "-", as the dashboard does), a role that may not as access.denied with
// what was asked; both are refused.
func actAs(j appender, cfg *config.Config, pw *passwords, name string, a web.Action, what string) (web.User, error) {
	if err := web.CheckName(name); err != nil {
		return web.User{}, err
	}
	p, err := pw.read("Password of "+name, false)
	if err != nil {
		return web.User{}, err
	}
	u, err := web.Authenticate(cfg.HTTP.UsersFile, name, p)
	if errors.Is(err, web.ErrWrongPassword) {
		subject := "-"
		if us, _ := web.ReadUsers(cfg.HTTP.UsersFile); slices.ContainsFunc(us, func(u web.User) bool { return u.Name == name }) {
			subject = name
		}
		_, jerr := j.Append(journal.Entry{Kind: "login.fail", Subject: subject, Outcome: "fail",
			Detail: "command line (" + what + "): wrong user name or password"})
		return web.User{}, errors.Join(err, jerr)
	}
	if err != nil {
		return web.User{}, err
	}
	if err := web.Allow(u, a); err != nil {
		_, jerr := j.Append(journal.Entry{Kind: "access.denied", Subject: name, Outcome: "denied",
			Actor:   journal.Actor{WebUser: name},
			Figures: map[string]any{"role": web.Tag(string(u.Role)), "action": web.Tag(string(a))},
			Detail:  "command line (" + what + "): " + oneLine(err.Error())})
		return web.User{}, errors.Join(err, jerr)
	}
	return u, nil
}

// passwords reads the passwords a command needs, in order: from a terminal
// without echo after a prompt, otherwise one a line from stdin (so a
// password manager or a script can pipe them in).
type passwords struct {
	in     io.Reader
	prompt io.Writer
	fd     int // the terminal's, or -1
	br     *bufio.Reader
	line   int
}

func newPasswords(in io.Reader, prompt io.Writer) *passwords {
	p := &passwords{in: in, prompt: prompt, fd: -1}
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.fd = int(f.Fd())
	} else {
		p.br = bufio.NewReaderSize(in, 4096)
	}
	return p
}

// read returns the next password; twice asks a terminal for it twice.
func (p *passwords) read(what string, twice bool) (string, error) {
	if p.fd >= 0 {
		fmt.Fprintf(p.prompt, "%s: ", what)
		a, err := term.ReadPassword(p.fd)
		fmt.Fprintln(p.prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if twice {
			fmt.Fprintf(p.prompt, "Again: ")
			b, err := term.ReadPassword(p.fd)
			fmt.Fprintln(p.prompt)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			if string(a) != string(b) {
				return "", errors.New("the passwords differ")
			}
		}
		return string(a), nil
	}
	p.line++
	line, err := p.br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", fmt.Errorf("empty password on stdin: %s goes on line %d", strings.ToLower(what[:1])+what[1:], p.line)
	}
	return line, nil
}
