package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/atrest/atrest/engine"
)

// MarkerTable is created in every scratch database a drill creates: its
// comment is the run's marker (engine.Run.Marker), written with the table
// itself, which proves that atrest created the database.
const MarkerTable = "_atrest_drill"

// target is engine.Target on a MySQL or MariaDB drill server: a scratch
// database per database the dump holds, the run's lock a GET_LOCK named
// after it.
type target struct {
	dsn    string // for Load and Digests: no default database, sql_log_bin=0 where allowed
	server Server
	db     *sql.DB   // administrative pool, no default database
	lock   *sql.Conn // holds the run's lock while the drill runs
	run    engine.Run

	mu      sync.Mutex
	made    []string          // databases this run created, in order
	renames map[string]string // source database → scratch database
	made2   error             // a further scratch database could not be created
}

var _ engine.Target = (*target)(nil)

func lockName(runID string) string { return "atrest_drill_" + runID }

// Target identifies the drill server and takes the run's lock: while it
// is held no other drill treats this run's scratch databases as leftovers.
func (Engine) Target(ctx context.Context, dsn string, run engine.Run) (engine.Target, error) {
	srv, err := Identify(ctx, dsn)
	if err != nil {
		return nil, err
	}
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return nil, dsnError(err) // names the problem, not the values
	}
	cfg.DBName = ""
	cfg.MultiStatements = false
	cfg.AllowAllFiles = false
	if err := skipBinlog(ctx, cfg, run.Note); err != nil {
		return nil, err
	}
	conn, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return nil, dsnError(err) // names the problem, not the values
	}
	t := &target{dsn: cfg.FormatDSN(), server: srv, db: sql.OpenDB(conn), run: run, renames: map[string]string{}}
	if t.lock, err = t.db.Conn(ctx); err != nil {
		t.Close()
		return nil, err
	}
	var got sql.NullInt64
	if err := t.lock.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", lockName(run.ID)).Scan(&got); err != nil || got.Int64 != 1 {
		t.Close()
		if err == nil {
			err = errors.New("lock taken")
		}
		return nil, fmt.Errorf("take the drill lock: %w", err)
	}
	return t, nil
}

// skipBinlog keeps the drill out of the target's binary log where the
// user may (sql_log_bin=0 on every connection the drill opens): a scratch
// database is nothing for replicas, and logging the restore slows it. A
// user who may not is told that replicas see the scratch database.
func skipBinlog(ctx context.Context, cfg *mysqldrv.Config, note func(string, ...any)) error {
	conn, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("DSN: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var on sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT @@log_bin").Scan(&on); err != nil || on.Int64 == 0 {
		return nil
	}
	if _, err := c.ExecContext(ctx, "SET SESSION sql_log_bin = 0"); err != nil {
		note("the target writes a binary log and this user may not leave the drill out of it (%s): replicas of the drill server receive the scratch database and its drop", oneLineErr(err))
		return nil
	}
	p := make(map[string]string, len(cfg.Params)+1)
	for k, v := range cfg.Params {
		p[k] = v
	}
	p["sql_log_bin"] = "0"
	cfg.Params = p
	return nil
}

func (t *target) Server() engine.Server   { return t.server }
func (t *target) DigestAlgorithm() string { return DigestAlgorithm }
func (t *target) Refused(err error) bool  { return isServerError(err) }
func isServerError(err error) bool        { var me *mysqldrv.MySQLError; return errors.As(err, &me) }
func oneLineErr(err error) string         { return strings.Join(strings.Fields(err.Error()), " ") }
func slicesClone(s []string) []string     { return append([]string(nil), s...) }
func (t *target) Created() []string       { t.mu.Lock(); defer t.mu.Unlock(); return slicesClone(t.made) }
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Create creates name (never one that exists) and its marker; the name is
// recorded as this run's the moment the server has created it.
func (t *target) Create(ctx context.Context, name string) error {
	_, err := t.db.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name))
	if isCode(err, 1007) {
		return fmt.Errorf("scratch database %s: %w", quoteIdent(name), engine.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create scratch database %s: %s", quoteIdent(name), oneLineErr(err))
	}
	t.mu.Lock()
	t.made = append(t.made, name)
	t.mu.Unlock()
	// The proof lives in the table's comment, which is written with the
	// table itself: a row could be lost to a crash right after.
	host, _ := os.Hostname()
	marker := quoteIdent(name) + "." + quoteIdent(MarkerTable)
	stmts := []string{
		"CREATE TABLE " + marker +
			" (run_id CHAR(16) NOT NULL, job VARCHAR(255) NOT NULL, started DATETIME(6) NOT NULL, host VARCHAR(255) NOT NULL, pid INT NOT NULL)" +
			" COMMENT=" + quoteString(t.run.Marker),
		"INSERT INTO " + marker + " VALUES (" + quoteString(t.run.ID) + ", " +
			quoteString(t.run.Job) + ", UTC_TIMESTAMP(6), " + quoteString(host) + ", " + strconv.Itoa(os.Getpid()) + ")",
	}
	for _, s := range stmts {
		if _, err := t.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("mark scratch database %s: %s", quoteIdent(name), oneLineErr(err))
		}
	}
	return nil
}

