// Package s3store is backup.ObjectStore on one bucket of an S3-compatible
// server (MinIO, Ceph RGW, AWS S3, OSS/COS S3 endpoints, versitygw), through
// minio-go v7. It is the only package that imports minio-go: the rest of
// atrest sees backup.ObjectStore and its sentinel errors.
//
// It must never put the secret key in an error, a log line or a String(),
// never leave a partial object behind a failed Put, and never let a body cut
// short read as a complete object.
package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto"
)

// PartSize is the multipart part size. minio-go holds one part in memory
// per upload (whether or not the size is known, as the source is a plain
// reader), so this is the memory an upload costs; with S3's limit of 10,000
// parts it allows objects up to 160 GiB.
const PartSize = 16 << 20

// Config says where the bucket is and how to sign in.
type Config struct {
	// Endpoint is host:port (an http:// or https:// URL is accepted too and
	// sets Secure).
	Endpoint string
	// Secure selects https.
	Secure bool
	// Region is the bucket's region; "" lets minio-go ask the server.
	Region    string
	AccessKey string
	SecretKey crypto.Secret
	Bucket    string

	// DialTimeout bounds connecting to the endpoint (default 5s), so an
	// unreachable endpoint is reported quickly.
	DialTimeout time.Duration
	// MaxRetries is how many times a failed request is tried (default 3;
	// minio-go's own default of 10 with back-off makes a dead endpoint take
	// ten seconds to report).
	MaxRetries int
	// Transport, if set, replaces the HTTP transport (tests put fault
	// injectors here); DialTimeout is then the transport's business.
	Transport http.RoundTripper
}

// Store is a backup.ObjectStore (and backup.Retainer) on one bucket.
type Store struct {
	c        *minio.Client
	bucket   string
	endpoint string
}

var (
	_ backup.ObjectStore = (*Store)(nil)
	_ backup.Retainer    = (*Store)(nil)
)

// New connects to the bucket and makes sure it is there, so that a wrong
// endpoint, wrong credentials or a missing bucket are reported before any
// work starts (errors wrap backup.ErrUnreachable, ErrAccessDenied,
// ErrNoBucket).
func New(ctx context.Context, cfg Config) (*Store, error) {
	s, err := open(cfg)
	if err != nil {
		return nil, err
	}
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, s.fail("open", "", err)
	}
	if !ok {
		return nil, &Error{Op: "open", Bucket: s.bucket, Kind: backup.ErrNoBucket, Err: fmt.Errorf("no bucket %q at %s", s.bucket, s.endpoint)}
	}
	return s, nil
}

// CreateBucket creates the bucket (with object lock, which also turns on
// versioning, if objectLock) and returns a Store on it. For tests and the
// demo: production buckets are made by their owners, with their policies.
func CreateBucket(ctx context.Context, cfg Config, objectLock bool) (*Store, error) {
	s, err := open(cfg)
	if err != nil {
		return nil, err
	}
	err = s.c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: cfg.Region, ObjectLocking: objectLock})
	if err != nil {
		return nil, s.fail("create bucket", "", err)
	}
	return s, nil
}

func open(cfg Config) (*Store, error) {
	endpoint, secure := cfg.Endpoint, cfg.Secure
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, fmt.Errorf("storage: endpoint %q: %v", endpoint, err)
		}
		switch u.Scheme {
		case "http":
			secure = false
		case "https":
			secure = true
		default:
			return nil, fmt.Errorf("storage: endpoint %q: scheme must be http or https", endpoint)
		}
		if u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("storage: endpoint %q: a path is not allowed", endpoint)
		}
		endpoint = u.Host
	}
	if endpoint == "" {
		return nil, errors.New("storage: no endpoint")
	}
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("storage: %s: no bucket", endpoint)
	}
	tr := cfg.Transport
	if tr == nil {
		t, err := minio.DefaultTransport(secure)
		if err != nil {
			return nil, fmt.Errorf("storage: %s: %v", endpoint, err)
		}
		dial := cfg.DialTimeout
		if dial <= 0 {
			dial = 5 * time.Second
		}
		t.DialContext = (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = dial
		tr = t
	}
	tr = &errorIn200{base: &createOnly{base: tr}}
	retries := cfg.MaxRetries
	if retries <= 0 {
		retries = 3
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey.Reveal(), ""),
		Secure:       secure,
		Region:       cfg.Region,
		Transport:    tr,
		BucketLookup: minio.BucketLookupAuto,
		// Trailing checksums are what let a streamed upload carry a
		// SHA-256 that the server verifies (see putOptions).
		TrailingHeaders: true,
		MaxRetries:      retries,
	})
	if err != nil {
		// minio-go's errors here are about the endpoint's syntax; the
		// credentials are not in them.
		return nil, fmt.Errorf("storage: %s: %v", endpoint, err)
	}
	return &Store{c: c, bucket: cfg.Bucket, endpoint: endpoint}, nil
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// String names the store for messages: endpoint and bucket, no credentials.
func (s *Store) String() string { return "s3://" + s.endpoint + "/" + s.bucket }

