package backup

import (
	"context"
	"errors"
	"io"
	"iter"
	"strings"
	"time"
)

// ObjectStore is the object storage that backups go to and that checks and
// drills read from: one bucket of an S3-compatible server (backup/s3store) or
// a fake (backup/storetest). Keys are slash-separated names inside that bucket.
//
// It is kept to what the backup, check and drill code needs; extras that only
// some servers have (object-lock retention) are found by type assertion
// (Retainer), as age finds optional Recipient extras.
//
// Errors wrap one of the sentinels below where one applies, so callers
// decide with errors.Is and print the error as it is: one line, saying what
// failed and on which bucket and key, and never a credential.
type ObjectStore interface {
	// Put streams r to key, as the backup writer must: bounded memory
	// whatever the object size. size is the number of bytes r holds, or -1
	// if unknown; pass it when known (a store may buffer more without it).
	// Reading more or fewer than size bytes from r is an error. On any error,
	// ctx cancellation included, the upload is aborted: no object, partial
	// or whole, appears under key. The ObjectInfo returned is what the server
	// acknowledged; LastModified may be zero (Stat gives the server's view).
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error)

	// Get streams the object for check --read and drills. Reading the body
	// to io.EOF means every byte the server announced arrived: a body cut
	// short fails with an error wrapping io.ErrUnexpectedEOF, never a silent
	// short read. The caller closes the body.
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)

	// Stat reads an object's metadata (size and checksum against the
	// manifest) without its body.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// List yields the objects under prefix, recursively, in key order, for
	// freshness and completeness checks. It stops at the first error, which
	// it yields with a zero ObjectInfo. Listed objects carry Key, Size, ETag
	// and LastModified; S3 listings carry no checksum values (use Stat).
	List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error]

	// Delete removes key (retention pruning, test cleanup). Deleting a key
	// that does not exist is not an error, as in S3. In a versioned bucket
	// this adds a delete marker and older versions stay.
	Delete(ctx context.Context, key string) error

	// ListIncompleteUploads lists the multipart uploads under prefix that
	// were started and neither completed nor aborted: a completeness check
	// reports them as stale uploads (a run that died mid-upload).
	ListIncompleteUploads(ctx context.Context, prefix string) ([]Upload, error)

	// Posture reads the bucket's protection settings back from the server,
	// for the posture checks. A setting the server does not implement is
	// StateUnsupported; one that could not be read is StateError with the
	// reason. An error is returned only when nothing could be read at all
	// (no bucket, unreachable, refused credentials).
	Posture(ctx context.Context) (Posture, error)
}

// PutOptions are the per-object choices of Put.
type PutOptions struct {
	// ContentType is stored with the object; "" leaves the server's default.
	ContentType string
	// ChecksumSHA256 asks the server to verify and keep a SHA-256 checksum
	// of the upload (ObjectInfo.ChecksumSHA256), so a check can compare it
	// with the manifest without reading the object.
	ChecksumSHA256 bool
	// Retention, if set, locks the object (object-lock buckets only).
	Retention *Retention
	// IfAbsent makes the put a create that cannot replace: the server
	// refuses it, with an error wrapping ErrExists, when key already holds
	// an object (S3's conditional write, If-None-Match: *, checked when the
	// upload completes). Servers that predate conditional writes may ignore
	// it, so callers keep keys of their own that no one else takes.
	IfAbsent bool
}

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // without quotes
	LastModified time.Time
	// ChecksumSHA256 is the server's SHA-256 checksum, base64, or "" if it
	// keeps none. For an object uploaded in parts it is the S3 composite
	// checksum (SHA-256 of the parts' SHA-256s) with a "-N" suffix giving the
	// number of parts: compare it with what Put returned, not with the
	// SHA-256 of the whole object.
	ChecksumSHA256 string
	// VersionID is the version in a versioned bucket, "" otherwise.
	VersionID string
}

