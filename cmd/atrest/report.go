package main

import (
	"context"
	gocrypto "crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
)

type reportOptions struct {
	configPath, period, format, output, bundle string
}

func newReportCmd() *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report --config FILE --period FROM..TO (--format html|json -o FILE | --bundle FILE.zip)",
		Short: "Answer the compliance controls for a period, with the journal entries behind each verdict",
		Long: `report reads the journal of one period and answers each control of GB/T 22239-2019
(等保2.0 level 3), the Cybersecurity Law, PIPL and GB/T 35273, with HIPAA, PCI DSS and
ISO 27001 mapped beside them: met, partly met, not met or no evidence (and "risk" for
the cryptography clause when nothing uses SM2/SM3/SM4; suite sm makes it met). Each verdict has its
reason in Chinese and English and cites the journal entries behind it by number and
hash; the appendix lists them. The period's figures follow: plaintext columns and
file findings by source, root and type; backup checks; drills with RTO and RPO (and
a chart); the journal's verification.

The journal is verified first (with the anchor, if configured) and the result is
part of the report. The report itself is journaled (kind report, the period as
subject, the verdict counts as figures): PIPL Art. 54 asks for regular audits,
and the journal shows they were made.

FROM and TO are dates (TO includes its whole day) or RFC 3339 times (TO exclusive).
--format html is printable (A4, Chinese and English side by side, no script, nothing
fetched); json has stable field names for other tools. -o - writes to stdout.

Controls that are not met are what the report is for: they do not make it fail.

--bundle FILE.zip writes a signed evidence bundle instead: the report in HTML and
JSON, the period's journal entries (and the report's own) with a signed checkpoint
and an inclusion proof for each, the journal's public key, a README, and a manifest
of every member's SHA-256 (SM3 for an sm journal) signed with the journal key. An assessor checks it on any
machine, offline: atrest audit verify --bundle FILE.zip (an edited member fails).

Exit status:
  0  the report was written (whatever its verdicts)
  1  the report was written, but the journal fails verification: the report
     says where, and its evidence from there on cannot be trusted
  2  could not run (bad flags, bad config, unreadable journal, unreachable
     anchor); nothing is written`,
		Example: `  atrest report --config /etc/atrest/atrest.yaml --period 2026-10-01..2026-12-31 --format html -o q4.html
  atrest report --config /etc/atrest/atrest.yaml --period 2026-10-01..2026-12-31 --format json -o - | jq '.controls[] | {id, verdict}'
  atrest report --config /etc/atrest/atrest.yaml --period 2026-10-01..2026-12-31 --bundle evidence-2026q4.zip`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReport(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file")
	cmd.Flags().StringVar(&o.period, "period", "", "FROM..TO, e.g. 2026-10-01..2026-12-31 (required)")
	cmd.Flags().StringVar(&o.format, "format", "html", "html or json")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "file to write, or - for stdout (required without --bundle)")
	cmd.Flags().StringVar(&o.bundle, "bundle", "", "write a signed evidence bundle (zip) to this file instead")
	return cmd
}

func runReport(cmd *cobra.Command, o reportOptions) error {
	if o.period == "" {
		return errors.New("report: --period FROM..TO is required, e.g. --period 2026-10-01..2026-12-31")
	}
	switch {
	case o.bundle != "" && o.output != "":
		return errors.New("report: give either -o FILE or --bundle FILE.zip, not both")
	case o.bundle != "":
		o.output, o.format = o.bundle, "bundle"
	case o.output == "":
		return errors.New("report: -o FILE is required (- for stdout), or --bundle FILE.zip")
	case o.format != "html" && o.format != "json":
		return fmt.Errorf("report: --format %q: use html or json", o.format)
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	per, err := report.ParsePeriod(o.period, cfg.Location)
	if err != nil {
		return fmt.Errorf("report: --period: %w", err)
	}
	m, err := reportMaker(cfg)
	if err != nil {
		return err
	}
	// Make sure the report can be written before journaling that it was.
	out, commit, discard, err := openOutput(o.output, cmd.OutOrStdout())
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer discard()
	var j *journal.Journal
	m.Journal = func() (report.Journal, error) {
		var err error
		j, err = openJournal(cfg)
		return j, err
	}
	made, err := m.Make(cmd.Context(), report.Request{Period: per, Format: o.format}, out)
	if j != nil {
		if cerr := j.Close(); cerr != nil && err == nil {
			made.Warning = errors.Join(made.Warning, cerr)
		}
	}
	if err != nil {
		return err
	}
	if made.Warning != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "atrest: report journaled as entry %d, but %s\n", made.Report.Entry.Seq, oneLine(made.Warning.Error()))
	}
	if err := commit(); err != nil {
		return fmt.Errorf("report: write %s: %w", o.output, err)
	}
	if o.output != "-" {
		fmt.Fprintln(cmd.OutOrStdout(), reportSummary(made.Report, o.output))
	}
	if made.Broken != nil {
		return errFound{fmt.Sprintf("report written, but %s: its evidence from there on cannot be trusted", oneLine(made.Broken.Error()))}
	}
	return nil
}

