package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/report"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/daemon"
	"github.com/atrest/atrest/internal/jobs"
	"github.com/atrest/atrest/internal/web"
)

type serveOptions struct {
	configPath string
	jitter     time.Duration
	grace      time.Duration
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the configured scans, backups, checks and drills on their schedules; serve /healthz and /metrics",
		Long: `serve runs in the foreground (as a systemd service, say) and does, on the
config's cron schedules, what the commands do by hand:

  file_roots[].scan_schedule     scan files of the root         (journal kind scan.files)
  sources[].scan_schedule        scan db of the source          (scan.db)
  backups[].schedule             backup run of the job          (backup.run), then
                                 backup prune of the job         (backup.prune)
  backups[].check_schedule       backup check of the job        (backup.check)
  backups[].read_schedule        backup check --read of the job (backup.check, read true)
  drills[].schedule              drill run of the drill         (drill.run)

Schedules are cron expressions: 5 fields, or 6 with a leading seconds field, or a
descriptor (@daily, @every 6h), in the server's local time. Entries without a
schedule are not run by serve.

  - One run per job at a time: a run due while the previous one is still going is
    skipped and journaled as outcome "skipped".
  - Each run starts up to --jitter after its time (at most half the schedule's
    period), so jobs that share a schedule do not all hit a server at once.
  - A drill whose last time passed while serve was down (no drill.run journaled
    since) runs at start.
  - Checks and drills of a job that serve backs up wait for the job's first
    backup run: a fresh installation does not fail them on an empty bucket (a
    check due before it is journaled as skipped, saying so).
  - After each successful backup, the job's backups older than its retention are
    pruned as by atrest backup prune (each deletion journaled), and once a day the
    journal anchor's bucket is checked against journal.retention (anchor.check)
    and its checkpoint copies older than journal.retention are pruned.
  - Every run is journaled with the same entry the command writes, and serve.start,
    serve.stop and config.reload too. Findings go to the journal as counts only;
    stderr gets one line per run (kind, job, outcome, journal number), never a
    value, a path or a server message.

Signals:
  SIGTERM, SIGINT  stop starting runs, let runs under way finish for --grace, then
                   cancel them; their outcomes (cancelled, if so) and serve.stop are
                   journaled before exit
  SIGHUP           reload the config file; if it is invalid, or changes state_dir,
                   the journal key or http.listen (those need a restart), the running
                   configuration stays and config.reload is journaled with outcome
                   error and the one-line error

HTTP, on http.listen (default 127.0.0.1:8080):
  /healthz   200 "ok" with the scheduler's last tick; 503 with the reason when the
             journal cannot take entries (the last append failed, or it ends in a
             torn line) or the scheduler has stopped
  /metrics   Prometheus text: atrest_backup_last_success_timestamp_seconds{job},
             atrest_check_status{job,check} (1 pass, 0 fail; each check's verdict
             from the newest check that measured it, so integrity keeps the last
             --read verdict) and atrest_check_timestamp_seconds{job,check},
             atrest_drill_last_success_timestamp_seconds{job},
             atrest_drill_rto_seconds{job}, atrest_plaintext_columns{source},
             atrest_plaintext_findings{root}, atrest_journal_entries_total,
             atrest_runs_total{kind,outcome}, atrest_last_run_outcome{kind,job,outcome}
             and atrest_last_run_timestamp_seconds{kind,job} (a drill that could not
             run shows as outcome error), atrest_config_last_reload_successful and
             atrest_config_last_reload_timestamp_seconds; with journal.syslog,
             atrest_syslog_backlog_entries and the forwarder's counters. They are
             read from the journal at start and follow it after, so a restart loses
             nothing and runs made with the CLI count too.

The endpoints carry no identifiers, only counts and times; still, keep http.listen
on loopback or behind an authenticating proxy.

Exit status: 0 after a clean stop; 2 if serve could not start (bad config, no
journal key, the address in use), with a one-line error on stderr.`,
		Example: `  atrest serve --config /etc/atrest/atrest.yaml
  systemctl reload atrest     # sends SIGHUP: reload the config
  curl -s 127.0.0.1:8080/metrics | grep ^atrest_`,
		Args: requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, o) },
	}
	cmd.Flags().StringVar(&o.configPath, "config", "", "configuration file (required)")
	cmd.Flags().DurationVar(&o.jitter, "jitter", daemon.DefaultJitter, "longest random delay before a scheduled run (0: none)")
	cmd.Flags().DurationVar(&o.grace, "grace", daemon.DefaultGrace, "at shutdown, how long runs under way may take before they are cancelled")
	cmd.MarkFlagRequired("config")
	return cmd
}

