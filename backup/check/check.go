// Package check judges the backups of one job in object storage: are they
// there, recent, whole, signed, and is the bucket set up to keep them? It
// gives one record per finding (SPEC §3: pass | fail | warn | unsupported),
// for atrest's own backups (manifest and data object) and for dumps other
// tools upload (formats mysqldump and pg_dump, judged by their family's
// engine.Engine.CheckDump).
//
// Every verdict comes from what the server answers now, never from what was
// configured or what a run reported: sizes and checksums are read back with
// Stat, settings with Posture, bytes with Get. A transport error (the
// connection dropped, a body cut short) is kept apart from an integrity
// failure (the bytes are not the bytes the manifest signed), a failed read
// is retried once before a backup is called corrupt, and the detail says
// that it was. The package never restores anything and never needs more
// than the public halves of the signing keys; the identities that decrypt
// (age or SM2, crypto/suite) are optional. A job may switch suites: both
// kinds of backup under its prefix are judged, each by its own suite.
package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine"
	"github.com/dustin/go-humanize"
)

// Status is a check's verdict.
type Status string

const (
	Pass        Status = "pass"
	Fail        Status = "fail"
	Warn        Status = "warn"
	Unsupported Status = "unsupported" // the server does not implement what the check needs
)

// The checks, in the order Run reports them.
const (
	Freshness    = "freshness"    // newest complete backup vs the RPO
	Completeness = "completeness" // every data object has its manifest and every manifest its object
	Uploads      = "uploads"      // multipart uploads started and never finished
	ManifestSig  = "manifest"     // manifests parse and their signatures verify
	ObjectCheck  = "object"       // stored size, checksum and version vs the manifest
	Trend        = "trend"        // size and row counts vs the previous backup
	Integrity    = "integrity"    // --read: the bytes, decrypted and decompressed to the end
	Versioning   = "versioning"
	ObjectLock   = "object_lock"
	Encryption   = "encryption"
	Lifecycle    = "lifecycle"
	Canary       = "canary" // a delete under object lock must be refused
)

// Failure classes, kept apart as restic's checker keeps them.
const (
	FailIntegrity = "integrity" // the stored bytes are wrong
	FailTransport = "transport" // the bytes could not be read; they may be fine
)

// Result is one check record (SPEC §3).
type Result struct {
	Record string `json:"record"` // always "check"
	Job    string `json:"job"`
	// Suite is the crypto suite of the backup the record is about, or of
	// the job ("standard" or "sm"); none for dumps of another tool.
	Suite  string `json:"suite,omitempty"`
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	// Key is the object the record is about, if one.
	Key string `json:"key,omitempty"`
	// Failure is FailIntegrity or FailTransport for a failed read.
	Failure string         `json:"failure,omitempty"`
	Figures map[string]any `json:"figures,omitempty"`
}

// Job is the part of a backup job's configuration that checks need.
type Job struct {
	Name string
	// Prefix is the job's prefix; atrest backups are under Prefix+Name+"/"
	// (backup.JobPrefix).
	Prefix string
	// Suite is the job's crypto suite (config: suite), which its new
	// backups are made with; "" is standard.
	Suite     string
	RPO       time.Duration
	Retention time.Duration
	// Format is "atrest" (default), or the tool that uploads objects
	// matched by KeyPattern (path.Match, e.g. "yb/*.sql.gz"): "mysqldump",
	// "pg_dump".
	Format     string
	KeyPattern string
	// Engine is the family of a third-party format's dumps: it says
	// whether one read to its end is whole.
	Engine engine.Engine
}

// Options say what to check and how.
type Options struct {
	Job   Job
	Store backup.ObjectStore
	// Now is the time freshness is judged at (zero = time.Now()).
	Now time.Time
	// Read streams the newest backup and verifies it to the end; ReadAll
	// streams every backup.
	Read, ReadAll bool
	// Identities, if any, decrypt backups so that the suite's
	// authentication and zstd are checked too: a backup is decrypted with
	// those of its own suite. Without one of its suite, a read checks the
	// ciphertext's SHA-256 and the header's structure (suite.Suite.Layout).
	Identities []suite.Identity
	// Keys verify manifest signatures (the installation's keys,
	// backup.LoadKeys); none, and nothing that rests on a manifest passes.
	Keys backup.Keys
	// Canary puts a small object under retention and tries to delete it,
	// which an object-lock bucket must refuse.
	Canary bool
	// StaleUpload is the age from which an unfinished multipart upload is
	// reported as stale (default 24h).
	StaleUpload time.Duration
}