// rename gives Load the scratch database for each database the dump
// names: the first goes to the first scratch database, each further one to
// base_2, base_3…, created here so that Load never loads into a database
// it finds (its CREATE DATABASE IF NOT EXISTS would).
func (t *target) rename(ctx context.Context, base string, cancel context.CancelFunc) func(string) string {
	return func(src string) string {
		t.mu.Lock()
		to, ok := t.renames[src]
		n := len(t.renames)
		t.mu.Unlock()
		if ok {
			return to
		}
		to = base
		if n > 0 {
			to = fmt.Sprintf("%s_%d", base, n+1)
			if err := t.Create(ctx, to); err != nil {
				t.mu.Lock()
				t.made2 = err
				t.mu.Unlock()
				cancel() // Load stops before it uses the name
			}
		}
		t.mu.Lock()
		t.renames[src] = to
		t.mu.Unlock()
		return to
	}
}

// Load restores a dump (atrest's or mysqldump's) into the run's scratch
// databases, definers stripped and events disabled, with secondary keys
// built after the rows (much faster, and SHOW CREATE TABLE, which the
// drill verifies, comes out the same).
//
// Definers are stripped also when o.Definers is keep. Keeping them would
// not test what `mariadb < FILE` meets: a definer's rights are on the
// source's database name, not on the scratch database's, so a view over
// a view of an existing, rightful definer fails here (ERROR 1356) and
// works there; and naming another definer needs SET USER. What the
// by-hand restore needs of definers is that their accounts exist on the
// server: the load lists them (LoadResult.Definers) for the drill to
// check with MissingAccounts.
func (t *target) Load(ctx context.Context, r io.Reader, o engine.LoadOptions) (*engine.LoadResult, error) {
	made := t.Created()
	if len(made) == 0 {
		return nil, errors.New("load: no scratch database created")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := LoadOptions{Parallel: o.Parallel, StripDefiners: true, DisableEvents: true, DeferIndexes: true,
		Rename: t.rename(ctx, made[0], cancel), SourceDatabases: o.SourceDatabases, Tables: o.Tables}
	lr, err := Load(ctx, t.dsn, made[0], r, opts)
	t.mu.Lock()
	made2 := t.made2
	t.mu.Unlock()
	if made2 != nil {
		return lr, fmt.Errorf("%w: %s", engine.ErrScratch, oneLineErr(made2))
	}
	return lr, err
}

// LoadsSubsets: Load honours engine.LoadOptions.Tables.
func (t *target) LoadsSubsets() bool { return true }

// DropCreated drops the databases this run created, and only those.
func (t *target) DropCreated(ctx context.Context) error {
	made := t.Created()
	var errs []string
	var left []string
	for i := len(made) - 1; i >= 0; i-- {
		if _, err := t.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(made[i])); err != nil {
			errs = append(errs, oneLineErr(err))
			left = append(left, made[i])
		}
	}
	t.mu.Lock()
	t.made = left
	t.renames = map[string]string{}
	t.made2 = nil
	t.mu.Unlock()
	if len(errs) > 0 {
		return fmt.Errorf("drop %s: %s", strings.Join(left, ", "), errs[0])
	}
	return nil
}

func (t *target) Close() {
	if t.lock != nil {
		// Release explicitly: closing a *sql.Conn only returns it to the
		// pool, and the server lets go of a lock when the session ends.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t.lock.ExecContext(ctx, "DO RELEASE_LOCK(?)", lockName(t.run.ID))
		cancel()
		t.lock.Close()
	}
	t.db.Close()
}

// List names the databases starting with prefix.
func (t *target) List(ctx context.Context, prefix string) ([]string, error) {
	return names(ctx, t.db, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?", likeEscape(prefix)+"%")
}

// Marker reads the comment of name's marker table.
func (t *target) Marker(ctx context.Context, name string) (string, bool, error) {
	var comment string
	err := t.db.QueryRowContext(ctx, "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", name, MarkerTable).Scan(&comment)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return comment, err == nil, err
}

// Running: a run's lock is held while its session lives.
func (t *target) Running(ctx context.Context, runID string) (bool, error) {
	var free sql.NullInt64
	if err := t.db.QueryRowContext(ctx, "SELECT IS_FREE_LOCK(?)", lockName(runID)).Scan(&free); err != nil {
		return false, err
	}
	return free.Int64 != 1, nil
}

func (t *target) Drop(ctx context.Context, name string) error {
	_, err := t.db.ExecContext(ctx, "DROP DATABASE "+quoteIdent(name))
	return err
}

// scratches lists the scratch databases that hold the load, with the
// source database each came from (itself where the dump never named it).
func (t *target) scratches() [][2]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out [][2]string
	for _, db := range t.made {
		src := db
		for s, to := range t.renames {
			if to == db {
				src = s
			}
		}
		out = append(out, [2]string{src, db})
	}
	return out
}