// reportMaker is how this installation makes reports, for atrest report
// and the dashboard: the configuration's summary, the journal verified
// with its key and anchor, bundles signed with the journal key. The caller
// says which journal takes the report's entry.
func reportMaker(cfg *config.Config) (*report.Maker, error) {
	pub, err := journalVerifyKey(cfg)
	if err != nil {
		return nil, fmt.Errorf("report: %w (run atrest init --config %s)", err, cfg.Path)
	}
	return &report.Maker{Config: reportConfig(cfg), JournalDir: cfg.JournalDir(),
		Verify: func(ctx context.Context) (journal.Report, error) {
			// Without the anchor's credentials (an officer's shell), verify
			// what is here: the report then says no anchored checkpoint was
			// held against the entries (MLPS-8.1.4.3 partly met), and the
			// command warns on stderr.
			anchor, err := journalAnchor(ctx, cfg)
			if err != nil {
				anchor = nil
			}
			return journal.VerifyContext(ctx, cfg.JournalDir(), pub, anchor)
		},
		BundleKey: func() (gocrypto.Signer, error) { return suite.LoadSigningKey(cfg.Journal.SigningKeyFile) },
	}, nil
}

func reportSummary(r *report.Report, path string) string {
	var parts []string
	for _, v := range report.Verdicts {
		if n := r.Summary[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, v.Label().EN))
		}
	}
	s := fmt.Sprintf("report %s: %s → %s", r.Period.Label, strings.Join(parts, ", "), path)
	if r.Entry != nil {
		s += fmt.Sprintf(" (journal entry %d)", r.Entry.Seq)
	}
	return s
}

// openOutput returns where to write: stdout for "-", else a temp file
// beside path that commit renames into place, so a failed run leaves no
// half-written report. discard removes the temp file unless committed.
func openOutput(path string, stdout io.Writer) (w io.Writer, commit func() error, discard func(), err error) {
	if path == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, nil, nil, err
	}
	done := false
	commit = func() error {
		if err := f.Chmod(0o640); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(f.Name(), path); err != nil {
			return err
		}
		done = true
		return nil
	}
	discard = func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}
	return f, commit, discard, nil
}

// reportConfig is what the report needs from the configuration: names and
// settings, and for each source only what its DSN asks of TLS.
func reportConfig(cfg *config.Config) report.Config {
	rc := report.Config{Suite: cfg.Suite, FileRoots: []string{}, Sources: []report.Source{}, Backups: []report.BackupJob{}, Drills: []report.Drill{},
		JournalRetention: report.Duration(cfg.Journal.Retention)}
	for _, s := range cfg.Sources {
		rc.Sources = append(rc.Sources, report.Source{Name: s.Name, Databases: s.Databases, TLS: sourceTLS(&s)})
	}
	for _, r := range cfg.FileRoots {
		rc.FileRoots = append(rc.FileRoots, r.Name)
	}
	for _, b := range cfg.Backups {
		format := b.Format
		if format == "" {
			format = "atrest"
		}
		rc.Backups = append(rc.Backups, report.BackupJob{Name: b.Name, Source: b.Source, Storage: b.Storage, Bucket: b.Bucket,
			Format: format, Schedule: b.Schedule, RPO: report.Duration(b.RPO), Retention: report.Duration(b.Retention),
			Recipients: len(b.Recipients), Suite: b.Suite})
	}
	for _, d := range cfg.Drills {
		rc.Drills = append(rc.Drills, report.Drill{Name: d.Name, Backup: d.Backup, Schedule: d.Schedule})
	}
	if a := cfg.Journal.Anchor; a != nil {
		rc.Anchor = &report.Anchor{Storage: a.Storage, Bucket: a.Bucket}
	}
	return rc
}

// sourceTLS reads what the source's DSN asks of TLS, if the DSN can be
// read here; the DSN itself goes no further.
func sourceTLS(s *config.Source) string {
	eng, dsn, err := jobs.SourceEngine(s)
	if err != nil {
		return report.TLSUnknown
	}
	d, err := eng.DSN(dsn)
	if err != nil {
		return report.TLSUnknown
	}
	switch d.TLS {
	case engine.TLSOff:
		return report.TLSOff
	case engine.TLSPreferred:
		return report.TLSPreferred
	case engine.TLSUnverified:
		return report.TLSUnverified
	case engine.TLSVerified:
		return report.TLSVerified
	}
	return report.TLSUnknown
}
