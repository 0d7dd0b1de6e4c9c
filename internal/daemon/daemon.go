package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/config"
)

// Job is one scheduled run.
type Job struct {
	Name     string // the config entry's name; the journal subject
	Kind     string // scan.files, scan.db, backup.run, backup.check, drill.run
	Schedule string // cron, 5 fields or 6 with leading seconds, or a descriptor
	// Run does the work and returns the journal entry the CLI would write
	// for it. The daemon fills in an empty Kind, Subject or Outcome, turns
	// an error into outcome "error" (or "cancelled" at shutdown) and appends
	// the entry. Run must return soon after ctx is cancelled.
	Run func(ctx context.Context) (journal.Entry, error)
	// Variant tells apart two jobs of one kind and name with their own
	// schedules (a backup's plain check and its reading check, "read"):
	// each has its own one-run-at-a-time. RunNow starts the plain one.
	Variant string
	// Needs, if set, is a run that must have been journaled (any outcome
	// but skipped) before this job runs on its schedule: a check or drill
	// of a fresh installation waits for the job's first backup instead of
	// failing on an empty bucket. A due run that waits is journaled as
	// skipped; RunNow does not wait.
	Needs *Ref
	// After, if set, runs once the run's entry is journaled, still as part
	// of the run (one at a time, within shutdown's grace): serve prunes
	// old backups after each backup. It journals what it does itself.
	After func(ctx context.Context, e journal.Entry)
}

// Ref names a job by kind and name, as journal entries do (kind, subject).
type Ref struct {
	Kind, Name string
}

// Defaults for serve's flags.
const (
	DefaultJitter    = 30 * time.Second
	DefaultGrace     = 2 * time.Minute
	DefaultHeartbeat = 30 * time.Second
)

// Options configure a Daemon.
type Options struct {
	// Journal records every run; the caller opens it before New and closes
	// it after Run returns.
	Journal *journal.Journal
	Jobs    []Job
	// Load reads and validates the configuration again and builds its jobs;
	// Reload calls it. Nil: reloading is refused.
	Load func() ([]Job, error)
	// Reloaded, if set, is called when a reload has taken effect (the jobs
	// Load built are scheduled), before config.reload is journaled: serve
	// hands the dashboard the new configuration's names then, and not for
	// a reload that was refused.
	Reloaded func()
	// ConfigPath is the subject of the serve.* and config.reload entries.
	ConfigPath string
	// Jitter is the longest random delay between a fire time and its run
	// (capped at half the schedule's period); 0: none.
	Jitter time.Duration
	// Grace is how long shutdown waits for runs under way before it cancels
	// them; 0: cancel at once.
	Grace time.Duration
	// Heartbeat is the longest the scheduler sleeps, hence how stale the
	// last tick on /healthz and the metrics' view of CLI runs can be.
	// Default DefaultHeartbeat.
	Heartbeat time.Duration
	Clock     Clock     // default: the wall clock
	Log       io.Writer // one line per run; default io.Discard
	// Process names the daemon in the journal entries' actor ("atrest serve").
	Process string
	// Web serves every path but /healthz and /metrics: the dashboard and its
	// API. Nil: nothing else is served.
	Web http.Handler
	// Collectors add to /metrics what lives beside the daemon (the syslog
	// forwarder's backlog, say).
	Collectors []prometheus.Collector
}

// Daemon schedules jobs and serves their state over HTTP.
type Daemon struct {
	o     Options
	clock Clock
	m     *metrics
	rnd   func(time.Duration) time.Duration // jitter source; tests pin it

	tailMu sync.Mutex // serialises journal reads and apply
	tail   *journal.Tailer

	mu        sync.Mutex
	jobs      map[string]*scheduled // by jobKey
	running   map[string]bool       // by jobKey, across reloads
	lastRun   map[string]time.Time  // newest run entry by jobKey, skipped ones aside
	lastTick  time.Time
	appendErr error // the newest append failed: the journal cannot take entries
	torn      bool  // the journal ends in a torn line
	stopping  bool  // shutdown has begun: RunNow refuses

	logMu      sync.Mutex
	wake       chan struct{}
	runCtx     context.Context
	cancelRuns context.CancelFunc
	wg         sync.WaitGroup
}

