package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/web"
)

type auditReviewOptions struct {
	configPath, period, note, as string
}

func newAuditReviewCmd() *cobra.Command {
	var o auditReviewOptions
	cmd := &cobra.Command{
		Use:   "review --config FILE --period PERIOD --note TEXT --as AUDITOR",
		Short: "Record, as an authenticated auditor, that the records of a period were reviewed (MLPS 8.1.5.2)",
		Long: `GB/T 22239-2019 8.1.5.2 asks that an authenticated audit administrator analyse the
audit records and act on what they find. review journals that they did: kind review,
the period as subject, the note as detail, the auditor as actor.

A review is an act of the audit administrator, proven: --as names the dashboard user
(atrest user add --role auditor), whose password is read from stdin (a terminal asks
without echo). A wrong password is refused and journaled as login.fail; a user of
another role (sysadmin, secadmin) is refused and journaled as access.denied; so is a
review without --as. The period report counts only such authenticated reviews. The
dashboard's audit page records a review the same way, for the auditor logged in.

PERIOD is a month (2026-12), a quarter (2026-Q4) or FROM..TO, in the config's
timezone. The note must not hold an identifier: write a finding's mask or
fingerprint, never the value. A note that holds one is refused.

` + exitHelp,
		Example: `  atrest audit review --config /etc/atrest/atrest.yaml --period 2026-Q4 --as li.wei \
      --note "Q4 reviewed: plaintext mobile numbers in exports, ticket SEC-88; drill failure on 12-10 fixed 12-11"
  pass show atrest/li.wei | atrest audit review --config atrest.yaml --period 2026-12 --as li.wei --note "December reviewed"`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuditReview(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	cmd.Flags().StringVar(&o.period, "period", "", "the period reviewed: 2026-12, 2026-Q4 or FROM..TO (required)")
	cmd.Flags().StringVar(&o.note, "note", "", "what was reviewed and what was done about it (required; journaled)")
	cmd.Flags().StringVar(&o.as, "as", "", "the auditor who reviewed (required; their password is read from stdin)")
	return cmd
}

func runAuditReview(cmd *cobra.Command, o auditReviewOptions) error {
	if o.period == "" {
		return errors.New("audit review: --period is required, e.g. --period 2026-12")
	}
	note := strings.TrimSpace(o.note)
	if err := report.CheckNote(note); err != nil {
		return fmt.Errorf("audit review: --note: %w", err)
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	per, err := report.ParsePeriod(o.period, cfg.Location)
	if err != nil {
		return fmt.Errorf("audit review: --period: %w", err)
	}
	j, err := openJournal(cfg)
	if err != nil {
		return fmt.Errorf("audit review: %w", err)
	}
	defer j.Close()
	if o.as == "" {
		_, jerr := j.Append(journal.Entry{Kind: "access.denied", Subject: per.Label, Outcome: "denied",
			Figures: map[string]any{"action": web.Tag(string(web.ActReview))},
			Detail:  "command line (audit review " + per.Label + "): no --as: a review is an authenticated act of an auditor"})
		return errors.Join(fmt.Errorf("audit review: a review is an authenticated act of an audit administrator: give --as NAME (an auditor) and their password on stdin, or record it on the dashboard's audit page"), jerr)
	}
	pw := newPasswords(cmd.InOrStdin(), cmd.ErrOrStderr())
	if _, err := actAs(j, cfg, pw, o.as, web.ActReview, "audit review "+per.Label); err != nil {
		return fmt.Errorf("audit review: --as: %w", err)
	}
	e, err := report.Review{Period: per, Note: note, Auditor: o.as, Via: "cli"}.Entry()
	if err != nil {
		return fmt.Errorf("audit review: %w", err)
	}
	stored, err := j.Append(e)
	if cerr := j.Close(); err == nil && cerr != nil && !errors.Is(cerr, journal.ErrAnchor) {
		err = cerr
	}
	if err != nil && !errors.Is(err, journal.ErrAnchor) {
		return fmt.Errorf("audit review: journal: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "journal entry %d: review of %s by the auditor %s (authenticated)\n", stored.Seq, per.Label, o.as)
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "atrest: review journaled, but %s\n", oneLine(err.Error()))
	}
	return nil
}
