package testenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/crypto"
)

// VersityGWInstall is how to get the S3 server the tests run against.
const VersityGWInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// S3Server is a throwaway S3-compatible server on a loopback port: versitygw
// (posix backend, with versioning so object lock works) or MinIO.
type S3Server struct {
	Kind      string // "versitygw" or "minio"
	Endpoint  string // host:port, plain http
	Region    string
	AccessKey string
	SecretKey string
	// Dir holds the server's data and log (server.log).
	Dir string

	bin  string
	args []string
	env  []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current process has exited
}

var (
	s3Mu     sync.Mutex
	s3Shared = map[string]*S3Server{} // by Kind
)

// S3 returns a versitygw shared by the tests of this binary. Tests that
// share it use their own buckets (see Bucket). Without versitygw the test
// is skipped, or fails under CI=true, naming the command that installs it.
func S3(t testing.TB) *S3Server {
	t.Helper()
	return sharedS3(t, "versitygw")
}

// MinIO returns a MinIO server shared by the tests of this binary when a
// minio binary is on PATH, and skips the test otherwise: MinIO is an extra
// peer, not a requirement, even in CI.
func MinIO(t testing.TB) *S3Server {
	t.Helper()
	return sharedS3(t, "minio")
}

// S3Private starts a versitygw for this test alone, one it may Kill, Stop
// and Restart, and stops it at the end of the test.
func S3Private(t testing.TB) *S3Server {
	t.Helper()
	s, err := startS3("versitygw")
	if err != nil {
		s3Unavailable(t, "versitygw", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func sharedS3(t testing.TB, kind string) *S3Server {
	t.Helper()
	s3Mu.Lock()
	defer s3Mu.Unlock()
	if s := s3Shared[kind]; s != nil && s.alive() {
		return s
	}
	s, err := startS3(kind)
	if err != nil {
		s3Unavailable(t, kind, err)
	}
	s3Shared[kind] = s
	sharedMu.Lock()
	underMain := mainActive
	sharedMu.Unlock()
	if !underMain {
		t.Cleanup(func() {
			s3Mu.Lock()
			defer s3Mu.Unlock()
			if s3Shared[kind] == s {
				delete(s3Shared, kind)
			}
			s.Stop()
		})
	}
	return s
}

// stopS3 stops the shared S3 servers; Main calls it after the tests. Should
// a test binary end without it, the servers die with it (Pdeathsig) and the
// next start sweeps their directories (sweepS3Dirs).
func stopS3() {
	s3Mu.Lock()
	defer s3Mu.Unlock()
	for k, s := range s3Shared {
		s.Stop()
		delete(s3Shared, k)
	}
}

func s3Unavailable(t testing.TB, kind string, err error) {
	t.Helper()
	if kind == "minio" {
		t.Skipf("testenv: no MinIO for this test: %v (MinIO is optional)", err)
	}
	msg := fmt.Sprintf("testenv: no versitygw for this test: %v; install it with `%s`", err, VersityGWInstall)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// findBinary looks on PATH, then where `go install` puts binaries, which is
// not on every user's PATH.
func findBinary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		for _, p := range filepath.SplitList(d) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

const s3DirPrefix = "atrest-s3-"

func startS3(kind string) (*S3Server, error) {
	bin := ""
	switch kind {
	case "versitygw":
		bin = findBinary("versitygw")
	case "minio":
		// Only PATH: a minio binary somewhere else is not a promise to use it.
		bin, _ = exec.LookPath("minio")
	}
	if bin == "" {
		where := "on PATH or in the Go bin directory"
		if kind == "minio" {
			where = "on PATH"
		}
		return nil, fmt.Errorf("%s not found %s", kind, where)
	}
	sweepS3Dirs()
	dir, err := os.MkdirTemp("", s3DirPrefix+kind+"-")
	if err != nil {
		return nil, err
	}
	// versitygw refuses relative directories.
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	// Who owns the directory, so a later start can remove it if this test
	// binary dies without stopping the server.
	os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	s := &S3Server{
		Kind: kind, Region: "us-east-1", Dir: dir, bin: bin,
		AccessKey: "atrest" + randHex(6),
		SecretKey: base64.RawURLEncoding.EncodeToString(randBytes(24)),
	}
	var mkdirs []string
	switch kind {
	case "versitygw":
		mkdirs = []string{"iam", "versions", "data"}
		s.env = []string{"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey}
	case "minio":
		mkdirs = []string{"data"}
		s.env = []string{"MINIO_ROOT_USER=" + s.AccessKey, "MINIO_ROOT_PASSWORD=" + s.SecretKey,
			// SSE-S3 needs a KMS key; with one, bucket encryption can be tested.
			"MINIO_KMS_SECRET_KEY=atrest-test:" + base64.StdEncoding.EncodeToString(randBytes(32)),
			"MINIO_BROWSER=off", "MINIO_UPDATE=off"}
	}
	for _, d := range mkdirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	// The port is free when we ask and may be taken before the server binds
	// it: try a few.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.setPort(port)
		if lastErr = s.launch(); lastErr == nil {
			ok = true
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *S3Server) setPort(port int) {
	s.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	switch s.Kind {
	case "versitygw":
		s.args = []string{"--port", s.Endpoint, "--quiet", "--iam-dir", filepath.Join(s.Dir, "iam"),
			"posix", "--versioning-dir", filepath.Join(s.Dir, "versions"), filepath.Join(s.Dir, "data")}
	case "minio":
		console, _ := freePort()
		s.args = []string{"server", "--quiet", "--address", s.Endpoint,
			"--console-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(console)), filepath.Join(s.Dir, "data")}
	}
}

// launch starts the server process and waits until it answers HTTP.
func (s *S3Server) launch() error {
	cmd := exec.Command(s.bin, s.args...)
	cmd.Env = append(os.Environ(), s.env...)
	// Kill the server if the test binary dies without running cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logf, err := os.OpenFile(filepath.Join(s.Dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.Kind, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("%s exited at startup: %s", s.Kind, s.log())
		default:
		}
		err := s.ping()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("%s did not answer on %s within 60s: %v: %s", s.Kind, s.Endpoint, err, s.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ping succeeds once the server answers HTTP at all: an anonymous request
// is refused, and the refusal is the answer we wait for.
func (s *S3Server) ping() error {
	c := http.Client{Timeout: 2 * time.Second}
	u := "http://" + s.Endpoint + "/"
	if s.Kind == "minio" {
		u += "minio/health/live"
	}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if s.Kind == "minio" && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", resp.Status)
	}
	return nil
}

func (s *S3Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	return tail(b, 1500)
}

func (s *S3Server) alive() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Stop shuts the server down (SIGTERM, then SIGKILL after 10 s) and removes
// its directory.
func (s *S3Server) Stop() {
	s.halt()
	os.RemoveAll(s.Dir)
}

func (s *S3Server) halt() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.kill()
	}
}

// Kill ends the server at once, as a crash would, and waits until it has
// exited; its data stays for Restart.
func (s *S3Server) Kill(t testing.TB) {
	t.Helper()
	if !s.alive() {
		t.Fatalf("testenv: Kill: %s on %s is not running", s.Kind, s.Endpoint)
	}
	s.kill()
}

func (s *S3Server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart starts a stopped or killed server again on the same endpoint and
// data, so a test can look at what a crash left behind.
func (s *S3Server) Restart(t testing.TB) {
	t.Helper()
	if s.alive() {
		s.halt()
	}
	var err error
	for range 20 { // the old socket may linger for a moment
		if err = s.launch(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("testenv: restart %s: %v", s.Kind, err)
}

// Config returns an s3store.Config for bucket on this server.
func (s *S3Server) Config(bucket string) s3store.Config {
	return s3store.Config{
		Endpoint: s.Endpoint, Region: s.Region, AccessKey: s.AccessKey,
		SecretKey: crypto.NewSecret(s.SecretKey), Bucket: bucket,
	}
}

// Bucket creates a fresh bucket named prefix-<random> (with object lock, and
// so versioning, if objectLock) and returns its name. Buckets go with the
// server's directory; they are not removed one by one.
func (s *S3Server) Bucket(t testing.TB, prefix string, objectLock bool) string {
	t.Helper()
	name := strings.ToLower(prefix) + "-" + randHex(4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s3store.CreateBucket(ctx, s.Config(name), objectLock); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return name
}

// sweepS3Dirs removes the directories of servers whose test binary died
// without stopping them (their processes died with it).
func sweepS3Dirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), s3DirPrefix+"*"))
	for _, d := range matches {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue // not ours, or being created
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }
