// Package testenv starts the real peers that integration tests need: throwaway
// MariaDB servers (this file), PostgreSQL servers and S3 servers. A peer is started on a free
// loopback port with its own temporary directory and stopped when the test
// (or, under Main, the test binary) ends.
//
// When a peer cannot be had, tests skip on a developer machine and fail under
// CI=true with a message naming the Debian package to install (SPEC §6): a CI
// run that silently skipped its integration tests would prove nothing.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Environment variables naming an existing server to use instead of a
// throwaway one. The DSN's user must be able to create databases and users.
const (
	EnvMySQLDSN          = "ATREST_TEST_MYSQL_DSN"
	EnvMySQLEncryptedDSN = "ATREST_TEST_MYSQL_ENCRYPTED_DSN"
)

// DB is a MySQL-compatible server for tests.
type DB struct {
	// DSN is a go-sql-driver DSN for an administrative user with no default
	// database: root@tcp(127.0.0.1:PORT)/ for a throwaway server.
	DSN      string
	Host     string
	Port     int
	User     string
	Password string
	// Dir is the server's temporary directory (datadir, socket, error log);
	// empty for a server given by environment variable.
	Dir string

	srv *proc // nil for a server given by environment variable
}

// Config selects the features of a throwaway server.
type Config struct {
	// Encrypted loads the file_key_management plugin with a fresh key and
	// turns on innodb_encrypt_tables, so tables are encrypted at rest unless
	// created with ENCRYPTED=NO.
	Encrypted bool
	// Args are extra mariadbd options.
	Args []string
}

var (
	sharedMu   sync.Mutex // guards mainActive
	mainActive bool
	mariadbs   sharedServers[bool, *DB] // by Config.Encrypted
)

// Main runs the tests of a package that uses the shared servers and stops
// those servers when all tests are done. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Without it, a shared server is stopped at the end of the test that started
// it, and the next test starts another one: correct, only slower.
func Main(m *testing.M) {
	sharedMu.Lock()
	mainActive = true
	sharedMu.Unlock()
	code := m.Run()
	mariadbs.stopAll()
	stopS3()
	stopPG()
	os.Exit(code)
}

// MariaDB returns the server in ATREST_TEST_MYSQL_DSN, or else a throwaway
// MariaDB shared by the tests of this binary. Tests that share it must use
// their own databases (see CreateDatabase).
func MariaDB(t testing.TB) *DB {
	t.Helper()
	return sharedServer(t, false, EnvMySQLDSN)
}

// EncryptedMariaDB is like MariaDB but the server encrypts tables at rest
// (file_key_management, innodb_encrypt_tables=ON). An existing server can be
// given in ATREST_TEST_MYSQL_ENCRYPTED_DSN.
func EncryptedMariaDB(t testing.TB) *DB {
	t.Helper()
	return sharedServer(t, true, EnvMySQLEncryptedDSN)
}

func sharedServer(t testing.TB, encrypted bool, env string) *DB {
	t.Helper()
	if dsn := os.Getenv(env); dsn != "" {
		db, err := external(dsn)
		if err != nil {
			t.Fatalf("testenv: %s: %v", env, err)
		}
		return db
	}
	return mariadbs.get(t, encrypted, func() (*DB, error) { return start(Config{Encrypted: encrypted}) }, unavailable)
}

// NewMariaDB starts a throwaway MariaDB for this test alone (one that the
// test may kill, say) and stops it at the end of the test. It never uses an
// existing server.
func NewMariaDB(t testing.TB, cfg Config) *DB {
	t.Helper()
	db, err := start(cfg)
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() { db.Stop() })
	return db
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("testenv: no MariaDB for this test: %v; install the Debian package mariadb-server "+
		"(apt-get install mariadb-server) or set %s", err, EnvMySQLDSN)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func external(dsn string) (*DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", cfg.Addr, err)
	}
	p, _ := strconv.Atoi(port)
	return &DB{DSN: dsn, Host: host, Port: p, User: cfg.User, Password: cfg.Passwd}, nil
}

