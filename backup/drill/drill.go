package drill

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine"
)

// Failure classes (Record.Failure, Failure.Class).
const (
	// FailTransport: the object could not be read, twice; the backup may
	// be fine.
	FailTransport = "transport"
	// FailIntegrity: the bytes are not the bytes backed up (checksum, age
	// or sm authentication, zstd or gzip, a truncated dump), the restored tables
	// differ from the manifest, or the manifest is not trusted (this
	// installation's key does not verify it: nothing is read then).
	FailIntegrity = "integrity"
	// FailRestore: the drill server refused a statement or went away.
	FailRestore = "restore"
	// FailProbe: a probe query failed or returned a false value.
	FailProbe = "probe"
	// FailKey: no identity, or one the backup was not encrypted to.
	FailKey = "key"
	// FailNoBackup: the job has no complete backup to drill.
	FailNoBackup = "no_backup"
)

// Record statuses.
const (
	StatusPass = "pass"
	StatusFail = "fail"
	// StatusError is a drill that could not run (unreachable target,
	// refused target, no store): not a verdict on the backup.
	StatusError = "error"
)

// Failure is the error of a drill that ran and failed.
type Failure struct {
	Job    string
	Class  string
	Detail string
}

func (f *Failure) Error() string {
	return fmt.Sprintf("drill %s: %s failure: %s", f.Job, f.Class, f.Detail)
}

// Job is the part of a backup job's configuration a drill needs.
type Job struct {
	Name string
	// Prefix is the job's key prefix; atrest backups are under
	// backup.JobPrefix(Prefix, Name).
	Prefix string
	// Format is "atrest" (default), or "mysqldump" or "pg_dump": dumps
	// another tool uploads, found by KeyPattern (path.Match on the whole
	// key), of the target engine's family.
	Format     string
	KeyPattern string
	// Databases are the source databases; a mysqldump of one database may
	// qualify objects with its name, which the load rewrites.
	Databases []string
}

// Probe is a query that must return a true value in the restored data;
// with ExpectSHA256 it is a canary: the SHA-256 of the value it returns
// (the first column of the first row, as the server gives it as text) must
// be ExpectSHA256 (lowercase hex). Only the hash is ever configured, and
// nothing of the value, nor of its hash, is ever said.
type Probe struct {
	Name         string
	SQL          string
	ExpectSHA256 string
}

// Options are what one drill needs: the job's share of the configuration.
type Options struct {
	Job Job
	// Drill is the drills[] entry's name, for the record ("" if none).
	Drill string
	// Select is "latest" (default) or "random": uniformly among the
	// complete backups stored within SelectWindow (default 30 days).
	Select       string
	SelectWindow time.Duration
	Probes       []Probe

	Store backup.ObjectStore
	// Identity decrypts the backup; without one, IdentityFile is read (an
	// age identity file, or an SM2 private key in PEM). Neither, one that
	// cannot be read, or one of another suite than the backup's, is a key
	// failure.
	Identity     suite.Identity
	IdentityFile string

	// Engine is the database family of the drill server and of the
	// backup's source (engine/pick chooses it).
	Engine engine.Engine
	// TargetDSN is the drill server; the user needs to create and drop
	// databases.
	TargetDSN crypto.Secret
	// SourceDSN, if set, is the job's source, to refuse a target that is
	// the same server. The manifest's record of the source is compared too.
	SourceDSN crypto.Secret
	// Keys verify manifest signatures (the installation's keys,
	// backup.LoadKeys): a manifest none of them verifies is no backup.
	Keys backup.Keys

	// BackupKey drills this backup (data object or manifest key) instead of
	// choosing one.
	BackupKey string
	// Keep leaves the scratch database in place after the drill.
	Keep bool
	// AllowSourceServer allows a target that is the source server; the
	// drill still writes only to its own scratch databases.
	AllowSourceServer bool
	// Parallel is the number of connections loading and verifying
	// (default 2).
	Parallel int
	// ProbeTimeout bounds each probe (default 10 minutes).
	ProbeTimeout time.Duration
	// Definers is engine.DefinersKeep (default: what the README's restore
	// by hand does, so the accounts the objects name must exist on the
	// target, and a drill fails where that restore would) or
	// engine.DefinersStrip (the objects belong to whoever restores them;
	// the record says so).
	Definers string

	// RTOTarget and RPOTarget are the drill's targets (0: none). A passed
	// drill's RTO is met or missed; the RPO (the drilled backup's age at
	// the start) is met or missed when the drill restores the newest
	// complete backup (select latest, no BackupKey), and not judged
	// otherwise: an older backup's age is no recovery point.
	RTOTarget, RPOTarget time.Duration
	// Tables or ExcludeTables choose a subset of an atrest backup's tables
	// to load and verify ("db.table", or "table" where that names one
	// table of the backup); the others are "not_run". A name that matches
	// no table of the drilled backup means the drill cannot run.
	Tables, ExcludeTables []string

	Now func() time.Time // default time.Now
	// Intn picks the random backup (default math/rand/v2).
	Intn func(n int) int
}