func runServe(cmd *cobra.Command, o serveOptions) error {
	d, ln, closeJournal, err := newServeDaemon(cmd, o)
	if err != nil {
		return err
	}
	defer closeJournal()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, stop := context.WithCancel(cmd.Context())
	defer stop()
	go func() {
		for {
			select {
			case <-hup:
				d.Reload() // journaled and logged; the old jobs stay on error
			case <-ctx.Done():
				return
			}
		}
	}()
	return d.Run(ctx, ln)
}

// newServeDaemon loads the config, builds its jobs, opens the journal and
// the listener: everything that can fail before serve starts. The caller
// runs the daemon and then closes the journal.
func newServeDaemon(cmd *cobra.Command, o serveOptions) (*daemon.Daemon, net.Listener, func() error, error) {
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return nil, nil, nil, err
	}
	j, err := openJournalWithAnchor(cfg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("serve: %w", err)
	}
	pruner := &anchorPruner{}
	list, err := serveJobs(cfg, j, pruner)
	if err != nil {
		j.Close()
		return nil, nil, nil, fmt.Errorf("serve: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		j.Close()
		return nil, nil, nil, fmt.Errorf("serve: http.listen %s: %w", cfg.HTTP.Listen, err)
	}
	dash, err := newServeWeb(cfg, j, cmd.ErrOrStderr())
	if err != nil {
		ln.Close()
		j.Close()
		return nil, nil, nil, fmt.Errorf("serve: %w", err)
	}
	fwd, err := syslogForwarder(cfg)
	if err != nil {
		ln.Close()
		j.Close()
		return nil, nil, nil, fmt.Errorf("serve: %w", err)
	}
	pager, err := notifyRunner(cfg, j)
	if err != nil {
		ln.Close()
		j.Close()
		return nil, nil, nil, fmt.Errorf("serve: %w", err)
	}
	var collectors []prometheus.Collector
	if fwd != nil {
		collectors = append(collectors, fwd.Collector())
	}
	// A reload that takes effect gives the dashboard the new names, zone
	// and proxies too; one that is refused leaves them as they were.
	var loaded *config.Config
	d, err := daemon.New(daemon.Options{
		Journal: j, Jobs: list, ConfigPath: cfg.Path, Jitter: o.jitter, Grace: o.grace,
		Log: cmd.ErrOrStderr(), Process: "atrest serve",
		Load: func() ([]daemon.Job, error) {
			next, list, err := reloadJobs(o.configPath, cfg, j, pruner)
			loaded = next
			return list, err
		},
		Reloaded: func() {
			if set, err := webSettings(loaded, j); err == nil {
				dash.Configure(set)
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s atrest serve: dashboard: %s; it keeps the names it had\n", time.Now().UTC().Format(time.RFC3339), oneLine(err.Error()))
			}
		},
		Web:        dash,
		Collectors: collectors,
	})
	if err != nil {
		ln.Close()
		j.Close()
		return nil, nil, nil, fmt.Errorf("serve: %w", err)
	}
	dash.SetRunner(d)
	// Beside the daemon: backups a killed run or a full disk left
	// unrecorded are journaled as found (beside serve's start rather than
	// before it: storage may be slow or away); the pager (its deliveries
	// are journaled, so it stops before the journal closes) and the syslog
	// forwarder (it flushes once more after, so serve.stop reaches the
	// log-audit appliance too).
	stopReconcile := background(func(ctx context.Context) { reconcileAll(ctx, cfg, cmd.ErrOrStderr()) })
	stopPager := background(func(ctx context.Context) {
		if pager != nil {
			pager.Run(ctx, notifyInterval)
		}
	})
	stopForwarding := background(func(ctx context.Context) {
		if fwd != nil {
			fwd.Run(ctx, syslogInterval)
		}
	})
	return d, ln, func() error {
		stopReconcile()
		dash.Close()
		stopPager()
		err := j.Close()
		stopForwarding()
		if fwd != nil {
			flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			fwd.Flush(flush)
			cancel()
			fwd.Close()
		}
		return err
	}, nil
}