// binaries finds the server and its installer; Debian puts mariadbd in
// /usr/sbin, which is not on every user's PATH.
func binaries() (server, install string, err error) {
	find := func(name string, dirs ...string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
		return ""
	}
	server = find("mariadbd", "/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin")
	install = find("mariadb-install-db", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/scripts")
	if server == "" || install == "" {
		return "", "", errors.New("mariadbd or mariadb-install-db not found")
	}
	return server, install, nil
}

func start(cfg Config) (*DB, error) {
	server, install, err := binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "atrest-mariadb-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	// mariadbd refuses to run as root unless told so, and --user is ignored
	// (with a warning) when we are not root: name whoever we are.
	me := "root"
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	data := filepath.Join(dir, "data")
	// Seen once with several test binaries starting servers at once: the
	// bootstrap failed and a second try in a clean datadir worked. Retry once
	// and, if it fails again, say what the server said ([ERROR] lines), not
	// the installer's generic advice.
	var out []byte
	for try := 0; try < 2; try++ {
		os.RemoveAll(data)
		out, err = exec.Command(install, "--no-defaults", "--datadir="+data, "--user="+me,
			"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput()
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("mariadb-install-db (twice): %v: %s", err, errorLines(out, 800))
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	args := []string{"--no-defaults", "--datadir=" + data, "--user=" + me,
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(dir, "sock"),
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--log-error=" + filepath.Join(dir, "error.log"),
		// Its own tmpdir: servers sharing /tmp lost each other's temporary
		// tables ("Error on delete of '/tmp/#sql-temptable-…'") under load.
		"--tmpdir=" + tmp,
		"--skip-name-resolve",
		// A throwaway server need not survive a power cut: trade durability
		// for the speed of loading test schemas.
		"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--sync-binlog=0",
		"--innodb-buffer-pool-size=256M",
	}
	if cfg.Encrypted {
		key := make([]byte, 32)
		rand.Read(key)
		keys := filepath.Join(dir, "keys.txt")
		if err := os.WriteFile(keys, []byte("1;"+hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--plugin-load-add=file_key_management",
			"--file-key-management-filename="+keys,
			"--innodb-encrypt-tables=ON", "--innodb-encryption-threads=1")
	}
	args = append(args, cfg.Args...)
	// The port is free when we ask and may be taken before mariadbd binds it:
	// try a few.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		db, err := launch(server, dir, port, append(args, "--port="+strconv.Itoa(port)))
		if err == nil {
			ok = true
			return db, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(server, dir string, port int, args []string) (*DB, error) {
	logf, err := os.Create(filepath.Join(dir, "mariadbd.out"))
	if err != nil {
		return nil, err
	}
	srv, err := startProc(exec.Command(server, args...), logf, "mariadbd")
	if err != nil {
		return nil, err
	}
	db := &DB{
		DSN:  fmt.Sprintf("root@tcp(127.0.0.1:%d)/", port),
		Host: "127.0.0.1", Port: port, User: "root", Dir: dir, srv: srv,
	}
	if err := srv.ready("mariadbd", port, db.ping, db.errorLog); err != nil {
		return nil, err
	}
	return db, nil
}

func (db *DB) ping() error {
	c, err := sql.Open("mysql", db.DSN+"?timeout=2s")
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.PingContext(ctx)
}

func (db *DB) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(db.Dir, "error.log"))
	return tail(b, 1500)
}

func (db *DB) alive() bool { return db.srv.alive() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// errorLines is the server's [ERROR] lines from the installer's output, or
// its tail when there are none.
func errorLines(b []byte, n int) string {
	var errs []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "[ERROR]") || strings.HasPrefix(l, "ERROR") {
			errs = append(errs, strings.TrimSpace(l))
		}
	}
	if len(errs) == 0 {
		return tail(b, n)
	}
	return tail([]byte(strings.Join(errs, " | ")), n)
}

func tail(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// Stop shuts a throwaway server down (SQL SHUTDOWN, then SIGKILL after 30 s)
// and removes its directory. It does nothing to a server given by
// environment variable.
func (db *DB) Stop() {
	if db.srv == nil {
		return
	}
	db.srv.stop(func() {
		if c, err := sql.Open("mysql", db.DSN+"?timeout=2s"); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.ExecContext(ctx, "SHUTDOWN")
			cancel()
			c.Close()
		}
	})
	os.RemoveAll(db.Dir)
}

// Kill ends a throwaway server at once, as a crash would, and waits until
// it has exited. Tests use it to see a server go away mid-run.
func (db *DB) Kill(t testing.TB) {
	t.Helper()
	db.srv.killFor(t)
}

// DSNFor returns a DSN for user on this server with the given default
// database (may be empty).
func (db *DB) DSNFor(user, password, database string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = user, password
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(db.Host, strconv.Itoa(db.Port))
	cfg.DBName = database
	return cfg.FormatDSN()
}

// Open returns a connection pool for the administrative user with database
// as its default (may be empty), closed at the end of the test.
func (db *DB) Open(t testing.TB, database string) *sql.DB {
	t.Helper()
	dsn := db.DSN
	if database != "" {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		cfg.DBName = database
		dsn = cfg.FormatDSN()
	}
	c, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Exec runs statements as the administrative user, failing the test on the
// first error.
func (db *DB) Exec(t testing.TB, stmts ...string) {
	t.Helper()
	c := db.Open(t, "")
	conn, err := c.Conn(context.Background())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("testenv: %s: %v", abbrev(s), err)
		}
	}
}

func abbrev(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// CreateDatabase creates a database named prefix_<random> and drops it at the
// end of the test, so tests sharing a server do not collide.
func (db *DB) CreateDatabase(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	db.Exec(t, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4")
	t.Cleanup(func() {
		if c, err := sql.Open("mysql", db.DSN); err == nil {
			c.Exec("DROP DATABASE IF EXISTS `" + name + "`")
			c.Close()
		}
	})
	return name
}

// Load feeds a SQL script to the mariadb (or mysql) command-line client, as
// an operator would load a dump.
func (db *DB) Load(t testing.TB, path string) {
	t.Helper()
	client := ""
	for _, name := range []string{"mariadb", "mysql"} {
		if p, err := exec.LookPath(name); err == nil {
			client = p
			break
		}
	}
	if client == "" {
		unavailable(t, errors.New("no mariadb or mysql client on PATH"))
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer f.Close()
	cmd := exec.Command(client, "--no-defaults", "--default-character-set=utf8mb4",
		"-h"+db.Host, "-P"+strconv.Itoa(db.Port), "-u"+db.User)
	// The password goes through the environment, never the command line
	// that ps shows.
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+db.Password)
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testenv: load %s: %v: %s", path, err, tail(out, 800))
	}
}
