package main

import (
	gocrypto "crypto"
	"encoding/csv"
	"encoding/json"
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
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/config"
)

// suiteAlgorithms says what a journal's suite means.
func suiteAlgorithms(name string) string {
	if name == "sm" {
		return "SM3 chain and Merkle tree, SM2 checkpoint signatures"
	}
	return "SHA-256 chain and Merkle tree, Ed25519 checkpoint signatures"
}

// defaultConfigPath is used by the audit commands when --config is not given,
// so a compliance officer on the server can type just `atrest audit verify`.
func defaultConfigPath() string {
	if p := os.Getenv("ATREST_CONFIG"); p != "" {
		return p
	}
	return "/etc/atrest/atrest.yaml"
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and read the tamper-evident journal",
		Long: `The journal records every scan, backup, check, drill, key and user change as
JSON Lines under state_dir/journal/, each entry hash-chained to the one before,
with signed checkpoints (C2SP tlog-checkpoint notes) over the Merkle tree of all
entries: SHA-256 and Ed25519 in a standard journal, SM3 and SM2 in an sm one.
A journal keeps the suite of its first entry for life; verify reads it there.`,
	}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditCheckpointCmd(), newAuditLogCmd(), newAuditPruneCmd(), newAuditRecoverCmd(), newAuditReviewCmd())
	return cmd
}

type auditRecoverOptions struct {
	configPath, reason string
}