type scheduled struct {
	job   Job
	sched cron.Schedule
	plan  plan
}

func jobKey(kind, name string) string { return kind + "\x00" + name }

// key is the job's key in d.jobs and d.running: its kind, name and variant.
func (j Job) key() string {
	if j.Variant == "" {
		return jobKey(j.Kind, j.Name)
	}
	return jobKey(j.Kind, j.Name) + "\x00" + j.Variant
}

// New checks the jobs and returns a Daemon; nothing runs before Run.
func New(o Options) (*Daemon, error) {
	if o.Journal == nil {
		return nil, errors.New("daemon: no journal")
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	jobs, err := compile(o.Jobs)
	if err != nil {
		return nil, err
	}
	d := &Daemon{o: o, clock: o.Clock, m: newMetrics(), rnd: uniform,
		tail: journal.NewTailer(o.Journal.Dir()), jobs: jobs,
		running: map[string]bool{}, lastRun: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	for _, c := range o.Collectors {
		if err := d.m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("daemon: metrics: %w", err)
		}
	}
	d.runCtx, d.cancelRuns = context.WithCancel(context.Background())
	return d, nil
}

// compile parses the jobs' schedules; plans are made when they are installed.
func compile(jobs []Job) (map[string]*scheduled, error) {
	out := map[string]*scheduled{}
	for _, j := range jobs {
		if j.Name == "" || j.Kind == "" || j.Run == nil {
			return nil, fmt.Errorf("daemon: job %q of kind %q: needs a name, a kind and a run func", j.Name, j.Kind)
		}
		s, err := config.ParseSchedule(j.Schedule)
		if err != nil {
			return nil, fmt.Errorf("daemon: %s %s: schedule %q: %w", j.Kind, j.Name, j.Schedule, err)
		}
		k := j.key()
		if out[k] != nil {
			return nil, fmt.Errorf("daemon: %s %s%s: defined twice", j.Kind, j.Name, variantSuffix(j.Variant))
		}
		out[k] = &scheduled{job: j, sched: s}
	}
	return out, nil
}

// Handler serves /healthz and /metrics.
func (d *Daemon) Handler() http.Handler { return d.handler() }

// Run rebuilds the metrics from the journal, journals serve.start, catches
// up missed drills, serves HTTP on ln (if not nil) and runs jobs until ctx
// is done; then it shuts down gracefully and journals serve.stop. It returns
// an error only if the daemon could not start.
func (d *Daemon) Run(ctx context.Context, ln net.Listener) error {
	now := d.clock.Now()
	njobs, err := d.prepare(now)
	if err != nil {
		return err
	}
	if _, err := d.append(journal.Entry{Kind: "serve.start", Subject: d.o.ConfigPath, Outcome: "ok",
		Figures: map[string]any{"jobs": njobs, "journal_entries": d.m.entries.Load()}}); err != nil {
		return fmt.Errorf("daemon: cannot journal: %w", err)
	}
	var srv *http.Server
	if ln != nil {
		srv = &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		d.logf("started: %d jobs, journal has %d entries, listening on %s", njobs, d.m.entries.Load(), ln.Addr())
	} else {
		d.logf("started: %d jobs, journal has %d entries", njobs, d.m.entries.Load())
	}
	d.catchUp(now)
	for {
		now := d.clock.Now()
		wait := d.tick(now)
		select {
		case <-ctx.Done():
			d.shutdown(srv)
			return nil
		case <-d.clock.After(wait):
		case <-d.wake:
		}
	}
}

// prepare reads the whole journal (the rebuild of the metrics and of each
// job's last run) and plans every job from now.
func (d *Daemon) prepare(now time.Time) (jobs int, err error) {
	if err := d.sync(); err != nil {
		return 0, fmt.Errorf("daemon: read journal: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.plan(d.jobs, nil, now)
	d.lastTick = now
	return len(d.jobs), nil
}

// plan makes a plan for each job in jobs, keeping the plan of a job that
// was in old with the same schedule so that a reload does not move it.
// d.mu is held.
func (d *Daemon) plan(jobs, old map[string]*scheduled, now time.Time) {
	for k, s := range jobs {
		if o := old[k]; o != nil && o.job.Schedule == s.job.Schedule {
			s.plan = o.plan
			continue
		}
		s.plan = nextPlan(s.sched, now, now, d.o.Jitter, d.rnd)
	}
}

// catchUp runs, now, each drill whose latest fire time passed with no run
// journaled since: a drill missed while the daemon was down.
func (d *Daemon) catchUp(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(d.jobs)) {
		s := d.jobs[k]
		if s.job.Kind == KindDrillRun && needsCatchUp(s.sched, d.lastRun[k], now) && d.waitingFor(s.job) == "" {
			d.startLocked(k, s.job, true, time.Time{})
		}
	}
}

// waitingFor says which run job still waits for (Job.Needs), "" for none;
// d.mu is held.
func (d *Daemon) waitingFor(job Job) string {
	if n := job.Needs; n != nil && d.lastRun[jobKey(n.Kind, n.Name)].IsZero() {
		return n.Kind + " " + n.Name
	}
	return ""
}

// tick triggers the jobs that are due at now and returns how long to sleep
// until the next one (at most a heartbeat).
func (d *Daemon) tick(now time.Time) time.Duration {
	if err := d.sync(); err != nil {
		d.logf("journal: %s", oneLine(err.Error()))
	}
	type skip struct {
		job Job
		why string
	}
	var skipped []skip
	d.mu.Lock()
	d.lastTick = now
	wait := d.o.Heartbeat
	for _, k := range slices.Sorted(maps.Keys(d.jobs)) {
		s := d.jobs[k]
		if s.plan.at.IsZero() {
			continue
		}
		if !now.Before(s.plan.at) {
			switch w := d.waitingFor(s.job); {
			case d.running[k]:
				skipped = append(skipped, skip{s.job, "previous run still running"})
			case w != "":
				skipped = append(skipped, skip{s.job, "waiting for the first " + w + " to be journaled"})
			default:
				d.startLocked(k, s.job, false, s.plan.at)
			}
			s.plan = nextPlan(s.sched, s.plan.fire, now, d.o.Jitter, d.rnd)
			if s.plan.at.IsZero() {
				continue
			}
		}
		if w := s.plan.at.Sub(now); w < wait {
			wait = w
		}
	}
	d.mu.Unlock()
	for _, sk := range skipped {
		e, err := d.append(journal.Entry{Kind: sk.job.Kind, Subject: sk.job.Name, Outcome: "skipped",
			Detail: sk.why})
		d.logRun(sk.job, e, err, 0)
	}
	return max(wait, 0)
}

// startLocked starts a run of job that was due at due (zero for a
// catch-up); d.mu is held.
func (d *Daemon) startLocked(key string, job Job, catchUp bool, due time.Time) {
	d.running[key] = true
	d.wg.Add(1)
	go d.runJob(key, job, catchUp, "", due)
}

// runJob runs job and journals its entry; webUser is who started it from
// the dashboard (RunNow), "" for a scheduled run. A scheduled run's entry
// gets figures.start_delay_seconds: how late after its planned time (fire
// time plus jitter) it started, which a busy daemon shows first.
func (d *Daemon) runJob(key string, job Job, catchUp bool, webUser string, due time.Time) {
	defer d.wg.Done()
	start := d.clock.Now()
	e, err := callRun(d.runCtx, job)
	e = d.settle(job, e, err, catchUp)
	e.Actor.WebUser = webUser
	if webUser != "" {
		// Started from the dashboard: a run by hand, as one from the CLI.
		e.Figures = withFigure(e.Figures, "by_hand", true)
	}
	if !due.IsZero() {
		e.Figures = withFigure(e.Figures, "start_delay_seconds", max(start.Sub(due), 0).Seconds())
	}
	stored, jerr := d.append(e)
	if jerr == nil && job.After != nil {
		d.callAfter(job, stored)
	}
	d.mu.Lock()
	delete(d.running, key)
	d.mu.Unlock()
	d.logRun(job, stored, jerr, d.clock.Now().Sub(start))
	if jerr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// A checkpoint per run, as the CLI signs one per command: a tail cut
		// off the journal then loses at most what the last run wrote.
		if err := d.o.Journal.Checkpoint(ctx); err != nil {
			d.logf("journal: checkpoint: %s", oneLine(err.Error()))
		}
		cancel()
	}
}

// callRun runs the job and turns a panic into an error, so one broken run
// neither kills the daemon nor leaves its job marked as running for ever.
func callRun(ctx context.Context, job Job) (e journal.Entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = journal.Entry{}, fmt.Errorf("run panicked: %v", r)
		}
	}()
	return job.Run(ctx)
}

