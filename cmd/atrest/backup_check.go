package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
	"github.com/atrest/atrest/internal/output"
)

type backupCheckOptions struct {
	commonFlags
	job      string
	read     bool
	readAll  bool
	identity string
	canary   bool
}

// checkOptions are the flags as the check job takes them; found backups
// are journaled in cfg's journal.
func (o backupCheckOptions) checkOptions(cfg *config.Config) jobs.CheckOptions {
	return jobs.CheckOptions{Read: o.read, ReadAll: o.readAll, Canary: o.canary, Record: recorder(cfg)}
}

func newBackupCheckCmd() *cobra.Command {
	var o backupCheckOptions
	cmd := &cobra.Command{
		Use:   "check --config FILE [--job NAME] [--read]",
		Short: "Check that a job's backups are there, recent, whole and kept safe (every job without --job)",
		Long: `check judges the backups in object storage as the server reports them now, one
record per finding, status pass, fail, warn or unsupported (the server does not
implement what the check needs). A backup counts only with a manifest whose signature
verifies and the very object it describes.

  freshness     the newest good backup's snapshot is within the job's rpo
  completeness  every data object has its manifest (an orphan is no backup: a run
                died after the upload, or the manifest was removed) and every
                manifest its object
  uploads       multipart uploads never finished (a run that died mid-upload);
                older than 24h: warn
  manifest      every manifest parses and its signature verifies with this
                installation's key (journal.signing_key_file); one that does not
                vouches for nothing: object and integrity fail for its backup too,
                "not trusted", and nothing is compared with its figures
  object        each stored object's size, S3 SHA-256 checksum and version are those
                recorded when it was uploaded
  trend         the newest backup against the one before: SQL size or total rows
                down by more than half, or a table with 0 rows that had rows, fails;
                a table gone warns
  integrity     with --read: streams the newest backup (every one with --read-all)
                and checks the ciphertext's size and SHA-256; with an identity of the
                backup's suite (--identity, or the identity_file of a drill of this
                job: age, or an SM2 private key) also its authentication (age's of every
                chunk, the sm object's HMAC-SM3 tag), zstd to the end and the SQL's size
                and SHA-256; nothing is restored. A failed read is retried once, and a
                transport failure (failure: transport) is never called corruption
                (failure: integrity)
  versioning    bucket versioning is on
  object_lock   object lock is on, with a default retention ≥ the job's retention
  encryption    bucket default encryption, or client-side encryption (age or sm) recorded in
                the signed manifests
  lifecycle     no expiry rule deletes backups before the job's retention is over
  canary        with --canary: a small object is put under retention and deleting it
                must be refused (some servers accept lock settings and ignore them)

Jobs with format mysqldump (dumps another tool uploads, matched by key_pattern) get
freshness and trend by the objects' dates and sizes, and with --read a gzip/zstd
decode to the end and mysqldump's "-- Dump completed" trailer in the last lines.

Without --job, the bucket of journal.anchor is checked too (job journal-anchor, journal
kind anchor.check): versioning, object lock and lifecycle against journal.retention, so
that no rule expires the checkpoint copies before the journal's retention is over.

--format junit writes JUnit XML, a test case per check record (warn and unsupported
are skipped), and a job that could not be checked as an <error>, never a pass.

A summary record closes the output. Each job's check is journaled (kind backup.check)
with the counts, after the backups no run's end recorded (killed, disk full, another
installation's) are journaled as backup.found. Exit 1 if any check fails.

` + exitHelp,
		Example: `  atrest backup check --config /etc/atrest/atrest.yaml
  atrest backup check --config atrest.yaml --job yb-nightly --read --identity /etc/atrest/backup.agekey
  atrest backup check --config atrest.yaml --format jsonl | jq 'select(.status=="fail")'`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBackupCheck(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	cmd.Flags().StringVar(&o.format, "format", "", "output format: table, json, jsonl or junit (default: table on a terminal, jsonl otherwise)")
	cmd.Flags().StringVar(&o.job, "job", "", "the backups[] job to check (default: every job)")
	cmd.Flags().BoolVar(&o.read, "read", false, "stream the newest backup and verify it to the end")
	cmd.Flags().BoolVar(&o.readAll, "read-all", false, "stream every backup (implies --read)")
	cmd.Flags().StringVar(&o.identity, "identity", "", "identity file (age, or an SM2 private key in PEM), to authenticate and decompress what --read streams")
	cmd.Flags().BoolVar(&o.canary, "canary", false, "prove object lock is enforced with a retained canary object that must refuse deletion")
	return cmd
}

// checkSummary closes backup check's output.
type checkSummary struct {
	Record      string   `json:"record"` // always "summary"
	Jobs        int      `json:"jobs"`
	Checks      int      `json:"checks"`
	Pass        int      `json:"pass"`
	Fail        int      `json:"fail"`
	Warn        int      `json:"warn"`
	Unsupported int      `json:"unsupported"`
	Errors      int      `json:"errors"`
	Failed      []string `json:"failed,omitempty"` // job/check of each failure
	Seconds     float64  `json:"seconds"`
}

func runBackupCheck(cmd *cobra.Command, o backupCheckOptions) error {
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	selected, err := selectJobs(cfg, "backup check", o.job)
	if err != nil {
		return err
	}
	keys, err := jobs.ManifestKeys(cfg)
	if err != nil {
		return fmt.Errorf("backup check: %w (run atrest init --config %s)", err, cfg.Path)
	}
	var given []suite.Identity
	if o.identity != "" {
		if given, err = jobs.LoadIdentity(o.identity); err != nil {
			return fmt.Errorf("backup check: %w", err)
		}
	}
	w, err := o.writer(cmd)
	if err != nil {
		return err
	}
	start := time.Now()
	junit := o.outFormat(cmd) == "junit"
	sum := checkSummary{Record: "summary"}
	var firstErr error
	var writeErr error
	write := func(rec any) {
		if writeErr == nil {
			writeErr = w.Write(rec)
		}
	}
	tally := func(name string, res []check.Result, err error, e journal.Entry) {
		sum.Jobs++
		counts := map[check.Status]int{}
		for _, r := range res {
			counts[r.Status]++
			sum.Checks++
			if r.Status == check.Fail {
				sum.Failed = append(sum.Failed, name+"/"+r.Check)
			}
			write(r)
		}
		sum.Pass += counts[check.Pass]
		sum.Fail += counts[check.Fail]
		sum.Warn += counts[check.Warn]
		sum.Unsupported += counts[check.Unsupported]
		if err != nil {
			sum.Errors++
			if firstErr == nil {
				firstErr = err
			}
			if junit {
				write(output.CouldNotRun{Suite: name, Name: "check", Err: err})
			}
		}
		if jerr := record(cfg, e); jerr != nil && firstErr == nil {
			firstErr = jerr
		}
	}
	for i := range selected {
		job := &selected[i]
		res, err := jobs.Check(cmd.Context(), cfg, job, o.checkOptions(cfg), given, keys)
		tally(job.Name, res, err, jobs.CheckEntry(job.Name, res, err, o.checkOptions(cfg)))
	}
	// Every job checked: the journal anchor's bucket too, against
	// journal.retention.
	if o.job == "" && cfg.Journal.Anchor != nil {
		res, e, err := jobs.AnchorCheck(cmd.Context(), cfg)
		tally(check.AnchorJob, res, err, e)
	}
	sum.Seconds = time.Since(start).Seconds()
	write(sum)
	if cerr := w.Close(); writeErr == nil {
		writeErr = cerr
	}
	switch {
	case firstErr != nil:
		return firstErr
	case writeErr != nil:
		return writeErr
	case sum.Fail > 0:
		return errFound{fmt.Sprintf("%d check(s) failed: %s", sum.Fail, strings.Join(compact(sum.Failed), ", "))}
	}
	return nil
}

// compact lists each job/check once, in order.
func compact(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