// background runs fn until the returned stop is called, and waits for it.
func background(fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fn(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// syslogInterval is how often serve looks for entries to forward (and
// retries a receiver that is down); notifyInterval how often it looks for
// state changes to page about.
const (
	syslogInterval = 2 * time.Second
	notifyInterval = 2 * time.Second
)

// newServeWeb builds the dashboard on the daemon's journal: the users
// file, a verification of the journal with its key and anchor (cached by
// the dashboard), and the settings taken from the configuration
// (webSettings), which a reload replaces.
func newServeWeb(cfg *config.Config, j *journal.Journal, log io.Writer) (*web.Server, error) {
	set, err := webSettings(cfg, j)
	if err != nil {
		return nil, err
	}
	if us, err := web.ReadUsers(cfg.HTTP.UsersFile); err != nil || len(us) == 0 {
		why := "no users yet: add the first security administrator with atrest user add --config " + cfg.Path + " --role secadmin NAME"
		if err != nil {
			why = oneLine(err.Error())
		}
		fmt.Fprintf(log, "%s atrest serve: dashboard: %s\n", time.Now().UTC().Format(time.RFC3339), why)
	}
	return web.New(web.Options{
		Settings: set, JournalDir: cfg.JournalDir(), Journal: j, UsersFile: cfg.HTTP.UsersFile,
		Process: "atrest serve", Log: log, Verify: set.Reports.Verify,
	})
}

// webSettings is what the dashboard takes from cfg: the names of sources,
// roots, backups and drills with their RPOs, the time zone, the trusted
// proxies, and the officer's reports, journaled into serve's journal j.
func webSettings(cfg *config.Config, j *journal.Journal) (web.Settings, error) {
	set := web.Settings{Location: cfg.Location, TrustedProxies: cfg.HTTP.TrustedProxies}
	inv := &set.Inventory
	for _, s := range cfg.Sources {
		inv.Sources = append(inv.Sources, s.Name)
	}
	for _, r := range cfg.FileRoots {
		inv.Roots = append(inv.Roots, r.Name)
	}
	for _, b := range cfg.Backups {
		inv.Backups = append(inv.Backups, web.BackupJob{Name: b.Name, Source: b.Source, RPO: b.RPO, Format: b.Format, Suite: b.Suite})
	}
	for _, d := range cfg.Drills {
		inv.Drills = append(inv.Drills, web.DrillJob{Name: d.Name, Backup: d.Backup})
	}
	m, err := reportMaker(cfg)
	if err != nil {
		return set, err
	}
	m.Journal = func() (report.Journal, error) { return j, nil }
	set.Reports = m
	return set, nil
}

// reloadJobs loads the config file again for SIGHUP. What the daemon opened
// once (the journal, the listener) cannot follow a change, so such a change
// is refused as a whole rather than half applied.
func reloadJobs(path string, running *config.Config, j appender, pruner *anchorPruner) (*config.Config, []daemon.Job, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case cfg.JournalDir() != running.JournalDir():
		return nil, nil, fmt.Errorf("%s: state_dir changed (%s): restart atrest serve to move the journal", cfg.Path, cfg.StateDir)
	case cfg.Journal.SigningKeyFile != running.Journal.SigningKeyFile:
		return nil, nil, fmt.Errorf("%s: journal.signing_key_file changed: restart atrest serve to use another key", cfg.Path)
	case cfg.HTTP.Listen != running.HTTP.Listen:
		return nil, nil, fmt.Errorf("%s: http.listen changed (%s): restart atrest serve to listen elsewhere", cfg.Path, cfg.HTTP.Listen)
	case cfg.HTTP.UsersFile != running.HTTP.UsersFile:
		return nil, nil, fmt.Errorf("%s: http.users_file changed (%s): restart atrest serve to read another users file", cfg.Path, cfg.HTTP.UsersFile)
	}
	list, err := serveJobs(cfg, j, pruner)
	return cfg, list, err
}

// serveJobs turns every scheduled entry of the config into a job that calls
// what the matching command calls, and returns the entry it journals. Keys
// the jobs need are read now, so a missing key stops serve (or a reload)
// before anything runs rather than failing every run. A backup job prunes
// its expired backups after each successful run (and, once a day, the
// journal anchor's old checkpoint copies), journaling into j. Checks and
// drills of a job that serve backs up wait for its first backup run.
func serveJobs(cfg *config.Config, j appender, pruner *anchorPruner) ([]daemon.Job, error) {
	var list []daemon.Job
	var fp *crypto.Fingerprinter
	needFP := false
	for _, r := range cfg.FileRoots {
		needFP = needFP || r.ScanSchedule != ""
	}
	for _, s := range cfg.Sources {
		needFP = needFP || s.ScanSchedule != ""
	}
	if needFP {
		var err error
		if fp, err = jobs.Fingerprinter(cfg); err != nil {
			return nil, err
		}
	}
	for _, r := range cfg.FileRoots {
		if r.ScanSchedule == "" {
			continue
		}
		list = append(list, daemon.Job{Name: r.Name, Kind: daemon.KindScanFiles, Schedule: r.ScanSchedule,
			Run: func(ctx context.Context) (journal.Entry, error) { return scanFileRoot(ctx, fp, r) }})
	}
	for _, s := range cfg.Sources {
		if s.ScanSchedule == "" {
			continue
		}
		list = append(list, daemon.Job{Name: s.Name, Kind: daemon.KindScanDB, Schedule: s.ScanSchedule,
			Run: func(ctx context.Context) (journal.Entry, error) { return scanSource(ctx, fp, s) }})
	}
	var keys backup.Keys
	firstBackup := map[string]*daemon.Ref{} // backup job → the run its checks and drills wait for
	for _, b := range cfg.Backups {
		if b.Schedule == "" && b.CheckSchedule == "" && b.ReadSchedule == "" {
			continue
		}
		if keys == nil {
			var err error
			if keys, err = jobs.ManifestKeys(cfg); err != nil {
				return nil, fmt.Errorf("%w (run atrest init --config %s)", err, cfg.Path)
			}
		}
		if b.Schedule != "" {
			if b.Format != "atrest" {
				return nil, fmt.Errorf("backup %s has a schedule, but its format %s is made by another tool: atrest only checks it (use check_schedule)", b.Name, b.Format)
			}
			list = append(list, daemon.Job{Name: b.Name, Kind: daemon.KindBackupRun, Schedule: b.Schedule,
				Run: func(ctx context.Context) (journal.Entry, error) { return backupJob(ctx, cfg, &b) },
				After: func(ctx context.Context, e journal.Entry) {
					if e.Outcome == "ok" {
						jobs.Prune(ctx, cfg, &b, keys, jobs.AppendTo(j), false) // journals its deletions and its outcome
						pruner.maybe(ctx, cfg, j)
					}
				}})
			firstBackup[b.Name] = &daemon.Ref{Kind: daemon.KindBackupRun, Name: b.Name}
		}
		if b.CheckSchedule != "" {
			list = append(list, daemon.Job{Name: b.Name, Kind: daemon.KindBackupCheck, Schedule: b.CheckSchedule,
				Needs: firstBackup[b.Name],
				Run: func(ctx context.Context) (journal.Entry, error) {
					return backupCheckJob(ctx, cfg, &b, keys, backupCheckOptions{})
				}})
		}
		if b.ReadSchedule != "" {
			list = append(list, daemon.Job{Name: b.Name, Kind: daemon.KindBackupCheck, Variant: "read",
				Schedule: b.ReadSchedule, Needs: firstBackup[b.Name],
				Run: func(ctx context.Context) (journal.Entry, error) {
					return backupCheckJob(ctx, cfg, &b, keys, backupCheckOptions{read: true})
				}})
		}
	}
	for _, d := range cfg.Drills {
		if d.Schedule == "" {
			continue
		}
		list = append(list, daemon.Job{Name: d.Name, Kind: daemon.KindDrillRun, Schedule: d.Schedule,
			Needs: firstBackup[d.Backup],
			Run:   func(ctx context.Context) (journal.Entry, error) { return drillJob(ctx, cfg, &d) }})
	}
	return list, nil
}

// serveWorkers is the scan parallelism of a scheduled scan: half the CPUs,
// so a scan the operator did not start leaves room for the host's own work.
func serveWorkers() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// scanFileRoot is `atrest scan files --config F --root NAME` without the
// output: one example of each type per file is enough for the journal.
func scanFileRoot(ctx context.Context, fp *crypto.Fingerprinter, r config.FileRoot) (journal.Entry, error) {
	w := serveWorkers()
	_, e, err := jobs.NewFilesRun(fp, jobs.FileScan{Subject: r.Name, Paths: r.Paths, Exclude: r.Exclude,
		Workers: w, MaxDepth: 3, Examples: 1}).Run(ctx, func(audit.Record) error { return nil })
	return e, err
}

// scanSource is `atrest scan db --config F --source NAME` without the
// output.
func scanSource(ctx context.Context, fp *crypto.Fingerprinter, src config.Source) (journal.Entry, error) {
	spec, err := jobs.SourceScan(&src)
	if err != nil {
		return journal.Entry{Kind: "scan.db", Subject: src.Name, Outcome: "error", Detail: oneLine(err.Error())}, err
	}
	_, e, err := jobs.NewDBRun(spec).Run(ctx, fp, func(any) error { return nil })
	return e, err
}

// backupJob is `atrest backup run --config F --job NAME` without the output.
func backupJob(ctx context.Context, cfg *config.Config, job *config.Backup) (journal.Entry, error) {
	rec, err := jobs.Backup(ctx, cfg, job, jobs.BackupOptions{Parallel: 1, Record: recorder(cfg), Version: version})
	return jobs.BackupEntry(rec), err
}

// backupCheckJob is `atrest backup check --config F --job NAME` (with
// --read for read_schedule; never --canary) without the output.
func backupCheckJob(ctx context.Context, cfg *config.Config, job *config.Backup, keys backup.Keys, o backupCheckOptions) (journal.Entry, error) {
	res, err := jobs.Check(ctx, cfg, job, o.checkOptions(cfg), nil, keys)
	return jobs.CheckEntry(job.Name, res, err, o.checkOptions(cfg)), err
}

// anchorPruner checks the journal anchor's bucket (anchor.check), prunes
// its checkpoint copies, then the local journal's old segments, at most
// once a day: after a backup, which is when serve prunes.
type anchorPruner struct {
	mu   sync.Mutex
	last time.Time
}

func (p *anchorPruner) maybe(ctx context.Context, cfg *config.Config, j appender) {
	if cfg.Journal.Anchor == nil {
		return
	}
	p.mu.Lock()
	due := time.Since(p.last) >= 24*time.Hour
	if due {
		p.last = time.Now()
	}
	p.mu.Unlock()
	if due {
		// The bucket's posture first: a lifecycle rule that would expire
		// copies before journal.retention shows in the journal daily.
		_, e, _ := jobs.AnchorCheck(ctx, cfg)
		j.Append(e)                                         // an append error is the next append's too, and /healthz says so
		jobs.PruneAnchor(ctx, cfg, jobs.AppendTo(j), false) // journaled as anchor.prune, error or not
		// Then the local journal, below what the anchor keeps (journal.prune).
		if _, err := pruneJournal(ctx, cfg, false); err != nil {
			j.Append(journal.Entry{Kind: "journal.prune", Subject: cfg.JournalDir(), Outcome: "error", Detail: oneLine(err.Error())})
		}
	}
}

// drillJob is `atrest drill run --config F --job NAME` without the output:
// the same jobs.Drill as drill run, the same journal entry (outcome ok with
// figures.rto_seconds, which atrest_drill_rto_seconds and
// atrest_drill_last_success_timestamp_seconds read).
func drillJob(ctx context.Context, cfg *config.Config, d *config.Drill) (journal.Entry, error) {
	_, e, err := jobs.Drill(ctx, cfg, jobs.DrillRequest{Name: d.Name})
	return e, err
}

// reconcileAll reconciles every atrest job at serve's start, each within a
// minute, and logs what it did or could not do; it never stops serve.
func reconcileAll(ctx context.Context, cfg *config.Config, log io.Writer) {
	keys, err := jobs.ManifestKeys(cfg)
	if err != nil {
		return
	}
	for i := range cfg.Backups {
		job := &cfg.Backups[i]
		if job.Format != "atrest" {
			continue
		}
		jctx, cancel := context.WithTimeout(ctx, time.Minute)
		store, err := jobs.OpenStore(jctx, cfg, job)
		var n int
		if err == nil {
			n, err = jobs.Reconcile(jctx, cfg, job, store, keys, recorder(cfg))
		}
		cancel()
		now := time.Now().UTC().Format(time.RFC3339)
		switch {
		case err != nil:
			fmt.Fprintf(log, "%s atrest serve: reconcile backups of %s: %s\n", now, job.Name, oneLine(err.Error()))
		case n > 0:
			fmt.Fprintf(log, "%s atrest serve: %d backup(s) of %s in the bucket that the journal lacked: journaled as found\n", now, n, job.Name)
		}
	}
}

// appender takes journal entries: serve's journal, or a command's.
type appender interface {
	Append(journal.Entry) (journal.Entry, error)
}