// callAfter runs job.After and turns a panic into a log line: the run
// itself is journaled already.
func (d *Daemon) callAfter(job Job, e journal.Entry) {
	defer func() {
		if r := recover(); r != nil {
			d.logf("%s %s: after the run: panicked: %v", job.Kind, job.Name, r)
		}
	}()
	job.After(d.runCtx, e)
}

// withFigure returns figs (a copy: the run's own map stays as it was)
// with name set to v.
func withFigure(figs map[string]any, name string, v any) map[string]any {
	out := maps.Clone(figs)
	if out == nil {
		out = map[string]any{}
	}
	out[name] = v
	return out
}

func variantSuffix(v string) string {
	if v == "" {
		return ""
	}
	return " (" + v + ")"
}

// settle completes the entry a run returned.
func (d *Daemon) settle(job Job, e journal.Entry, err error, catchUp bool) journal.Entry {
	if e.Kind == "" {
		e.Kind = job.Kind
	}
	if e.Subject == "" {
		e.Subject = job.Name
	}
	if err != nil {
		if e.Outcome == "" || e.Outcome == "ok" {
			e.Outcome = "error"
		}
		if e.Detail == "" {
			e.Detail = oneLine(err.Error())
		}
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	if d.runCtx.Err() != nil && (err != nil || e.Outcome == "error") {
		e.Outcome = "cancelled"
		e.Detail = strings.TrimSuffix("cancelled at shutdown: "+e.Detail, ": ")
	}
	if catchUp {
		e.Figures = withFigure(e.Figures, "catch_up", true)
	}
	return e
}

// shutdown stops triggering (the caller's loop has ended), lets runs under
// way finish for the grace period, cancels the rest, and journals serve.stop.
func (d *Daemon) shutdown(srv *http.Server) {
	d.mu.Lock()
	d.stopping = true
	inFlight := len(d.running)
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	cancelled, abandoned := false, false
	if inFlight > 0 {
		d.logf("stopping: %d runs under way, waiting up to %s", inFlight, d.o.Grace)
	}
	select {
	case <-done:
	case <-d.after(d.o.Grace):
		d.cancelRuns()
		cancelled = true
		select {
		case <-done:
		case <-d.clock.After(time.Minute):
			abandoned = true
		}
	}
	d.cancelRuns()
	st := journal.Entry{Kind: "serve.stop", Subject: d.o.ConfigPath, Outcome: "ok",
		Figures: map[string]any{"in_flight": inFlight, "cancelled": cancelled}}
	if abandoned {
		st.Outcome, st.Detail = "error", "runs did not stop within a minute of cancellation"
	}
	if _, err := d.append(st); err != nil {
		d.logf("journal: %s", oneLine(err.Error()))
	}
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(ctx)
		cancel()
	}
	d.logf("stopped")
}