// Upload is a multipart upload that was started and not finished.
type Upload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// Retention is an object-lock retention: the object cannot be deleted or
// overwritten (per version) before Until.
type Retention struct {
	Mode  RetentionMode
	Until time.Time
}

// RetentionMode is GOVERNANCE (privileged users may lift it) or COMPLIANCE
// (nobody may, until it expires).
type RetentionMode string

const (
	Governance RetentionMode = "GOVERNANCE"
	Compliance RetentionMode = "COMPLIANCE"
)

// Retainer is implemented by stores on servers with S3 object lock. The
// posture check uses it for its canary: a retained version must refuse to
// be deleted, because some servers accept lock settings and do not enforce
// them.
type Retainer interface {
	// PutRetention sets the retention of one version ("" = the latest).
	PutRetention(ctx context.Context, key, versionID string, r Retention) error
	// Retention reads it back; a zero Retention means none.
	Retention(ctx context.Context, key, versionID string) (Retention, error)
	// DeleteVersion deletes one version for good, which retention forbids
	// (unlike Delete, which only adds a delete marker in a versioned bucket).
	DeleteVersion(ctx context.Context, key, versionID string) error
}

// Posture is a bucket's protection settings, each read back from the
// server, never assumed from what was configured.
type Posture struct {
	Versioning Setting
	ObjectLock ObjectLock
	Encryption Encryption
	Lifecycle  Lifecycle
}

// State says what a server answered about one setting.
type State string

const (
	StateEnabled     State = "enabled"
	StateDisabled    State = "disabled"
	StateUnsupported State = "unsupported" // the server does not implement the call (501)
	StateError       State = "error"       // the call failed; Detail says why
)

// Setting is one posture setting. Detail is a short human reason
// ("suspended", "NotImplemented: …") and may be empty.
type Setting struct {
	State  State
	Detail string
}

// ObjectLock is the bucket's object-lock configuration. Mode and Days are
// the default retention given to new objects, if the bucket sets one
// (Days counts a year as 365 days).
type ObjectLock struct {
	Setting
	Mode RetentionMode
	Days int
}

// Encryption is the bucket's default server-side encryption.
type Encryption struct {
	Setting
	Algorithm string // "AES256", "aws:kms", … as the server names it
}

// Lifecycle is the bucket's lifecycle configuration, as far as it expires
// objects: a rule that expires backups sooner than the job's retention
// defeats the retention.
type Lifecycle struct {
	Setting
	// Rules are the enabled rules that expire something.
	Rules []ExpiryRule
}

// ExpiryRule is one enabled lifecycle rule that expires objects.
type ExpiryRule struct {
	ID     string
	Prefix string // "" = the whole bucket
	// Filtered is true when the rule applies only to objects with some tags
	// or sizes: it may or may not hit backups, so checks treat it as if it did.
	Filtered bool
	// Days expires current versions that many days after creation; 0 = not
	// by age.
	Days int
	// Date expires current versions on that date; zero = not by date.
	Date time.Time
	// NoncurrentDays expires versions that many days after they stopped
	// being current (overwritten or deleted); 0 = never.
	NoncurrentDays int
}

// ExpiryFor returns the rules that apply to keys under prefix: those whose
// own prefix is a prefix of it, or that could match some key under it.
func (l Lifecycle) ExpiryFor(prefix string) []ExpiryRule {
	var out []ExpiryRule
	for _, r := range l.Rules {
		if strings.HasPrefix(prefix, r.Prefix) || strings.HasPrefix(r.Prefix, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// The sentinels that store errors wrap. Their text carries no package
// prefix because it always appears inside a message that already has one
// ("storage: get yb-backups/yb/x.age: object not found: …").
var (
	ErrNotFound       = errors.New("object not found")
	ErrNoBucket       = errors.New("bucket does not exist")
	ErrAccessDenied   = errors.New("access denied")
	ErrUnreachable    = errors.New("endpoint unreachable")
	ErrNotImplemented = errors.New("not implemented by the server")
	// ErrExists: a put with IfAbsent found the key taken.
	ErrExists = errors.New("object already exists")
)
