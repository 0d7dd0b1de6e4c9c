package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvPostgresDSN names an existing PostgreSQL server to use instead of a
// throwaway one (postgres://user:password@host:port/db); its user must be
// able to create databases and roles.
const EnvPostgresDSN = "ATREST_TEST_POSTGRES_DSN"

// PostgresPackage is the Debian package the throwaway servers come from.
const PostgresPackage = "postgresql-15"

// PG is a PostgreSQL server for tests.
type PG struct {
	// DSN is a postgres:// URL for the superuser, on the database
	// "postgres".
	DSN      string
	Host     string
	Port     int
	User     string
	Password string
	// Dir is the server's temporary directory (datadir, socket, log);
	// empty for a server given by environment variable.
	Dir string

	srv *proc // nil for a server given by environment variable
}

var postgreses sharedServers[string, *PG]

// Postgres returns the server in ATREST_TEST_POSTGRES_DSN, or else a
// throwaway PostgreSQL shared by the tests of this binary. Tests that share
// it use their own databases (see CreateDatabase).
func Postgres(t testing.TB) *PG {
	t.Helper()
	if dsn := os.Getenv(EnvPostgresDSN); dsn != "" {
		pg, err := externalPG(dsn)
		if err != nil {
			t.Fatalf("testenv: %s: %v", EnvPostgresDSN, err)
		}
		return pg
	}
	return sharedPG(t, "main")
}

// SecondPostgres is a second throwaway PostgreSQL shared by the tests of
// this binary, another server than Postgres's: a drill server for backups
// of the first.
func SecondPostgres(t testing.TB) *PG {
	t.Helper()
	return sharedPG(t, "second")
}

func sharedPG(t testing.TB, name string) *PG {
	t.Helper()
	return postgreses.get(t, name, startPG, pgUnavailable)
}

func stopPG() { postgreses.stopAll() }

func pgUnavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("testenv: no PostgreSQL for this test: %v; install the Debian package %s "+
		"(apt-get install %s) or set %s", err, PostgresPackage, PostgresPackage, EnvPostgresDSN)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func externalPG(dsn string) (*PG, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return &PG{DSN: dsn, Host: cfg.Host, Port: int(cfg.Port), User: cfg.User, Password: cfg.Password}, nil
}

