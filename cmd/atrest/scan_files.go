package main

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/internal/jobs"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

type scanFilesOptions struct {
	commonFlags
	onlyFlag
	exclude  []string
	roots    []string
	workers  int
	maxDepth int
	oneFS    bool
	findings string
	examples int
}

func newScanFilesCmd() *cobra.Command {
	var o scanFilesOptions
	cmd := &cobra.Command{
		Use:   "files [flags] PATH...",
		Short: "Scan file trees (text, archives, office documents, PDF, e-mail, SQLite) for plaintext identifiers",
		Long: `scan files walks each PATH and reports every identifier stored in plaintext:
resident ID numbers (居民身份证号, also 15-digit, 居住证 and 永居证), mobile numbers,
bank cards, unified social credit codes, e-mail addresses, and passport and
HK/MO/TW permit numbers next to a keyword. Each is validated (check digits, real
dates, allocation tables), so order numbers, timestamps, IMEIs and masked values
are not reported.

Files are typed by content, not by name: UTF-8, UTF-16 and GB18030/GBK text;
gzip, zstd, bzip2, xz, tar, zip, 7z and rar members (nested up to 3 deep);
spreadsheets (xlsx, .xls, WPS .et, .ods: line = row) and documents (docx, .doc,
WPS .wps, .odt, .rtf, PDF text: line = paragraph) as they are displayed; e-mail
(.eml, .mht) with every attachment; dBase tables by field; SQLite files as
databases, each column judged as scan db judges it. Encrypted files and
password-protected documents and archives are "encrypted"; binaries "binary".
What could hold text and was not read (unreadable, image-only PDF, bomb) is
counted under not_read and makes the run exit 3 when nothing was found.
Symlinks are not followed out of the root, nor /proc, /sys or /dev entered.

Each finding carries a mask (110***********123X) and a keyed fingerprint, never
the value. --findings all lists every finding (the default for json, jsonl and
sarif); --findings summary (the default for table) lists the first --examples
findings of each type in each file, and each file record counts them all by
type. With --config, the installation's fingerprint key is used, the run
is journaled, and with no PATH the config's file_roots are scanned.

` + exitHelp,
		Example: `  atrest scan files /srv/exports
  atrest scan files --format jsonl --exclude '*.tmp' /srv/exports > findings.jsonl
  atrest scan files --format jsonl --findings summary /var/log/his > per-file.jsonl
  atrest scan files --config /etc/atrest/atrest.yaml --root exports`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScanFiles(cmd, o, args)
		},
	}
	o.commonFlags.add(cmd, "table, json, jsonl or sarif")
	o.onlyFlag.add(cmd)
	cmd.Flags().StringArrayVar(&o.exclude, "exclude", nil, "glob of paths or names to skip (repeatable), e.g. '*.tmp' or 'cache/*'")
	cmd.Flags().StringArrayVar(&o.roots, "root", nil, "with --config: scan only this file_roots entry (repeatable)")
	cmd.Flags().IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "files scanned at once, and chunks of one big file matched at once")
	cmd.Flags().IntVar(&o.maxDepth, "max-depth", 3, "how deep to open zip archives nested in zip archives")
	cmd.Flags().BoolVar(&o.oneFS, "one-file-system", false, "do not descend into other filesystems mounted below a PATH (proc, sys and dev never are)")
	cmd.Flags().StringVar(&o.findings, "findings", "", "all (every finding) or summary (counts by type per file, and --examples findings of each type) (default: summary for table, all otherwise)")
	cmd.Flags().IntVar(&o.examples, "examples", 3, "with --findings summary: findings of each type listed per file")
	return cmd
}

func runScanFiles(cmd *cobra.Command, o scanFilesOptions, args []string) error {
	if err := o.check(cmd); err != nil {
		return err
	}
	cfg, err := o.loadConfig()
	if err != nil {
		return err
	}
	paths, exclude := args, o.exclude
	subject := strings.Join(paths, ",")
	if len(paths) == 0 {
		if cfg == nil {
			return fmt.Errorf("scan files: give at least one PATH, or --config with file_roots")
		}
		var names []string
		for _, r := range cfg.FileRoots {
			if len(o.roots) > 0 && !contains(o.roots, r.Name) {
				continue
			}
			paths = append(paths, r.Paths...)
			exclude = append(exclude, r.Exclude...)
			names = append(names, r.Name)
		}
		// The journal (and the daemon's metrics) know a configured root by name.
		subject = strings.Join(names, ",")
		if len(paths) == 0 {
			return fmt.Errorf("scan files: %s has no file_roots to scan", cfg.Path)
		}
	}
	examples, err := o.examplesPerType(cmd)
	if err != nil {
		return err
	}
	fp, err := jobs.Fingerprinter(cfg)
	if err != nil {
		return err
	}
	w, err := o.writer(cmd)
	if err != nil {
		return err
	}
	run := jobs.NewFilesRun(fp, jobs.FileScan{Subject: subject, Paths: paths, Exclude: exclude,
		Workers: o.workers, MaxDepth: o.maxDepth, OneFS: o.oneFS, Examples: examples})
	stopProgress := startProgress(cmd.ErrOrStderr(), func() string {
		p := run.Progress()
		return fmt.Sprintf("%d files  %s  %d findings", p.Files, humanize.IBytes(uint64(p.Bytes)), p.Findings)
	})
	sum, entry, err := run.Run(cmd.Context(), func(r audit.Record) error {
		if !o.keep(r) {
			return nil
		}
		return w.Write(r)
	})
	stopProgress()
	if jerr := record(cfg, entry); jerr != nil && err == nil {
		err = jerr
	}
	if err == nil {
		err = w.Write(sum)
	}
	// Close flushes: what was found before an error is still printed.
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("scan files: %w", err)
	}
	unread := ""
	if n := sum.Unread(); n > 0 {
		unread = fmt.Sprintf("; %d could hold text and were not read: %s", n, sum.NotReadLine())
	}
	switch {
	case sum.Findings > 0 || sum.PlaintextColumns > 0:
		cols := ""
		if sum.PlaintextColumns > 0 {
			cols = fmt.Sprintf(", %d database columns in plaintext", sum.PlaintextColumns)
		}
		return errFound{fmt.Sprintf("%d plaintext identifiers in %d files scanned%s%s", sum.Findings, sum.Scanned, cols, unread)}
	case unread != "":
		return errPartial{fmt.Sprintf("no plaintext identifiers in %d files scanned%s", sum.Scanned, unread)}
	}
	return nil
}

// examplesPerType is how many findings of each type a file lists: 0 for all.
// A person at a table gets the summary by default, a script every finding
// (SPEC §3: each occurrence is one finding record).
func (o scanFilesOptions) examplesPerType(cmd *cobra.Command) (int, error) {
	mode := o.findings
	if mode == "" {
		mode = "all"
		if o.outFormat(cmd) == "table" {
			mode = "summary"
		}
	}
	switch mode {
	case "all":
		return 0, nil
	case "summary":
		if o.examples < 1 {
			return 0, fmt.Errorf("scan files: --examples %d: list at least 1 finding of each type", o.examples)
		}
		return o.examples, nil
	}
	return 0, fmt.Errorf("scan files: --findings %q: use all or summary", mode)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