// after is clock.After that fires at once for d <= 0 (no grace).
func (d *Daemon) after(t time.Duration) <-chan time.Time {
	if t <= 0 {
		c := make(chan time.Time, 1)
		c <- d.clock.Now()
		return c
	}
	return d.clock.After(t)
}

// Reload loads the configuration again (Options.Load). If it is invalid
// the daemon keeps its jobs and journals config.reload with outcome error
// and the one-line error; otherwise it swaps the jobs, keeping the plans of
// unchanged ones, and journals config.reload ok. Runs under way go on.
func (d *Daemon) Reload() error {
	var jobs map[string]*scheduled
	err := errors.New("no configuration loader")
	if d.o.Load != nil {
		var list []Job
		if list, err = d.o.Load(); err == nil {
			jobs, err = compile(list)
		}
	}
	if err != nil {
		_, jerr := d.append(journal.Entry{Kind: "config.reload", Subject: d.o.ConfigPath, Outcome: "error",
			Detail: oneLine(err.Error())})
		d.logf("reload: %s; keeping the running configuration", oneLine(err.Error()))
		return errors.Join(err, jerr)
	}
	now := d.clock.Now()
	d.mu.Lock()
	old := d.jobs
	d.plan(jobs, old, now)
	d.jobs = jobs
	added, removed := 0, 0
	for k := range jobs {
		if old[k] == nil {
			added++
		}
	}
	for k := range old {
		if jobs[k] == nil {
			removed++
		}
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	if d.o.Reloaded != nil {
		d.o.Reloaded()
	}
	_, jerr := d.append(journal.Entry{Kind: "config.reload", Subject: d.o.ConfigPath, Outcome: "ok",
		Figures: map[string]any{"jobs": len(jobs), "added": added, "removed": removed}})
	d.logf("reloaded: %d jobs (%d added, %d removed)", len(jobs), added, removed)
	return jerr
}

// Jobs returns the names of the scheduled jobs as "kind name", sorted.
func (d *Daemon) Jobs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, s := range d.jobs {
		if s.job.Variant == "" {
			out = append(out, s.job.Kind+" "+s.job.Name)
		}
	}
	slices.Sort(out)
	return out
}

