package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/audit/evidence"
	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/internal/config"
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
the cryptography clause: age and Ed25519 are not SM2/SM3/SM4). Each verdict has its
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
of every member's SHA-256 signed with the journal key. An assessor checks it on any
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
	ctx := cmd.Context()
	pub, err := journalVerifyKey(cfg)
	if err != nil {
		return fmt.Errorf("report: %w (run atrest init --config %s)", err, cfg.Path)
	}
	anchor, err := journalAnchor(ctx, cfg)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	vrep, verr := journal.VerifyContext(ctx, cfg.JournalDir(), pub, anchor)
	broken := verr != nil && (vrep.FirstBad != nil || errors.Is(verr, journal.ErrBroken))
	if verr != nil && !broken {
		return fmt.Errorf("report: verify the journal: %w", verr)
	}

	// Make sure the report can be written before journaling that it was.
	out, commit, discard, err := openOutput(o.output, cmd.OutOrStdout())
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer discard()

	// A torn journal refuses appends until `audit recover`; the report still
	// says so, unjournaled.
	j, jerr := openJournal(cfg)
	if jerr != nil && !broken {
		return fmt.Errorf("report: %w", jerr)
	}
	r, err := report.Build(ctx, report.Input{Config: reportConfig(cfg), JournalDir: cfg.JournalDir(),
		Verify: vrep, VerifyErr: verr, Period: per, Now: time.Now(), Journaled: j != nil})
	if err != nil {
		if j != nil {
			j.Close()
		}
		return err
	}
	if j != nil {
		e, err := j.Append(r.JournalEntry(o.format))
		if err != nil && !errors.Is(err, journal.ErrAnchor) {
			j.Close()
			return fmt.Errorf("report: journal: %w", err)
		}
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "atrest: report journaled as entry %d, but %s\n", e.Seq, oneLine(err.Error()))
		}
		if cerr := j.Close(); cerr != nil && err == nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "atrest: report journaled as entry %d, but %s\n", e.Seq, oneLine(cerr.Error()))
		}
		r.Attach(e)
	}
	switch o.format {
	case "json":
		err = r.WriteJSON(out)
	case "html":
		err = r.WriteHTML(out)
	case "bundle":
		if j == nil || r.Entry == nil {
			return fmt.Errorf("report: a bundle needs the report journaled, and the journal cannot take entries: %v", jerr)
		}
		err = writeBundle(out, cfg, r, per)
	}
	if err == nil {
		err = commit()
	}
	if err != nil {
		return fmt.Errorf("report: write %s: %w", o.output, err)
	}
	if o.output != "-" {
		fmt.Fprintln(cmd.OutOrStdout(), reportSummary(r, o.output))
	}
	if broken {
		return errFound{fmt.Sprintf("report written, but %s: its evidence from there on cannot be trusted", oneLine(verr.Error()))}
	}
	return nil
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
	rc := report.Config{FileRoots: []string{}, Sources: []report.Source{}, Backups: []report.BackupJob{}, Drills: []report.Drill{},
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
			Recipients: len(b.Recipients)})
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
	eng, dsn, err := sourceEngine(s)
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

// writeBundle writes the signed evidence bundle of report r: the report in
// both formats, the period's entries and the report's own with their
// proofs against the newest checkpoint (Close signed one over the report's
// entry), and the manifest signed with the journal key.
func writeBundle(w io.Writer, cfg *config.Config, r *report.Report, per report.Period) error {
	var html, js bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		return err
	}
	if err := r.WriteJSON(&js); err != nil {
		return err
	}
	seqs := []int{r.Entry.Seq}
	for e, err := range journal.Query(cfg.JournalDir(), journal.Filter{Since: per.From, Until: per.To}) {
		if err != nil {
			return err
		}
		if e.Seq != r.Entry.Seq {
			seqs = append(seqs, e.Seq)
		}
	}
	proven, err := journal.Prove(cfg.JournalDir(), seqs)
	if err != nil {
		return err
	}
	key, err := crypto.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return err
	}
	return evidence.Write(w, key, evidence.Contents{Period: per.Label, Created: time.Now(), Proven: proven,
		Files: []evidence.File{{Name: "report.html", Data: html.Bytes()}, {Name: "report.json", Data: js.Bytes()}}})
}
