// Command atrest audits data at rest: it finds identifiers stored in plaintext,
// makes and checks encrypted backups, runs restore drills and keeps a
// tamper-evident journal of all of it. This package is wiring only: each
// subcommand has its own file with an options struct, its flags and a run func.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // timezone names work on hosts without /usr/share/zoneinfo

	"github.com/spf13/cobra"
)

// Exit statuses (SPEC §3). The table is printed by --help.
const (
	exitOK      = 0 // ran and found nothing wrong
	exitFound   = 1 // ran and found something wrong
	exitCantRun = 2 // could not run: bad flags, bad config, unreachable server
	exitPartial = 3 // ran, found nothing wrong in what it read, could not read everything
)

const exitHelp = `Exit status:
  0  ran and found nothing wrong
  1  ran and found something wrong (plaintext identifiers, a failed check,
     a failed drill, a broken journal)
  2  could not run (bad flags, bad config, unreachable server); a one-line
     error on stderr says what and where
  3  ran and found nothing wrong in what it read, but could not read
     everything (unreadable files or directories, documents that could hold
     text and were not read, tables whose columns could not be sampled);
     1 wins over 3`

// errFound marks a run that completed and found something wrong (exit 1). The
// records already say what; the message is a one-line summary for stderr.
type errFound struct{ msg string }

func (e errFound) Error() string { return e.msg }

// errPartial marks a run that completed, found nothing wrong in what it
// read, and could not read everything (exit 3): cron and CI must not take
// it for a clean run. The records say what was not read.
type errPartial struct{ msg string }

func (e errPartial) Error() string { return e.msg }

// version is set by the linker (-X main.version=…).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns its exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var found errFound
	if errors.As(err, &found) {
		if found.msg != "" {
			fmt.Fprintln(stderr, "atrest:", found.msg)
		}
		return exitFound
	}
	var partial errPartial
	if errors.As(err, &partial) {
		fmt.Fprintln(stderr, "atrest:", partial.msg)
		return exitPartial
	}
	fmt.Fprintln(stderr, "atrest:", oneLine(err.Error()))
	return exitCantRun
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "atrest",
		Short: "Audit data at rest: plaintext identifiers, encrypted backups, restore drills, a tamper-evident journal",
		Long: `atrest audits data at rest for organisations that hold medical-insurance (医保) data.

It answers three questions with evidence:
  1. Where is sensitive data stored in plaintext?   atrest scan files | scan db
  2. Do backups reach object storage, intact, and do they restore?
                                                    atrest backup run | backup check | drill run
  3. Can a compliance officer trust the record?     atrest audit verify | audit log | report

atrest never prints, logs or stores a raw identifier: only a mask (110***********123X)
and a keyed fingerprint (HMAC-SHA-256 under the installation's key).

Start with:  atrest init --config atrest.yaml   (creates keys and the state directory)
Then e.g.:   atrest scan files /srv/exports

` + exitHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see %s --help)", c.CommandPath(), err, c.CommandPath())
	})
	root.AddCommand(newInitCmd(), newScanCmd(), newAuditCmd(), newBackupCmd(), newDrillCmd(), newServeCmd(), newUserCmd(), newReportCmd())
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes every command group (audit, backup, scan …)
// refuse what is not one of its commands: cobra would print the group's help
// and exit 0, so a cron line with a typo (atrest audit verfy) stayed green
// for ever. A group alone still prints its help. Unknown flags are let
// through to here, so `backup chek --config x` blames the typo, not --config.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	if c != c.Root() {
		c.FParseErrWhitelist.UnknownFlags = true
	}
	c.Args = cobra.ArbitraryArgs
	c.SuggestionsMinimumDistance = 2
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("%s: unknown command %q", cmd.CommandPath(), args[0])
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %q?", cmd.CommandPath()+" "+s[0])
		}
		return fmt.Errorf("%s (see %s --help)", msg, cmd.CommandPath())
	}
}

// requireNoArgs is cobra.NoArgs with a message that says which command.
func requireNoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}