// append journals e and brings the metrics up to date with it (and with
// whatever other processes appended before it).
func (d *Daemon) append(e journal.Entry) (journal.Entry, error) {
	if e.Actor.Process == "" {
		e.Actor.Process = d.o.Process
	}
	stored, err := d.o.Journal.Append(e)
	d.mu.Lock()
	if stored.Seq == 0 { // not stored; an anchor error alone leaves the entry on disk
		d.appendErr = err
	} else {
		d.appendErr = nil
	}
	d.mu.Unlock()
	if serr := d.sync(); serr != nil {
		d.logf("journal: %s", oneLine(serr.Error()))
	}
	return stored, err
}

// sync reads what was appended to the journal since the last call and
// applies it.
func (d *Daemon) sync() error {
	d.tailMu.Lock()
	defer d.tailMu.Unlock()
	bad, err := d.tail.Poll(d.apply)
	for _, b := range bad {
		d.logf("journal: unreadable line (run atrest audit verify): %s", oneLine(b.Error()))
	}
	d.mu.Lock()
	d.torn = d.tail.Torn()
	d.mu.Unlock()
	return err
}

// apply is the one place an entry changes the daemon's view: the metrics
// and the last run of each job (for catch-up). Called for every entry of the
// journal, in order, whoever appended it.
func (d *Daemon) apply(e journal.Entry) {
	d.m.apply(e)
	if runKinds[e.Kind] && e.Outcome != "skipped" {
		d.mu.Lock()
		d.lastRun[jobKey(e.Kind, e.Subject)] = e.Time
		d.mu.Unlock()
	}
}

func (d *Daemon) logf(format string, args ...any) {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	fmt.Fprintf(d.o.Log, "%s atrest serve: %s\n", d.clock.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// logRun writes the run's one line. It names the kind, the job and the
// outcome, never the entry's detail, which can quote a path or a server
// message: that stays in the journal, where the line points.
func (d *Daemon) logRun(job Job, e journal.Entry, jerr error, took time.Duration) {
	if jerr != nil && e.Seq == 0 {
		d.logf("%s %s: NOT JOURNALED: %s", job.Kind, job.Name, oneLine(jerr.Error()))
		return
	}
	what := e.Outcome
	if took > 0 {
		what += fmt.Sprintf(" in %.1fs", took.Seconds())
	}
	d.logf("%s %s: %s (journal #%d)", job.Kind, job.Name, what, e.Seq)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