func newAuditRecoverCmd() *cobra.Command {
	var o auditRecoverOptions
	cmd := &cobra.Command{
		Use:   "recover --config FILE --reason TEXT",
		Short: "After a crash tore the journal's last line: keep the fragment as evidence and let appends go on",
		Long: `A crash during an append can leave the journal's last line cut short. verify
reports it ("torn last line") and appends stop: nothing is dropped or repaired
silently. recover is the operator's deliberate answer: it moves only the torn bytes
(after the last complete line) to state_dir/journal/torn/<file>.<offset>.partial,
keeping them, and appends a journal.recover entry with your --reason. Complete
lines are never touched: an edited entry is tampering, and verify keeps reporting it.`,
		Example: `  atrest audit recover --config /etc/atrest/atrest.yaml --reason "power loss 2026-11-24 03:10, ticket OPS-1234"`,
		Args:    requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(o.configPath)
			if err != nil {
				return err
			}
			if strings.TrimSpace(o.reason) == "" {
				return fmt.Errorf("audit recover: --reason is required: say why the journal was torn")
			}
			key, err := suite.LoadSigningKey(cfg.Journal.SigningKeyFile)
			if err != nil {
				return fmt.Errorf("audit recover: %w", err)
			}
			entries, err := journal.Recover(cfg.JournalDir(), key, journal.Options{}, o.reason)
			if errors.Is(err, journal.ErrNothingTorn) {
				fmt.Fprintln(cmd.OutOrStdout(), "journal: nothing to recover, the last lines are whole")
				return nil
			}
			if err != nil {
				return fmt.Errorf("audit recover: %w", err)
			}
			for _, e := range entries {
				fmt.Fprintf(cmd.OutOrStdout(), "journal entry %d: %s\n", e.Seq, e.Detail)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	cmd.Flags().StringVar(&o.reason, "reason", "", "why the journal was torn (required; journaled)")
	return cmd
}

type auditVerifyOptions struct {
	configPath string
	format     string
	from       []string
	bundle     string
	key        string
}

func newAuditVerifyCmd() *cobra.Command {
	var o auditVerifyOptions
	cmd := &cobra.Command{
		Use:   "verify [--config FILE] [--from CHECKPOINT] | verify --bundle FILE.zip [--key PEM]",
		Short: "Check every entry, link and checkpoint of the journal; exit 1 at the first bad entry",
		Long: `verify recomputes every entry's hash and its link to the entry before, checks the
sequence (deleted, inserted and reordered lines), every checkpoint's signature and
Merkle root, reports a torn last line after a crash, and with an anchor configured,
compares against the checkpoints copied to object storage so that a cut tail shows.
Without the anchor's credentials (its access_key_env unset, say) it verifies what
it holds and says the anchor was not checked.

--from FILE holds the journal against checkpoints you kept elsewhere (written by
atrest audit checkpoint; a file may hold several, appended over time). Someone
with the signing key can rewrite the entries, re-sign the local checkpoints and
replace the anchor's copies: the journal then verifies on its own, but its first N
entries no longer give the root of a checkpoint of size N that you kept. verify
says which kept checkpoint the journal no longer extends and which entries were
rewritten (after the largest kept checkpoint it still extends).

--bundle FILE.zip checks an evidence bundle (atrest report --bundle) on any machine,
without the installation or a network: the signed manifest, every member's SHA-256,
the journal checkpoint and each entry's inclusion proof. --key names the journal's
public key (PEM) you trust; without it the bundle's own key is used and its
fingerprint printed, to compare with the one the installation gave you.

It prints the first bad entry and exits 1, or the entry count and the newest
checkpoint and exits 0. --config defaults to $ATREST_CONFIG, then /etc/atrest/atrest.yaml.

` + exitHelp,
		Example: `  atrest audit verify
  atrest audit checkpoint > cp-2026-12.txt        # keep this file off the server
  atrest audit verify --from cp-2026-12.txt       # next month: nothing before it was rewritten
  atrest audit verify --bundle evidence-2026q4.zip --key journal.pub.pem`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuditVerify(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	cmd.Flags().StringVar(&o.format, "format", "table", "table or json")
	cmd.Flags().StringArrayVar(&o.from, "from", nil, "a file of checkpoints kept elsewhere that the journal must extend (repeatable)")
	cmd.Flags().StringVar(&o.bundle, "bundle", "", "check this evidence bundle (zip) instead of the journal; needs no config")
	cmd.Flags().StringVar(&o.key, "key", "", "with --bundle: the journal public key (PEM) you trust")
	return cmd
}

func runAuditVerify(cmd *cobra.Command, o auditVerifyOptions) error {
	if o.bundle != "" {
		return runVerifyBundle(cmd, o)
	}
	if o.key != "" {
		return errors.New("audit verify: --key goes with --bundle")
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	if o.format != "table" && o.format != "json" {
		return fmt.Errorf("audit verify: --format %q: want table or json", o.format)
	}
	pub, err := journalVerifyKey(cfg)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	var kept []journal.KeptCheckpoint
	for _, f := range o.from {
		k, err := journal.ReadKeptCheckpoints(f)
		if err != nil {
			return fmt.Errorf("audit verify: --from: %w", err)
		}
		kept = append(kept, k...)
	}
	// Without the anchor's credentials, verify what is here and say so:
	// an officer holding the journal alone must still be able to check it.
	anchor, anchorErr := journalAnchor(cmd.Context(), cfg)
	rep, results, err := journal.VerifyFrom(cmd.Context(), cfg.JournalDir(), pub, anchor, kept)
	out := cmd.OutOrStdout()
	if o.format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		res := map[string]any{"record": "journal_verify", "ok": err == nil, "suite": rep.Suite, "entries": rep.Entries,
			"checkpoints": rep.Checkpoints, "newest_checkpoint": rep.NewestCheckpoint, "anchored": rep.Anchored,
			"unsigned": rep.Unsigned()}
		if anchorErr != nil {
			res["anchor_not_checked"] = oneLine(anchorErr.Error())
		}
		if len(results) > 0 {
			res["kept"] = results
		}
		if rep.FirstBad != nil {
			res["first_bad"] = rep.FirstBad
			res["error"] = rep.FirstBad.Error()
		}
		enc.Encode(res)
	}
	if err != nil {
		if rep.FirstBad != nil || errors.Is(err, journal.ErrBroken) {
			if o.format != "json" {
				fmt.Fprintf(out, "journal %s: BROKEN\n  %v\n  entries verified before it: %d\n", cfg.JournalDir(), err, rep.Entries)
				printKept(out, results)
			}
			return errFound{oneLine(err.Error())}
		}
		return fmt.Errorf("audit verify: %w", err)
	}
	if o.format != "json" {
		fmt.Fprintf(out, "journal %s: OK\n  entries:      %d in %d segments\n", cfg.JournalDir(), rep.Entries, rep.Segments)
		if rep.Suite != "" {
			fmt.Fprintf(out, "  suite:        %s (from entry 1; %s)\n", rep.Suite, suiteAlgorithms(rep.Suite))
		}
		if c := rep.NewestCheckpoint; c != nil {
			fmt.Fprintf(out, "  checkpoint:   size %d, root %s, signed %s\n", c.Size, c.Root, c.Time.Format(time.RFC3339))
		}
		if b := rep.Base; b != nil {
			fmt.Fprintf(out, "  pruned:       entries 1..%d (older than the retention, last pruned %s); verification starts from the checkpoint of entry %d signed then\n",
				b.Seq, b.Pruned.In(cfg.Location).Format(time.RFC3339), b.Seq)
		}
		switch c := rep.Anchored; {
		case anchorErr != nil:
			fmt.Fprintf(out, "  anchor:       NOT CHECKED (%s); the entries and local checkpoints above verify\n", oneLine(anchorErr.Error()))
		case c != nil:
			fmt.Fprintf(out, "  anchored:     size %d in %s/%s matches the local entries\n", c.Size, cfg.Journal.Anchor.Storage, cfg.Journal.Anchor.Bucket)
		case cfg.Journal.Anchor == nil:
			fmt.Fprintf(out, "  anchor:       none configured (a cut tail with its checkpoints would not show)\n")
		}
		printKept(out, results)
		if n := rep.Unsigned(); n > 0 {
			fmt.Fprintf(out, "  unsigned:     %d entries after the newest checkpoint (chained, not yet signed)\n", n)
		}
	}
	return nil
}

func runVerifyBundle(cmd *cobra.Command, o auditVerifyOptions) error {
	if len(o.from) > 0 {
		return errors.New("audit verify: --from goes with the journal, not with --bundle")
	}
	var trusted gocrypto.PublicKey
	if o.key != "" {
		k, err := crypto.LoadPublicKeyPEM(o.key)
		if err != nil {
			return fmt.Errorf("audit verify: --key: %w", err)
		}
		trusted = k
	}
	f, err := os.Open(o.bundle)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	res, err := evidence.Verify(f, st.Size(), trusted)
	out := cmd.OutOrStdout()
	if err != nil {
		fmt.Fprintf(out, "bundle %s: BROKEN\n  %v\n", o.bundle, err)
		return errFound{oneLine(err.Error())}
	}
	fmt.Fprintf(out, "bundle %s: OK\n  period:       %s\n  members:      %d, each as signed\n  entries:      %d, each in the journal tree of checkpoint size %d (signed %s)\n",
		o.bundle, res.Manifest.Period, len(res.Manifest.Members), len(res.Entries), res.Checkpoint.Size, res.Checkpoint.Time.Format(time.RFC3339))
	if trusted != nil {
		fmt.Fprintf(out, "  key:          %s, the key you gave (--key)\n", res.KeyID)
	} else {
		fmt.Fprintf(out, "  key:          %s, the bundle's own: compare it with the installation's (or pass --key)\n", res.KeyID)
	}
	return nil
}

func printKept(out io.Writer, results []journal.KeptResult) {
	for _, k := range results {
		verdict := "extended: nothing before it was rewritten"
		switch {
		case k.Pruned:
			verdict = "older than the pruned entries: cannot be held against them"
		case !k.Extends:
			verdict = "NOT extended"
		}
		fmt.Fprintf(out, "  kept:         %s, size %d signed %s: %s\n", k.File, k.Checkpoint.Size, k.Checkpoint.Time.Format(time.RFC3339), verdict)
	}
}

type auditCheckpointOptions struct {
	configPath string
	publicKey  bool
}

func newAuditCheckpointCmd() *cobra.Command {
	var o auditCheckpointOptions
	cmd := &cobra.Command{
		Use:   "checkpoint [--config FILE]",
		Short: "Print the newest signed checkpoint of the journal, for you to keep elsewhere",
		Long: `checkpoint signs a checkpoint over every entry journaled so far (if the newest one
does not already cover them) and prints it: a C2SP signed note with the journal's
origin, its size, the Merkle root of all entries and the signing time.

Keep the file off the server (with the inspection records, say). Later,
atrest audit verify --from FILE proves that the journal still extends it: nothing
journaled before it was rewritten, even by someone holding the signing key who
also replaced the local checkpoints and the anchor's copies.

Without write access to the journal, the newest checkpoint already signed is
printed and stderr says how many entries came after it.

--public-key prints the journal's public key (PEM) instead: keep it beside the
checkpoints, and give it to assessors to check evidence bundles with
(atrest audit verify --bundle FILE.zip --key journal.pub.pem).`,
		Example: `  atrest audit checkpoint > cp-2026-12.txt
  atrest audit checkpoint >> kept-checkpoints.txt    # one file, a checkpoint a month
  atrest audit checkpoint --public-key > journal.pub.pem`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(o.configPath)
			if err != nil {
				return err
			}
			if o.publicKey {
				pub, err := journalVerifyKey(cfg)
				if err != nil {
					return fmt.Errorf("audit checkpoint: %w", err)
				}
				pem, err := suite.MarshalPublicKey(pub)
				if err != nil {
					return fmt.Errorf("audit checkpoint: %w", err)
				}
				_, err = cmd.OutOrStdout().Write(pem)
				return err
			}
			if j, err := openJournal(cfg); err == nil {
				err = j.Checkpoint(cmd.Context())
				if cerr := j.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return fmt.Errorf("audit checkpoint: %w", err)
				}
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "atrest: warning: %s; printing the newest checkpoint already signed\n", oneLine(err.Error()))
			}
			note, err := os.ReadFile(filepath.Join(cfg.JournalDir(), "checkpoint"))
			if err != nil {
				return fmt.Errorf("audit checkpoint: no signed checkpoint yet: %w", err)
			}
			pub, err := journalVerifyKey(cfg)
			if err != nil {
				return fmt.Errorf("audit checkpoint: %w", err)
			}
			rep, err := journal.Verify(cfg.JournalDir(), pub, nil)
			if err != nil {
				return errFound{"the journal does not verify, no checkpoint printed: " + oneLine(err.Error())}
			}
			if n := rep.Unsigned(); n > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "atrest: %d entries after this checkpoint are not signed yet\n", n)
			}
			_, err = cmd.OutOrStdout().Write(note)
			return err
		},
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	cmd.Flags().BoolVar(&o.publicKey, "public-key", false, "print the journal's public key (PEM) instead of a checkpoint")
	return cmd
}