// Run checks one job and returns its records. The error is for a job that
// could not be checked at all (no bucket, unreachable, refused
// credentials); it is one line and names the job.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("check %s: no object store", o.Job.Name)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.StaleUpload <= 0 {
		o.StaleUpload = 24 * time.Hour
	}
	c := &checker{o: o, ctx: ctx}
	var err error
	switch o.Job.Format {
	case "", "atrest":
		err = c.atrest()
	default:
		if o.Job.Engine == nil {
			err = fmt.Errorf("format %q: no engine to read its dumps with", o.Job.Format)
			break
		}
		err = c.mysqldump()
	}
	if err != nil {
		return c.out, fmt.Errorf("check %s: %s", o.Job.Name, oneLine(err))
	}
	return c.out, nil
}

type checker struct {
	o    Options
	ctx  context.Context
	out  []Result
	keep kept // what the bucket keeps for how long, in messages (zero: a job's backups)
}

func (c *checker) add(check string, st Status, key, detail string, figures map[string]any) *Result {
	c.out = append(c.out, Result{Record: "check", Job: c.o.Job.Name, Suite: c.suiteOf(key), Check: check, Status: st,
		Key: key, Detail: detail, Figures: figures})
	return &c.out[len(c.out)-1]
}

// suiteOf is the suite a record shows: that of the backup it is about (its
// key says), else the job's; none for another tool's dumps or the anchor
// bucket.
func (c *checker) suiteOf(key string) string {
	if f := c.o.Job.Format; f != "" && f != "atrest" || c.keep == keptAnchor {
		return ""
	}
	if s, ok := backup.ObjectSuite(strings.TrimSuffix(key, backup.ManifestSuffix)); ok {
		return s.Name()
	}
	s, err := suite.Get(c.o.Job.Suite)
	if err != nil {
		return c.o.Job.Suite
	}
	return s.Name()
}

// fatal reports whether err means that nothing more can be checked.
func fatal(err error) bool {
	return errors.Is(err, backup.ErrUnreachable) || errors.Is(err, backup.ErrNoBucket) ||
		errors.Is(err, backup.ErrAccessDenied) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// uploads reports multipart uploads that were started and never finished
// under prefix: what a run that died mid-upload leaves.
func (c *checker) uploads(prefix string) error {
	ups, err := c.o.Store.ListIncompleteUploads(c.ctx, prefix)
	switch {
	case errors.Is(err, backup.ErrNotImplemented):
		c.add(Uploads, Unsupported, "", "the server does not list multipart uploads", nil)
		return nil
	case err != nil && fatal(err):
		return err
	case err != nil:
		c.add(Uploads, Warn, "", "could not list multipart uploads: "+oneLine(err), nil)
		return nil
	}
	var stale, recent int
	var oldest backup.Upload
	for _, u := range ups {
		if c.o.Now.Sub(u.Initiated) >= c.o.StaleUpload {
			stale++
			if oldest.Initiated.IsZero() || u.Initiated.Before(oldest.Initiated) {
				oldest = u
			}
		} else {
			recent++
		}
	}
	figs := map[string]any{"stale": stale, "recent": recent}
	switch {
	case stale > 0:
		c.add(Uploads, Warn, oldest.Key, fmt.Sprintf("%d multipart upload(s) unfinished for more than %s (oldest started %s ago): runs that died mid-upload; they hold storage and are no backup; abort them",
			stale, backup.HumanDuration(c.o.StaleUpload), backup.HumanDuration(c.o.Now.Sub(oldest.Initiated))), figs)
	case recent > 0:
		c.add(Uploads, Pass, "", fmt.Sprintf("%d multipart upload(s) under way or recently failed, none older than %s", recent, backup.HumanDuration(c.o.StaleUpload)), figs)
	default:
		c.add(Uploads, Pass, "", "no unfinished multipart uploads", figs)
	}
	return nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// size prints a byte count in binary units (go-humanize).
func size(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }
