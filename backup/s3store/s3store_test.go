package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func open(t *testing.T, cfg s3store.Config) *s3store.Store {
	t.Helper()
	s, err := s3store.New(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformanceVersityGW(t *testing.T) {
	srv := testenv.S3(t)
	storetest.Run(t, func(t *testing.T) backup.ObjectStore {
		return open(t, srv.Config(srv.Bucket(t, "conf", false)))
	})
}

func TestConformanceVersityGWObjectLock(t *testing.T) {
	srv := testenv.S3(t)
	storetest.Run(t, func(t *testing.T) backup.ObjectStore {
		return open(t, srv.Config(srv.Bucket(t, "conflock", true)))
	})
}

func TestConformanceMinIO(t *testing.T) {
	srv := testenv.MinIO(t)
	storetest.Run(t, func(t *testing.T) backup.ObjectStore {
		return open(t, srv.Config(srv.Bucket(t, "conf", false)))
	})
}

// The fault proxy must be transparent when it injects nothing, or the fault
// tests below would prove nothing.
func TestConformanceThroughProxy(t *testing.T) {
	srv := testenv.S3(t)
	p := storetest.NewProxy(t, srv.Endpoint)
	storetest.Run(t, func(t *testing.T) backup.ObjectStore {
		cfg := srv.Config(srv.Bucket(t, "proxy", false))
		cfg.Endpoint = p.Endpoint
		return open(t, cfg)
	})
}

// Every error a store gives is one line, names the bucket, and never holds
// the secret key.
func checkErr(t *testing.T, err error, secret string, want ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Errorf("error %q is not %v", err, w)
		}
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if !strings.HasPrefix(msg, "storage: ") {
		t.Errorf("error %q does not begin with \"storage: \"", msg)
	}
	if secret != "" && strings.Contains(msg, secret) {
		t.Errorf("error holds the secret key: %q", msg)
	}
	t.Logf("error: %s", msg)
}

func TestWrongCredentials(t *testing.T) {
	srv := testenv.S3(t)
	bucket := srv.Bucket(t, "creds", false)
	for name, mod := range map[string]func(*s3store.Config){
		"secret":     func(c *s3store.Config) { c.SecretKey = crypto.NewSecret("wrong-" + srv.SecretKey) },
		"access key": func(c *s3store.Config) { c.AccessKey = "nobody" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := srv.Config(bucket)
			mod(&cfg)
			_, err := s3store.New(ctxT(t), cfg)
			checkErr(t, err, cfg.SecretKey.Reveal(), backup.ErrAccessDenied)
			checkErr(t, err, srv.SecretKey)
		})
	}
	// Creating a bucket is refused the same way.
	cfg := srv.Config("creds-new")
	cfg.SecretKey = crypto.NewSecret("rotated-away")
	_, err := s3store.CreateBucket(ctxT(t), cfg, false)
	checkErr(t, err, "rotated-away", backup.ErrAccessDenied)
}

func TestMissingBucket(t *testing.T) {
	srv := testenv.S3(t)
	_, err := s3store.New(ctxT(t), srv.Config("no-such-bucket-atrest"))
	checkErr(t, err, srv.SecretKey, backup.ErrNoBucket)
	if !strings.Contains(err.Error(), "no-such-bucket-atrest") {
		t.Errorf("error %q does not name the bucket", err)
	}
}

func TestUnreachable(t *testing.T) {
	// A port that was free a moment ago: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := s3store.Config{Endpoint: addr, AccessKey: "a", SecretKey: crypto.NewSecret("very-secret"), Bucket: "bucket", Region: "us-east-1"}
	start := time.Now()
	_, err = s3store.New(ctxT(t), cfg)
	took := time.Since(start)
	checkErr(t, err, "very-secret", backup.ErrUnreachable)
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the endpoint", err)
	}
	// Reported, not asserted on: tests never assert wall-clock times.
	t.Logf("unreachable reported after %v", took)
}

// A server that accepts the connection and never answers: the dial timeout
// does not help; the caller's deadline must.
func TestUnresponsive(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg := s3store.Config{Endpoint: l.Addr().String(), AccessKey: "a", SecretKey: crypto.NewSecret("very-secret"), Bucket: "bucket", Region: "us-east-1"}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err = s3store.New(ctx, cfg)
	checkErr(t, err, "very-secret", context.DeadlineExceeded)
}

func TestEndpointURL(t *testing.T) {
	srv := testenv.S3(t)
	cfg := srv.Config(srv.Bucket(t, "url", false))
	cfg.Endpoint = "http://" + cfg.Endpoint
	open(t, cfg)
	cfg.Endpoint = "ftp://" + srv.Endpoint
	if _, err := s3store.New(ctxT(t), cfg); err == nil {
		t.Fatal("ftp endpoint accepted")
	}
	if got := fmt.Sprintf("%v %+v", cfg, cfg); strings.Contains(got, srv.SecretKey) {
		t.Fatalf("Config prints the secret: %s", got)
	}
}