type auditLogOptions struct {
	configPath                     string
	since, until                   string
	kind, subject, outcome, format string
}

func newAuditLogCmd() *cobra.Command {
	var o auditLogOptions
	cmd := &cobra.Command{
		Use:   "log [--config FILE] [--since DURATION|DATE] [--kind KIND]",
		Short: "List journal entries, filtered by time, kind, subject and outcome",
		Example: `  atrest audit log --since 24h
  atrest audit log --since 2026-10-01 --until 2026-11-01 --kind drill --format csv > drills.csv
  atrest audit log --kind scan --outcome findings --format jsonl | jq .figures`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuditLog(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	cmd.Flags().StringVar(&o.since, "since", "", "from this long ago (24h, 7d) or this date (2026-10-01, RFC 3339)")
	cmd.Flags().StringVar(&o.until, "until", "", "up to (not including) this duration ago or date")
	cmd.Flags().StringVar(&o.kind, "kind", "", "kind or kind prefix: scan, scan.files, backup, drill, key, user …")
	cmd.Flags().StringVar(&o.subject, "subject", "", "subject (job, source, root) or its prefix")
	cmd.Flags().StringVar(&o.outcome, "outcome", "", "outcome: ok, findings, fail, error, skipped …")
	cmd.Flags().StringVar(&o.format, "format", "table", "table, jsonl or csv (csv has a UTF-8 BOM for Excel)")
	return cmd
}

// parseWhen accepts a duration back from now or a date/time.
func parseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := config.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (24h, 7d) nor a date (2026-10-01)", s)
}

func runAuditLog(cmd *cobra.Command, o auditLogOptions) error {
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	now := time.Now()
	f := journal.Filter{Kind: o.kind, Subject: o.subject, Outcome: o.outcome}
	if f.Since, err = parseWhen(o.since, now, cfg.Location); err != nil {
		return fmt.Errorf("audit log: --since: %w", err)
	}
	if f.Until, err = parseWhen(o.until, now, cfg.Location); err != nil {
		return fmt.Errorf("audit log: --until: %w", err)
	}
	w, err := newEntryWriter(o.format, cmd.OutOrStdout(), cfg.Location)
	if err != nil {
		return fmt.Errorf("audit log: --format: %w", err)
	}
	for e, err := range journal.Query(cfg.JournalDir(), f) {
		if err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		if err := w.write(e); err != nil {
			return err
		}
	}
	return w.close()
}

type entryWriter struct {
	format string
	loc    *time.Location
	out    io.Writer
	csv    *csv.Writer
	enc    *json.Encoder
	n      int
}

func newEntryWriter(format string, out io.Writer, loc *time.Location) (*entryWriter, error) {
	w := &entryWriter{format: format, out: out, loc: loc}
	switch format {
	case "jsonl":
		w.enc = json.NewEncoder(out)
		w.enc.SetEscapeHTML(false)
	case "csv":
		io.WriteString(out, "\ufeff") // Excel on Chinese Windows reads CSV without a BOM as GBK
		w.csv = csv.NewWriter(out)
		w.csv.Write([]string{"seq", "time", "os_user", "host", "web_user", "kind", "subject", "outcome", "figures", "detail", "hash"})
	case "table":
	default:
		return nil, fmt.Errorf("unknown format %q (use table, jsonl or csv)", format)
	}
	return w, nil
}

func (w *entryWriter) write(e journal.Entry) error {
	w.n++
	figs := ""
	if len(e.Figures) > 0 {
		b, _ := json.Marshal(e.Figures)
		figs = string(b)
	}
	switch w.format {
	case "jsonl":
		return w.enc.Encode(e)
	case "csv":
		return w.csv.Write([]string{fmt.Sprint(e.Seq), e.Time.In(w.loc).Format(time.RFC3339), e.Actor.OSUser, e.Actor.Host,
			e.Actor.WebUser, e.Kind, e.Subject, e.Outcome, figs, e.Detail, e.Hash})
	}
	if w.n == 1 {
		fmt.Fprintf(w.out, "%-6s %-26s %-14s %-14s %-24s %-9s %s\n", "SEQ", "TIME", "USER", "KIND", "SUBJECT", "OUTCOME", "FIGURES")
	}
	user := e.Actor.OSUser
	if e.Actor.WebUser != "" {
		user = "web:" + e.Actor.WebUser
	}
	_, err := fmt.Fprintf(w.out, "%-6d %-26s %-14s %-14s %-24s %-9s %s\n", e.Seq, e.Time.In(w.loc).Format("2006-01-02 15:04:05 -07:00"),
		user, e.Kind, e.Subject, e.Outcome, strings.TrimSpace(figs+" "+e.Detail))
	return err
}

func (w *entryWriter) close() error {
	if w.csv != nil {
		w.csv.Flush()
		return w.csv.Error()
	}
	return nil
}