// PostgresBin finds a PostgreSQL program: Debian keeps the server's in
// /usr/lib/postgresql/<version>/bin, off the PATH; the newest is taken.
func PostgresBin(name string) (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found (looked in /usr/lib/postgresql/*/bin and PATH)", name)
}

func pgVersion(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// pgUser is whom the server runs as: PostgreSQL refuses to run as root, so
// as root the server and its files belong to the postgres user.
func pgUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func startPG() (*PG, error) {
	initdb, err := PostgresBin("initdb")
	if err != nil {
		return nil, err
	}
	server, err := PostgresBin("postgres")
	if err != nil {
		return nil, err
	}
	cred, err := pgUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "atrest-pg-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	pw := make([]byte, 12)
	rand.Read(pw)
	password := hex.EncodeToString(pw)
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := chownTree(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "--pwfile="+pwfile, "-E", "UTF8",
		"--locale=C.UTF-8", "--auth-host=scram-sha-256", "--auth-local=peer", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, tail(out, 800))
	}
	os.Remove(pwfile)
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		pg, err := launchPG(server, dir, port, password, cred)
		if err == nil {
			ok = true
			return pg, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
}

func launchPG(server, dir string, port int, password string, cred *syscall.Credential) (*PG, error) {
	// A throwaway server need not survive a power cut: trade durability for
	// the speed of loading test data.
	cmd := exec.Command(server, "-D", filepath.Join(dir, "data"), "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "shared_buffers=64MB", "-c", "max_connections=60",
		"-c", "log_min_messages=warning")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, err
	}
	srv, err := startProc(cmd, logf, "postgres")
	if err != nil {
		return nil, err
	}
	pg := &PG{Host: "127.0.0.1", Port: port, User: "postgres", Password: password, Dir: dir, srv: srv}
	pg.DSN = pg.DSNFor("postgres", password, "postgres")
	if err := srv.ready("postgres", port, pg.ping, pg.log); err != nil {
		return nil, err
	}
	return pg, nil
}

func (pg *PG) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

func (pg *PG) log() string {
	b, _ := os.ReadFile(filepath.Join(pg.Dir, "postgres.log"))
	return tail(b, 1500)
}

func (pg *PG) alive() bool { return pg.srv.alive() }

// Stop shuts a throwaway server down (fast shutdown, then SIGKILL after
// 30 s) and removes its directory. It does nothing to a server given by
// environment variable.
func (pg *PG) Stop() {
	if pg.srv == nil {
		return
	}
	pg.srv.stop(func() { pg.srv.cmd.Process.Signal(syscall.SIGINT) })
	os.RemoveAll(pg.Dir)
}

// Kill ends a throwaway server at once, as a crash would.
func (pg *PG) Kill(t testing.TB) {
	t.Helper()
	pg.srv.killFor(t)
}

// DSNFor returns a postgres:// URL for user on this server and database.
func (pg *PG) DSNFor(user, password, database string) string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)), Path: "/" + database,
		RawQuery: "sslmode=disable"}
	if password != "" {
		u.User = url.UserPassword(user, password)
	} else {
		u.User = url.User(user)
	}
	return u.String()
}

// Connect opens a connection as the superuser to database, closed at the
// end of the test.
func (pg *PG) Connect(t testing.TB, database string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), pg.DSNFor(pg.User, pg.Password, database))
	if err != nil {
		t.Fatalf("testenv: connect to %s: %v", database, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// Exec runs statements as the superuser in database on a session of their
// own, which ends before Exec returns, failing the test on the first error.
func (pg *PG) Exec(t testing.TB, database string, stmts ...string) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), pg.DSNFor(pg.User, pg.Password, database))
	if err != nil {
		t.Fatalf("testenv: connect to %s: %v", database, err)
	}
	defer c.Close(context.Background())
	for _, s := range stmts {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("testenv: %s: %v", abbrev(s), err)
		}
	}
}

// CreateDatabase creates a database named prefix_<random> and drops it at
// the end of the test.
func (pg *PG) CreateDatabase(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	pg.Exec(t, "postgres", `CREATE DATABASE "`+name+`" TEMPLATE template0 ENCODING 'UTF8'`)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, pg.DSN); err == nil {
			c.Exec(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`)
			c.Close(ctx)
		}
	})
	return name
}

// Psql feeds a SQL script to the psql client as an operator would, stopping
// at the first error.
func (pg *PG) Psql(t testing.TB, database, path string) {
	t.Helper()
	out, err := pg.PsqlErr(database, path)
	if err != nil {
		t.Fatalf("testenv: psql %s: %v: %s", path, err, tail(out, 800))
	}
}

// PsqlErr is Psql returning the client's output and error.
func (pg *PG) PsqlErr(database, path string) ([]byte, error) {
	client, err := PostgresBin("psql")
	if err != nil {
		return nil, errors.Join(err, fmt.Errorf("install %s", PostgresPackage))
	}
	cmd := exec.Command(client, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.Host, "-p", strconv.Itoa(pg.Port),
		"-U", pg.User, "-d", database, "-f", path)
	// The password goes through the environment, never the command line.
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pg.Password)
	return cmd.CombinedOutput()
}

// Program runs a PostgreSQL client program (pg_dump, pg_restore …) against
// this server with the password in its environment, and returns its
// standard output.
func (pg *PG) Program(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	bin, err := PostgresBin(name)
	if err != nil {
		pgUnavailable(t, err)
	}
	cmd := exec.Command(bin, append([]string{"-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", pg.User}, args...)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pg.Password)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testenv: %s: %v: %s", name, err, tail([]byte(stderr.String()), 800))
	}
	return out
}