// Record is the drill record (SPEC §3).
type Record struct {
	Record  string `json:"record"` // always "drill"
	Job     string `json:"job"`
	Drill   string `json:"drill,omitempty"`
	Backup  string `json:"backup"`
	Format  string `json:"format"`
	Suite   string `json:"suite,omitempty"` // the backup's crypto suite, from its manifest; none for another tool's dump
	Status  string `json:"status"`
	Failure string `json:"failure,omitempty"`
	Detail  string `json:"detail,omitempty"`

	// RTOSeconds is drill start to verified restore (digests and probes
	// passed); only a passed drill has one.
	RTOSeconds float64 `json:"rto_seconds,omitempty"`
	// RPOSeconds is drill start minus the backup's snapshot time (for a
	// mysqldump job, the object's upload time: the snapshot is older).
	RPOSeconds float64 `json:"rpo_seconds"`
	// RTO and RPO say whether the targets were met: "met" or "missed"
	// (RTOTarget, RPOTarget); empty where no target is set or the figure
	// is not judged (no RTO without a passed drill, no RPO for a backup
	// other than the newest).
	RTOTargetSeconds float64    `json:"rto_target_seconds,omitempty"`
	RTO              string     `json:"rto,omitempty"`
	RPOTargetSeconds float64    `json:"rpo_target_seconds,omitempty"`
	RPO              string     `json:"rpo,omitempty"`
	Snapshot         *time.Time `json:"snapshot,omitempty"`
	Started          time.Time  `json:"started"`
	Seconds          float64    `json:"seconds"` // the whole drill, cleanup included

	// Target is the drill server as it names itself: host:port (version).
	Target  string   `json:"target,omitempty"`
	Scratch []string `json:"scratch_databases,omitempty"`
	// Dropped says the scratch databases were dropped after the drill.
	Dropped bool `json:"scratch_dropped"`

	Tables        []Table `json:"tables"`
	TablesMatched int     `json:"tables_matched"`
	// Subset: only some tables were drilled (Options.Tables or
	// ExcludeTables); TablesNotRun counts the others, listed in Tables as
	// "not_run", never as matched.
	Subset       bool  `json:"subset,omitempty"`
	TablesNotRun int   `json:"tables_not_run,omitempty"`
	Rows         int64 `json:"rows"`
	Bytes        int64 `json:"bytes"`     // object bytes downloaded
	SQLBytes     int64 `json:"sql_bytes"` // SQL loaded
	// Digests is "verified" (atrest backups: every table's digest
	// recomputed and compared) or "unsupported" (third-party dumps carry
	// no digests to compare with; DigestsDetail says so).
	Digests       string `json:"digests"`
	DigestsDetail string `json:"digests_detail,omitempty"`
	// SchemaObjects is "verified" (every view, trigger, routine, event,
	// sequence, index and constraint of the manifest read back and its
	// definition digest compared), "presence" (a manifest from before
	// digests: compared by type and name only; SchemaObjectsDetail says
	// so) or "unsupported" (a third-party dump: no manifest lists them).
	SchemaObjects        string `json:"schema_objects,omitempty"`
	SchemaObjectsChecked int    `json:"schema_objects_checked"`
	// SchemaObjectsNotRun counts, in a subset drill, the manifest's objects
	// that were not loaded and so not checked: never counted as verified.
	SchemaObjectsNotRun int    `json:"schema_objects_not_run,omitempty"`
	SchemaObjectsDetail string `json:"schema_objects_detail,omitempty"`
	// Definers is keep or strip (Options.Definers); DefinersDetail says
	// what was checked, or what was done differently from the README.
	Definers       string `json:"definers,omitempty"`
	DefinersDetail string `json:"definers_detail,omitempty"`
	// Findings name what a restore would lack: a definer's account missing
	// on the target, a schema object missing or different.
	Findings []string      `json:"findings,omitempty"`
	Probes   []ProbeResult `json:"probes,omitempty"`
	Phases   Phases        `json:"phases"`
	// Retried is set when the first download failed in transport and the
	// drill was run again.
	Retried bool `json:"retried,omitempty"`
	// Cleaned are leftovers of earlier crashed drills of this job dropped
	// at the start.
	Cleaned []string `json:"cleaned,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// Table is one restored table.
type Table struct {
	// Database is the source database, where the backup holds several.
	Database     string `json:"database,omitempty"`
	Name         string `json:"name"`
	Rows         int64  `json:"rows"`
	ExpectedRows *int64 `json:"expected_rows,omitempty"`
	// DigestMatch is null where there is no digest to compare with.
	DigestMatch *bool `json:"digest_match"`
	DDLMatch    *bool `json:"ddl_match,omitempty"`
	// Check is match, mismatch, missing (not restored), unsupported, or
	// not_run (left out of a subset drill).
	Check string `json:"check"`
}

// ProbeResult is the verdict of one probe; never the value it returned,
// which may be personal data.
type ProbeResult struct {
	Name    string  `json:"name"`
	Status  string  `json:"status"` // pass | fail
	Detail  string  `json:"detail"`
	Seconds float64 `json:"seconds"`
	// Canary: the probe compared its value's SHA-256 with expect_sha256.
	Canary bool `json:"canary,omitempty"`
}

// Target verdicts (Record.RTO, Record.RPO).
const (
	TargetMet    = "met"
	TargetMissed = "missed"
)

// Missed says which targets the drill missed, with the measured figure,
// for the exit status and the operator: a drill that restored and verified
// a backup still fails its purpose when it took longer than the RTO or the
// backup was older than the RPO.
func (r *Record) Missed() []string {
	var out []string
	if r.RTO == TargetMissed {
		out = append(out, fmt.Sprintf("RTO %s missed the target %s", human(r.RTOSeconds), human(r.RTOTargetSeconds)))
	}
	if r.RPO == TargetMissed {
		out = append(out, fmt.Sprintf("RPO %s (the backup's age) missed the target %s", human(r.RPOSeconds), human(r.RPOTargetSeconds)))
	}
	return out
}

// human prints seconds as backup.HumanDuration does, and a figure under a
// minute with its fraction (a 1ms target missed by 0.4s is not "0s").
func human(s float64) string {
	if s < 60 {
		return strconv.FormatFloat(s, 'g', 3, 64) + "s"
	}
	return backup.HumanDuration(time.Duration(s * float64(time.Second)))
}

// Phases are the drill's durations in seconds. Download, decrypt and
// decompress run concurrently with the load (the object streams into the
// server), so they are the time spent inside each stage, measured around
// its reads, and overlap LoadSeconds, which is the load's wall time from
// first byte to last statement. Verify (digests) and probes run after it.
type Phases struct {
	SelectSeconds     float64 `json:"select_seconds"`
	DownloadSeconds   float64 `json:"download_seconds"`
	DecryptSeconds    float64 `json:"decrypt_seconds"`
	DecompressSeconds float64 `json:"decompress_seconds"`
	LoadSeconds       float64 `json:"load_seconds"`
	VerifySeconds     float64 `json:"verify_seconds"`
	ProbeSeconds      float64 `json:"probe_seconds"`
	CleanupSeconds    float64 `json:"cleanup_seconds"`
}

// Run drills one backup of o.Job and returns its record. The error is a
// *Failure when the drill ran and failed, another error when it could not
// run; the record is returned either way once the options are valid, so
// that the run can be journaled. Errors and record carry no row values and
// no credentials.
func Run(ctx context.Context, o Options) (*Record, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	d := &drill{o: o, ctx: ctx}
	d.start = d.now()
	d.rec = &Record{Record: "drill", Job: o.Job.Name, Drill: o.Drill, Format: o.Job.Format,
		Started: d.start.UTC(), Tables: []Table{}, Definers: o.Definers}
	err := d.run()
	d.cleanup()
	d.rec.Seconds = d.since(d.start)
	var f *Failure
	switch {
	case err == nil:
		d.rec.Status = StatusPass
	case errors.As(err, &f):
		d.rec.Status, d.rec.Failure, d.rec.Detail = StatusFail, f.Class, f.Detail
		d.rec.RTOSeconds = 0
	default:
		d.rec.Status, d.rec.Detail = StatusError, oneLine(err)
		d.rec.RTOSeconds = 0
		err = fmt.Errorf("drill %s: %w", o.Job.Name, err)
	}
	d.judgeTargets()
	return d.rec, err
}

// judgeTargets says whether the drill met its RTO and RPO targets: the
// RTO of a passed drill; the RPO of a drill that ran (pass or fail) on the
// newest complete backup. A drill that could not run is judged on nothing.
func (d *drill) judgeTargets() {
	if d.rec.Status == StatusError {
		return
	}
	if t := d.o.RTOTarget; t > 0 {
		d.rec.RTOTargetSeconds = t.Seconds()
		if d.rec.Status == StatusPass {
			d.rec.RTO = verdict(d.rec.RTOSeconds <= t.Seconds())
			if d.rec.Subset {
				d.note("the RTO is that of a subset of the tables: a full restore takes longer")
			}
		}
	}
	if t := d.o.RPOTarget; t > 0 && d.chosen != nil {
		d.rec.RPOTargetSeconds = t.Seconds()
		switch {
		case d.o.BackupKey != "":
			d.note("RPO not judged: --backup chose the backup, and the age of a backup other than the newest is no recovery point")
		case d.o.Select == "random":
			d.note("RPO not judged: select random drills a backup that need not be the newest, whose age is no recovery point (backup check's freshness judges the newest)")
		default:
			d.rec.RPO = verdict(d.rec.RPOSeconds <= t.Seconds())
		}
	}
}

func verdict(met bool) string {
	if met {
		return TargetMet
	}
	return TargetMissed
}

func (o *Options) validate() error {
	job := o.Job.Name
	if o.Job.Format == "" {
		o.Job.Format = "atrest"
	}
	if o.Select == "" {
		o.Select = "latest"
	}
	if o.SelectWindow <= 0 {
		o.SelectWindow = 30 * 24 * time.Hour
	}
	if o.Parallel < 1 {
		o.Parallel = 2
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Definers == "" {
		o.Definers = engine.DefinersKeep
	}
	switch {
	case job == "" || strings.ContainsAny(job, "/\\"):
		return fmt.Errorf("drill: job name %q cannot be part of an object key", job)
	case o.Store == nil:
		return fmt.Errorf("drill %s: no object store", job)
	case o.TargetDSN.IsZero():
		return fmt.Errorf("drill %s: no target DSN: a drill needs a scratch server", job)
	case o.Engine == nil:
		return fmt.Errorf("drill %s: no database engine for the target", job)
	case o.Job.Format != "atrest" && o.Job.Format != "mysqldump" && o.Job.Format != "pg_dump":
		return fmt.Errorf("drill %s: format %q is not atrest, mysqldump or pg_dump", job, o.Job.Format)
	case o.Job.Format == "atrest" && len(o.Keys) == 0:
		return fmt.Errorf("drill %s: no public key to verify manifests with", job)
	case o.Job.Format != "atrest" && o.Job.KeyPattern == "" && o.BackupKey == "":
		return fmt.Errorf("drill %s: format %s needs a key pattern", job, o.Job.Format)
	case o.Select != "latest" && o.Select != "random":
		return fmt.Errorf("drill %s: select %q is not latest or random", job, o.Select)
	case o.Definers != engine.DefinersKeep && o.Definers != engine.DefinersStrip:
		return fmt.Errorf("drill %s: definers %q is not keep or strip", job, o.Definers)
	}
	for i, p := range o.Probes {
		if !isQuery(p.SQL) {
			return fmt.Errorf("drill %s: probe %d (%s) is not a query: a probe must start with SELECT or WITH", job, i+1, p.Name)
		}
		if p.ExpectSHA256 != "" && !backup.IsSHA256Hex(p.ExpectSHA256) {
			return fmt.Errorf("drill %s: probe %d (%s): expect_sha256 is not a SHA-256 in lowercase hex", job, i+1, p.Name)
		}
	}
	switch {
	case len(o.Tables) > 0 && len(o.ExcludeTables) > 0:
		return fmt.Errorf("drill %s: tables and exclude_tables both given: choose one", job)
	case len(o.Tables)+len(o.ExcludeTables) > 0 && o.Job.Format != "atrest":
		return fmt.Errorf("drill %s: a subset drill (tables, exclude_tables) needs an atrest backup, whose manifest names the tables; format %s has none", job, o.Job.Format)
	}
	return nil
}

// drill is one run's state.
type drill struct {
	o     Options
	ctx   context.Context
	rec   *Record
	start time.Time

	ids    []suite.Identity
	idErr  error // why there is no identity
	chosen *choice
	// only is the subset drilled (nil: every table).
	only map[tableKey]bool
	tgt  engine.Target
	base string // the run's first scratch database
	load *engine.LoadResult

	// With definers: keep, the accounts checked so far and the failure a
	// missing one makes, returned once the restore is otherwise verified.
	checked     map[string]bool
	definerFail *Failure
}

func (d *drill) now() time.Time { return d.o.Now() }

func (d *drill) since(t time.Time) float64 { return d.now().Sub(t).Seconds() }

func (d *drill) note(format string, args ...any) {
	d.rec.Notes = append(d.rec.Notes, fmt.Sprintf(format, args...))
}

func (d *drill) fail(class, format string, args ...any) *Failure {
	return &Failure{Job: d.o.Job.Name, Class: class, Detail: fmt.Sprintf(format, args...)}
}

func (d *drill) run() error {
	// An identity that cannot be had is a drill that cannot run (exit 2,
	// never a failed drill): a configuration matter, no verdict on the
	// backup. Known before the bucket is read, for atrest backups, which
	// are always encrypted.
	d.loadIdentities()
	if d.o.Job.Format == "atrest" && d.idErr != nil {
		return d.idErr
	}
	t := d.now()
	c, err := d.choose()
	d.rec.Phases.SelectSeconds = d.since(t)
	if err != nil {
		return err
	}
	d.chosen = c
	d.rec.Backup = c.key
	if c.manifest != nil {
		d.rec.Suite = c.manifest.Suite
		if s, err := c.manifest.SuiteOf(); err == nil {
			d.rec.Suite = s.Name()
		}
	}
	if c.snapshot.IsZero() {
		d.rec.RPOSeconds = d.start.Sub(c.info.LastModified).Seconds()
		d.note("no manifest: RPO is from the object's upload time; the snapshot is at least this old")
	} else {
		s := c.snapshot.UTC()
		d.rec.Snapshot = &s
		d.rec.RPOSeconds = d.start.Sub(s).Seconds()
	}

	// A third-party dump needs an identity when its key says age.
	if d.needsIdentity() && d.idErr != nil {
		return d.idErr
	}
	if err := d.subset(c.manifest); err != nil {
		return err
	}

	if m := c.manifest; m != nil && m.Source.EngineName() != d.o.Engine.Name() {
		return fmt.Errorf("the backup is of a %s server and the drill server is %s: restore it onto a %s server",
			m.Source.EngineName(), d.o.Engine.Name(), m.Source.EngineName())
	}
	if err := d.connect(); err != nil {
		return err
	}
	if s, ok := d.tgt.(engine.Subsetter); d.only != nil && (!ok || !s.LoadsSubsets()) {
		return fmt.Errorf("tables: the %s drill server cannot load a subset of a backup's tables; drill every table (leave tables and exclude_tables out)", d.o.Engine.Name())
	}
	if err := d.sweep(); err != nil {
		return err
	}
	if err := d.createScratch(); err != nil {
		return err
	}
	// The manifest's definers are checked before the load, so that a
	// drill user who may not read the accounts learns it at once.
	if err := d.definers(d.manifestDefiners()); err != nil {
		return err
	}
	if err := d.restore(); err != nil {
		return err
	}
	if d.load != nil {
		if err := d.definers(d.load.Definers); err != nil {
			return err
		}
		for _, n := range d.load.Notes {
			d.note("load: %s", n)
		}
	}
	if err := d.verify(); err != nil {
		return err
	}
	if err := d.probe(); err != nil {
		return err
	}
	// Last: the restore is otherwise good, and still the README's restore
	// would fail for want of an account.
	if d.definerFail != nil {
		return d.definerFail
	}
	d.rec.RTOSeconds = d.since(d.start)
	return nil
}

// cleanup drops the scratch databases unless Keep, also after a failure,
// on a context of its own: an interrupted drill still cleans up.
func (d *drill) cleanup() {
	if d.tgt == nil {
		return
	}
	t := d.now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), time.Minute)
	defer cancel()
	d.rec.Scratch = d.tgt.Created()
	switch {
	case d.o.Keep:
		if len(d.rec.Scratch) > 0 {
			d.note("kept %s (--keep); the next drill of this job drops it as a leftover", strings.Join(d.rec.Scratch, ", "))
		}
	default:
		if err := d.tgt.DropCreated(ctx); err != nil {
			d.note("scratch database left on the target: %s; the next drill of this job drops it", oneLine(err))
		} else {
			d.rec.Dropped = true
		}
	}
	d.tgt.Close()
	d.rec.Phases.CleanupSeconds = d.since(t)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// isQuery reports whether sql starts (after blanks and comments) with
// SELECT or WITH: probes read, they never change anything.
func isQuery(sql string) bool {
	s := strings.TrimSpace(sql)
	for {
		switch {
		case strings.HasPrefix(s, "--") || strings.HasPrefix(s, "#"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return false
			}
			s = strings.TrimSpace(s[i+1:])
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s, "*/")
			if i < 0 {
				return false
			}
			s = strings.TrimSpace(s[i+2:])
		default:
			w := strings.ToUpper(s[:min(len(s), 7)])
			return strings.HasPrefix(w, "SELECT") && (len(w) == 6 || !isWord(w[6])) ||
				strings.HasPrefix(w, "WITH") && len(w) > 4 && !isWord(w[4])
		}
	}
}

func isWord(c byte) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}
