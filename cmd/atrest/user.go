package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
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
		Short: "Add and delete dashboard users (admin, auditor)",
		Long: `The dashboard of atrest serve lets in the users listed in http.users_file
(default state_dir/users): one JSON object a line with the name, the role and an
argon2id hash of the password (with its parameters and salt), mode 0600, replaced
atomically. serve reads it again when it changes: no restart is needed, and a
deleted user's sessions end at their next request.

  auditor  reads every page and the JSON API
  admin    also starts runs of scheduled jobs from the dashboard

Both commands are journaled (user.add, user.del), never with the password or
its hash.`,
	}
	cmd.AddCommand(newUserAddCmd(), newUserDelCmd())
	return cmd
}

type userOptions struct {
	configPath string
	role       string
	format     string
}

func newUserAddCmd() *cobra.Command {
	var o userOptions
	cmd := &cobra.Command{
		Use:   "add --config FILE --role admin|auditor NAME",
		Short: "Add a dashboard user; the password is read from stdin",
		Long: fmt.Sprintf(`add reads the password from stdin: one line, at least %d characters. On a
terminal it asks twice without echo; otherwise it reads the first line (so a
password manager or a script can pipe it in). The password is never echoed,
logged or journaled: the users file keeps an argon2id hash, the journal an entry
user.add with the name and the role. An existing name is refused (delete it first).

`, web.MinPasswordLen) + exitHelp,
		Example: `  atrest user add --config /etc/atrest/atrest.yaml --role auditor li.wei
  pass show atrest/li.wei | atrest user add --config atrest.yaml --role admin root.admin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runUserAdd(cmd, o, args[0]) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringVar(&o.role, "role", "", "admin or auditor (required)")
	cmd.Flags().StringVar(&o.format, "format", "table", "table, json or jsonl")
	cmd.MarkFlagRequired("config")
	cmd.MarkFlagRequired("role")
	return cmd
}

func newUserDelCmd() *cobra.Command {
	var o userOptions
	cmd := &cobra.Command{
		Use:   "del --config FILE NAME",
		Short: "Delete a dashboard user; their sessions end at once",
		Long:  "del removes the user from http.users_file and journals user.del. An unknown name is refused.\n\n" + exitHelp,
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runUserDel(cmd, o, args[0]) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringVar(&o.format, "format", "table", "table, json or jsonl")
	cmd.MarkFlagRequired("config")
	return cmd
}

// userRecord is what user add and del print with --format json|jsonl.
type userRecord struct {
	Record    string `json:"record"`
	Action    string `json:"action"`
	Name      string `json:"name"`
	Role      string `json:"role"`
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
	pw, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr(), name)
	if err == nil {
		err = web.CheckPassword(pw)
	}
	if err != nil {
		return fmt.Errorf("user add %s: %w", name, err)
	}
	return changeUsers(cmd, cfg, o.format, "add", name, func() (web.Role, error) {
		return role, web.AddUser(cfg.HTTP.UsersFile, name, role, pw, time.Now())
	})
}

func runUserDel(cmd *cobra.Command, o userOptions, name string) error {
	if err := checkUserFormat(o.format); err != nil {
		return err
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	return changeUsers(cmd, cfg, o.format, "del", name, func() (web.Role, error) {
		u, err := web.DeleteUser(cfg.HTTP.UsersFile, name)
		return u.Role, err
	})
}

func checkUserFormat(f string) error {
	switch f {
	case "table", "json", "jsonl":
		return nil
	}
	return fmt.Errorf("--format %q: want table, json or jsonl", f)
}

// changeUsers opens the journal first, so that a change it could not record
// is not made; then changes the users file and journals the outcome, a
// refusal (a duplicate, an unknown name) included.
func changeUsers(cmd *cobra.Command, cfg *config.Config, format, action, name string, change func() (web.Role, error)) error {
	j, err := openJournal(cfg)
	if err != nil {
		return fmt.Errorf("user %s: %w", action, err)
	}
	role, cerr := change()
	e := journal.Entry{Kind: "user." + action, Subject: name, Outcome: "ok", Detail: "role " + string(role)}
	if cerr != nil {
		e.Outcome, e.Detail = "error", oneLine(cerr.Error())
	}
	_, jerr := j.Append(e)
	jerr = errors.Join(jerr, j.Close())
	switch {
	case cerr != nil:
		return fmt.Errorf("user %s: %w", action, cerr)
	case jerr != nil:
		return fmt.Errorf("user %s %s: done in %s, but the journal failed: %w", action, name, cfg.HTTP.UsersFile, jerr)
	}
	out := cmd.OutOrStdout()
	rec := userRecord{Record: "user", Action: action, Name: name, Role: string(role), UsersFile: cfg.HTTP.UsersFile}
	switch format {
	case "json", "jsonl":
		enc := json.NewEncoder(out)
		if format == "json" {
			enc.SetIndent("", "  ")
		}
		return enc.Encode(rec)
	}
	verb := map[string]string{"add": "added to", "del": "deleted from"}[action]
	fmt.Fprintf(out, "user %s (%s) %s %s\n", name, role, verb, cfg.HTTP.UsersFile)
	return nil
}

// readPassword reads the new password: twice without echo from a terminal,
// else the first line of stdin.
func readPassword(in io.Reader, prompt io.Writer, name string) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(prompt, "Password for %s (at least %d characters): ", name, web.MinPasswordLen)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprintf(prompt, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReaderSize(in, 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("empty password on stdin (give it as the first line)")
	}
	return line, nil
}