// putOptions translates backup.PutOptions.
//
// Checksums and signing, as found on versitygw 1.8.0 (see the tests): on
// plain http minio-go signs the body in streaming chunks
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and, with TrailingHeaders, appends
// the checksum as a *signed* trailer; versitygw answers that with BadDigest.
// With DisableContentSha256 the body goes unsigned and the checksum as an
// *unsigned* trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER), which versitygw
// verifies, single PUT and multipart; it is also what the AWS SDKs send by
// default. Integrity does not suffer: the trailer's
// checksum (CRC32C by default, SHA-256 when asked) covers every byte, and
// over https (where minio-go never chunk-signs) TLS covers them too.
func putOptions(o backup.PutOptions) (minio.PutObjectOptions, error) {
	po := minio.PutObjectOptions{
		ContentType:          o.ContentType,
		PartSize:             PartSize,
		DisableContentSha256: true,
	}
	if o.ChecksumSHA256 {
		po.Checksum = minio.ChecksumSHA256
	}
	if o.IfAbsent {
		// minio-go sends it with a single PUT; for a multipart upload see
		// createOnly, which puts it on the completion.
		po.SetMatchETagExcept("*")
	}
	if r := o.Retention; r != nil {
		switch r.Mode {
		case backup.Governance:
			po.Mode = minio.Governance
		case backup.Compliance:
			po.Mode = minio.Compliance
		default:
			return po, fmt.Errorf("retention mode %q: want GOVERNANCE or COMPLIANCE", r.Mode)
		}
		po.RetainUntilDate = r.Until.UTC()
	}
	return po, nil
}

// Put implements backup.ObjectStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, opts backup.PutOptions) (backup.ObjectInfo, error) {
	po, err := putOptions(opts)
	if err != nil {
		return backup.ObjectInfo{}, s.fail("put", key, err)
	}
	src := r
	var exact *exactReader
	if size >= 0 {
		// minio-go reads exactly size bytes and would not notice a source
		// that has more: a backup cut at the wrong length must fail here.
		exact = &exactReader{r: r, left: size}
		src = exact
	}
	// minio-go aborts the multipart upload when a part or the completion
	// fails, ctx cancellation included (it aborts with a context of its
	// own), so nothing partial is left as an object.
	if opts.IfAbsent {
		ctx = context.WithValue(ctx, createOnlyKey{}, key)
	}
	ui, err := s.c.PutObject(ctx, s.bucket, key, src, size, po)
	if err != nil {
		if exact != nil && exact.err != nil && exact.err != io.EOF {
			// The source's fault, not the server's: say so plainly rather
			// than as the broken connection it caused.
			err = exact.err
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return backup.ObjectInfo{}, s.fail("put", key, err)
	}
	if size >= 0 && ui.Size != size {
		// Cannot happen with exactReader; if it does, say so rather than
		// call the object whole.
		return backup.ObjectInfo{}, s.fail("put", key, fmt.Errorf("server stored %d bytes, sent %d", ui.Size, size))
	}
	return backup.ObjectInfo{
		Key: key, Size: ui.Size, ETag: ui.ETag, LastModified: ui.LastModified,
		ChecksumSHA256: ui.ChecksumSHA256, VersionID: ui.VersionID,
	}, nil
}

// Get implements backup.ObjectStore.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, backup.ObjectInfo, error) {
	// Checksum mode returns the stored checksum and has minio-go verify a
	// full-object one (single-part uploads: manifests) at EOF.
	body, oi, _, err := minio.Core{Client: s.c}.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{Checksum: true})
	if err != nil {
		return nil, backup.ObjectInfo{}, s.fail("get", key, err)
	}
	info := objectInfo(oi)
	info.Key = key
	return &sizedBody{rc: body, want: info.Size, s: s, key: key}, info, nil
}

// Stat implements backup.ObjectStore.
func (s *Store) Stat(ctx context.Context, key string) (backup.ObjectInfo, error) {
	oi, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{Checksum: true})
	if err != nil {
		return backup.ObjectInfo{}, s.fail("stat", key, err)
	}
	info := objectInfo(oi)
	info.Key = key
	return info, nil
}

func objectInfo(oi minio.ObjectInfo) backup.ObjectInfo {
	return backup.ObjectInfo{
		Key: oi.Key, Size: oi.Size, ETag: strings.Trim(oi.ETag, `"`), LastModified: oi.LastModified,
		ChecksumSHA256: oi.ChecksumSHA256, VersionID: oi.VersionID,
	}
}

// List implements backup.ObjectStore.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[backup.ObjectInfo, error] {
	return func(yield func(backup.ObjectInfo, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // stops minio-go's lister when the caller breaks off
		for oi := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if oi.Err != nil {
				yield(backup.ObjectInfo{}, s.fail("list", prefix, oi.Err))
				return
			}
			if !yield(objectInfo(oi), nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(backup.ObjectInfo{}, s.fail("list", prefix, err))
		}
	}
}

// Delete implements backup.ObjectStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// ListIncompleteUploads implements backup.ObjectStore.
func (s *Store) ListIncompleteUploads(ctx context.Context, prefix string) ([]backup.Upload, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []backup.Upload
	for u := range s.c.ListIncompleteUploads(ctx, s.bucket, prefix, true) {
		if u.Err != nil {
			return nil, s.fail("list uploads", prefix, u.Err)
		}
		out = append(out, backup.Upload{Key: u.Key, UploadID: u.UploadID, Initiated: u.Initiated})
	}
	if err := ctx.Err(); err != nil {
		return nil, s.fail("list uploads", prefix, err)
	}
	return out, nil
}

// AbortUpload aborts one incomplete multipart upload (test cleanup, and an
// operator's way to clear what a crashed run left).
func (s *Store) AbortUpload(ctx context.Context, key, uploadID string) error {
	if err := (minio.Core{Client: s.c}).AbortMultipartUpload(ctx, s.bucket, key, uploadID); err != nil {
		return s.fail("abort upload", key, err)
	}
	return nil
}