func TestPostureVersityGW(t *testing.T) {
	srv := testenv.S3(t)
	plain := open(t, srv.Config(srv.Bucket(t, "plain", false)))
	locked := open(t, srv.Config(srv.Bucket(t, "locked", true)))
	pp, err := plain.Posture(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	lp, err := locked.Posture(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plain:  %+v", pp)
	t.Logf("locked: %+v", lp)
	if pp.Versioning.State != backup.StateDisabled || pp.ObjectLock.State != backup.StateDisabled {
		t.Errorf("plain bucket: versioning %v, object lock %v; want both disabled", pp.Versioning, pp.ObjectLock)
	}
	if lp.Versioning.State != backup.StateEnabled || lp.ObjectLock.State != backup.StateEnabled {
		t.Errorf("object-lock bucket: versioning %v, object lock %v; want both enabled", lp.Versioning, lp.ObjectLock)
	}
	// versitygw 1.8.0 does not implement bucket encryption or lifecycle
	// (NOTES.md): those must read as unsupported, never as disabled or as
	// an error. Should a later versitygw implement them, this fails and
	// says so, and the posture checks' tests need a look.
	if err := locked.SetDefaultRetention(ctxT(t), backup.Governance, 30); err != nil {
		t.Fatal(err)
	}
	if lp, err = locked.Posture(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if l := lp.ObjectLock; l.State != backup.StateEnabled || l.Mode != backup.Governance || l.Days != 30 {
		t.Errorf("after setting GOVERNANCE 30 days, object lock reads %+v", l)
	}
	for _, p := range []backup.Posture{pp, lp} {
		if p.Encryption.State != backup.StateUnsupported || p.Lifecycle.State != backup.StateUnsupported {
			t.Errorf("encryption %v, lifecycle %v: want unsupported on versitygw 1.8.0", p.Encryption, p.Lifecycle)
		}
	}
}

func TestRetention(t *testing.T) {
	srv := testenv.S3(t)
	s := open(t, srv.Config(srv.Bucket(t, "retain", true)))
	until := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	data := []byte("canary")
	info, err := s.Put(ctxT(t), "canary", bytes.NewReader(data), int64(len(data)),
		backup.PutOptions{Retention: &backup.Retention{Mode: backup.Governance, Until: until}})
	if err != nil {
		t.Fatal(err)
	}
	if info.VersionID == "" {
		t.Fatal("no version ID from a put to a versioned bucket")
	}
	r, err := s.Retention(ctxT(t), "canary", info.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != backup.Governance || !r.Until.Equal(until) {
		t.Errorf("retention read back %+v, want GOVERNANCE until %v", r, until)
	}
	err = s.DeleteVersion(ctxT(t), "canary", info.VersionID)
	checkErr(t, err, srv.SecretKey, backup.ErrAccessDenied)
	if _, err := s.Stat(ctxT(t), "canary"); err != nil {
		t.Fatalf("retained object gone: %v", err)
	}

	// Set after the fact, on an object put without.
	info, err = s.Put(ctxT(t), "later", bytes.NewReader(data), int64(len(data)), backup.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.Retention(ctxT(t), "later", info.VersionID); err != nil || !r.Until.IsZero() {
		t.Errorf("retention of an unretained object: %+v, %v", r, err)
	}
	if err := s.PutRetention(ctxT(t), "later", info.VersionID, backup.Retention{Mode: backup.Governance, Until: until}); err != nil {
		t.Fatal(err)
	}
	checkErr(t, s.DeleteVersion(ctxT(t), "later", info.VersionID), srv.SecretKey, backup.ErrAccessDenied)
}

// The server dies while a backup uploads: Put fails with a clear error, and
// once the server is back no object exists under the key (only the stale
// multipart upload, for the completeness check to report).
func TestServerKilledMidUpload(t *testing.T) {
	srv := testenv.S3Private(t)
	bucket := srv.Bucket(t, "killed", false)
	s := open(t, srv.Config(bucket))

	r := &killReader{left: 64 << 20, killAt: 40 << 20, kill: func() { srv.Kill(t) }}
	_, err := s.Put(ctxT(t), "yb/backup.age", r, 64<<20, backup.PutOptions{ChecksumSHA256: true})
	checkErr(t, err, srv.SecretKey)
	if !errors.Is(err, backup.ErrUnreachable) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset") {
		t.Logf("note: put error class: %v", err)
	}

	srv.Restart(t)
	s = open(t, srv.Config(bucket))
	if _, err := s.Stat(ctxT(t), "yb/backup.age"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("after a crash mid-upload, stat: %v, want ErrNotFound", err)
	}
	for oi, err := range s.List(ctxT(t), "") {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("object left after a crash mid-upload: %+v", oi)
	}
	ups, err := s.ListIncompleteUploads(ctxT(t), "yb/")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("incomplete uploads after the crash: %+v", ups)
	for _, u := range ups {
		if err := s.AbortUpload(ctxT(t), u.Key, u.UploadID); err != nil {
			t.Error(err)
		}
	}
	if ups, _ := s.ListIncompleteUploads(ctxT(t), "yb/"); len(ups) != 0 {
		t.Errorf("uploads left after abort: %+v", ups)
	}
}

// killReader yields zeros and calls kill once killAt bytes remain to be read.
type killReader struct {
	left, killAt int64
	kill         func()
}

func (k *killReader) Read(p []byte) (int, error) {
	if k.left == 0 {
		return 0, io.EOF
	}
	if k.kill != nil && k.left <= k.killAt {
		k.kill()
		k.kill = nil
	}
	n := min(int64(len(p)), k.left)
	clear(p[:n])
	k.left -= n
	return int(n), nil
}