// Digests recomputes every restored table's rows, digest and DDL hash,
// the marker table left out.
func (t *target) Digests(ctx context.Context, parallel int) ([]engine.TableResult, error) {
	var out []engine.TableResult
	for _, s := range t.scratches() {
		res, err := Digests(ctx, t.dsn, s[1], parallel)
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			if r.Name != MarkerTable {
				r.Database = s[0]
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Count counts the rows of every restored base table.
func (t *target) Count(ctx context.Context) ([]engine.TableResult, error) {
	var out []engine.TableResult
	for _, s := range t.scratches() {
		names, err := t.baseTables(ctx, s[1])
		if err != nil {
			return nil, fmt.Errorf("count tables: %w", err)
		}
		sort.Strings(names)
		for _, n := range names {
			var rows int64
			if err := t.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(s[1])+"."+quoteIdent(n)).Scan(&rows); err != nil {
				return nil, fmt.Errorf("count rows of %s: %w", n, err)
			}
			out = append(out, engine.TableResult{Database: s[0], Name: n, Rows: rows})
		}
	}
	return out, nil
}

func (t *target) baseTables(ctx context.Context, db string) ([]string, error) {
	all, err := names(ctx, t.db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", db)
	return slices.DeleteFunc(all, func(n string) bool { return n == MarkerTable }), err
}

// Probe runs query in the first scratch database inside a read-only
// transaction and returns a copy of the first column of its first row.
func (t *target) Probe(ctx context.Context, query string) ([]byte, bool, error) {
	made := t.Created()
	if len(made) == 0 {
		return nil, false, errors.New("no scratch database")
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "USE "+quoteIdent(made[0])); err != nil {
		return nil, false, err
	}
	if _, err := conn.ExecContext(ctx, "START TRANSACTION READ ONLY"); err != nil {
		return nil, false, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	cols, err := rows.Columns()
	if err != nil {
		return nil, false, err
	}
	vals := make([]any, len(cols))
	var first sql.RawBytes
	vals[0] = &first
	for i := 1; i < len(vals); i++ {
		vals[i] = new(sql.RawBytes)
	}
	if err := rows.Scan(vals...); err != nil {
		return nil, false, err
	}
	if first == nil {
		return nil, true, nil
	}
	return append([]byte{}, first...), true, nil
}

// Objects reads back the views, triggers, routines, events and table keys
// of every scratch database, named by the source database and with the
// scratch databases' names in their text written back as the source's.
func (t *target) Objects(ctx context.Context) ([]engine.Object, error) {
	sc := t.scratches()
	// The dump's session settings, so that SHOW CREATE prints the same.
	db, err := openDB(t.dsn, readParams, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var out []engine.Object
	for _, s := range sc {
		// SHOW CREATE prints names of the current database unqualified,
		// as the dump read them in the source's.
		if _, err := conn.ExecContext(ctx, "USE "+quoteIdent(s[1])); err != nil {
			return nil, fmt.Errorf("objects of %s: %w", quoteIdent(s[1]), err)
		}
		objs, err := readObjects(ctx, conn, s[1], sc)
		if err != nil {
			return nil, fmt.Errorf("objects of %s: %w", quoteIdent(s[1]), err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// MissingAccounts looks the accounts up in mysql.user (a view over
// mysql.global_priv on MariaDB; roles have an empty host there). The drill
// user needs SELECT on its User and Host columns, which show no password.
//
// An object whose definer is missing is created with a note, and fails
// with ERROR 1449 when used; a view over such a view fails already when
// `mariadb < FILE` creates it, which then stops.
func (t *target) MissingAccounts(ctx context.Context, accounts []string) ([]string, string, error) {
	const why = "the README's restore (`mariadb < FILE`) fails with ERROR 1449 (when the object is used, or created over another)"
	var missing []string
	for _, a := range accounts {
		user, host, ok := splitAccount(a)
		if !ok {
			return nil, "", fmt.Errorf("account %s: not written 'user'@'host'", a)
		}
		var n int
		err := t.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?", user, host).Scan(&n)
		if isCode(err, 1142, 1143, 1044) {
			return nil, "", fmt.Errorf("%w: %s; grant it SELECT (User, Host) ON mysql.user", engine.ErrAccounts, oneLineErr(redactErr(err)))
		}
		if err != nil {
			return nil, "", fmt.Errorf("look up account %s: %w", a, err)
		}
		if n == 0 {
			missing = append(missing, a)
		}
	}
	return missing, why, nil
}
