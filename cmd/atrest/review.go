package main

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/audit/detect"
	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/web"
)

type auditReviewOptions struct {
	configPath, period, note, as string
}

// maxNoteRunes bounds a review note: an attestation, not a document.
const maxNoteRunes = 2000

func newAuditReviewCmd() *cobra.Command {
	var o auditReviewOptions
	cmd := &cobra.Command{
		Use:   "review --config FILE --period FROM..TO --note TEXT [--as NAME]",
		Short: "Attest in the journal that the records of a period were reviewed (MLPS 8.1.5.2)",
		Long: `GB/T 22239-2019 8.1.5.2 asks that the audit administrator analyse the audit records
and act on what they find. review journals that they did: kind review, the period as
subject, your note as detail. The period report counts a review that covers its
whole period by a confirmed auditor as meeting the control.

--as NAME names the dashboard user who reviewed (atrest user add --role auditor):
their role is looked up in http.users_file and journaled (figures.auditor), and the
entry's actor is that user. Without --as the actor is the OS user and the role is not
confirmed, which the report counts as partly met.

The note must not hold an identifier: write a finding's mask or fingerprint, never
the value. A note that holds one is refused.

` + exitHelp,
		Example: `  atrest audit review --config /etc/atrest/atrest.yaml --period 2026-10-01..2026-12-31 \
      --as li.wei --note "Q4 reviewed: plaintext mobile numbers in exports, ticket SEC-88; drill failure on 12-10 fixed 12-11"`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuditReview(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file")
	cmd.Flags().StringVar(&o.period, "period", "", "FROM..TO reviewed, e.g. 2026-10-01..2026-12-31 (required)")
	cmd.Flags().StringVar(&o.note, "note", "", "what was reviewed and what was done about it (required; journaled)")
	cmd.Flags().StringVar(&o.as, "as", "", "the dashboard user who reviewed (their role is checked in http.users_file)")
	return cmd
}

func runAuditReview(cmd *cobra.Command, o auditReviewOptions) error {
	if o.period == "" {
		return errors.New("audit review: --period FROM..TO is required")
	}
	note := strings.TrimSpace(o.note)
	if err := checkNote(note); err != nil {
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
	e := journal.Entry{Kind: report.KindReview, Subject: per.Label, Outcome: "ok", Detail: note,
		Figures: map[string]any{"auditor": false, "from_unix": per.From.Unix(), "to_unix": per.To.Unix()}}
	if o.as != "" {
		role, err := userRole(cfg, o.as)
		if err != nil {
			return fmt.Errorf("audit review: --as: %w", err)
		}
		e.Actor.WebUser = o.as
		e.Figures["auditor"] = role == web.RoleAuditor
	}
	j, err := openJournal(cfg)
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
	who := stored.Actor.OSUser
	if stored.Actor.WebUser != "" {
		who = stored.Actor.WebUser
	}
	fmt.Fprintf(cmd.OutOrStdout(), "journal entry %d: review of %s by %s (auditor role confirmed: %v)\n",
		stored.Seq, per.Label, who, e.Figures["auditor"])
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "atrest: review journaled, but %s\n", oneLine(err.Error()))
	}
	return nil
}

// checkNote refuses an empty or oversized note and one that holds an
// identifier: the journal never holds a value (SPEC §2), and a reviewer's
// free text is the one place one could slip in.
func checkNote(note string) error {
	switch {
	case note == "":
		return errors.New("required: say what was reviewed and what was done about it")
	case !utf8.ValidString(note):
		return errors.New("not valid UTF-8")
	case utf8.RuneCountInString(note) > maxNoteRunes:
		return fmt.Errorf("longer than %d characters", maxNoteRunes)
	}
	if ms := detect.Find([]byte(note)); len(ms) > 0 {
		return fmt.Errorf("holds what looks like a %s identifier: write its mask or fingerprint instead", ms[0].Type)
	}
	return nil
}

// userRole looks the dashboard user up in the users file.
func userRole(cfg *config.Config, name string) (web.Role, error) {
	if err := web.CheckName(name); err != nil {
		return "", err
	}
	users, err := web.ReadUsers(cfg.HTTP.UsersFile)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		if u.Name == name {
			return u.Role, nil
		}
	}
	return "", fmt.Errorf("no user %q in %s (atrest user add --role auditor %s)", name, cfg.HTTP.UsersFile, name)
}
