package drill

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/atrest/atrest/engine/mysql"
)

// ErrSourceServer is wrapped by the error of a drill refused because its
// target is the backup's source server.
var ErrSourceServer = errors.New("the drill target is the source server")

// ScratchPrefix starts the name of every database a drill creates.
const ScratchPrefix = "atrest_drill_"

// MarkerTable is created in every scratch database: its comment names the
// job and the run, which proves that atrest created the database, and
// only such a database is ever dropped as a leftover.
const MarkerTable = "_atrest_drill"

const markerPrefix = "atrest drill scratch; run="

// maxJobPart keeps scratch names within MySQL's 64 characters with room for
// a "_N" suffix per further database of a multi-database backup.
const maxJobPart = 30

// ScratchName is the scratch database of a drill of job started at t:
// atrest_drill_<job>_<UTC yyyymmddhhmmss>, with the job name reduced to
// letters, digits and underscores.
func ScratchName(job string, t time.Time) string {
	return ScratchPrefix + jobPart(job) + "_" + t.UTC().Format("20060102150405")
}

func jobPart(job string) string {
	b := []byte(job)
	for i, c := range b {
		if !isWord(c) {
			b[i] = '_'
		}
	}
	if len(b) > maxJobPart {
		b = b[:maxJobPart]
	}
	return string(b)
}

// target is the drill server and what this run created on it.
type target struct {
	dsn    string
	server mysql.Server
	db     *sql.DB   // administrative pool, no default database
	lock   *sql.Conn // holds the run's lock while the drill runs
	runID  string
	job    string
	base   string

	mu      sync.Mutex
	made    []string          // databases this run created, in order
	renames map[string]string // source database → scratch database
	made2   error             // a further scratch database could not be created
}

func lockName(runID string) string { return "atrest_drill_" + runID }

// connect identifies the target, refuses the source server, and takes the
// run's lock: while it is held no other drill treats this run's scratch
// databases as leftovers.
func (d *drill) connect() (*target, error) {
	dsn := d.o.TargetDSN.Reveal()
	srv, err := mysql.Identify(d.ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("target: %s", oneLine(err))
	}
	d.rec.Target = fmt.Sprintf("%s:%d (%s)", srv.Host, srv.Port, srv.Version)
	if err := d.checkSource(dsn, srv); err != nil {
		return nil, err
	}
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("target DSN: %s", oneLine(err))
	}
	cfg.DBName = ""
	cfg.MultiStatements = false
	cfg.AllowAllFiles = false
	if err := d.skipBinlog(cfg); err != nil {
		return nil, err
	}
	conn, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("target DSN: %s", oneLine(err))
	}
	id := make([]byte, 8)
	rand.Read(id)
	t := &target{dsn: cfg.FormatDSN(), server: srv, db: sql.OpenDB(conn), runID: hex.EncodeToString(id),
		job: d.o.Job.Name, base: ScratchName(d.o.Job.Name, d.start), renames: map[string]string{}}
	if t.lock, err = t.db.Conn(d.ctx); err != nil {
		t.close()
		return nil, fmt.Errorf("target: %s", oneLine(err))
	}
	var got sql.NullInt64
	if err := t.lock.QueryRowContext(d.ctx, "SELECT GET_LOCK(?, 0)", lockName(t.runID)).Scan(&got); err != nil || got.Int64 != 1 {
		t.close()
		if err == nil {
			err = errors.New("lock taken")
		}
		return nil, fmt.Errorf("target: take the drill lock: %s", oneLine(err))
	}
	return t, nil
}

// skipBinlog keeps the drill out of the target's binary log where the
// user may (sql_log_bin=0 on every connection the drill opens): a scratch
// database is nothing for replicas, and logging the restore slows it. A
// user who may not is told that replicas see the scratch database.
func (d *drill) skipBinlog(cfg *mysqldrv.Config) error {
	conn, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("target DSN: %s", oneLine(err))
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	c, err := db.Conn(d.ctx)
	if err != nil {
		return fmt.Errorf("target: %s", oneLine(err))
	}
	defer c.Close()
	var on sql.NullInt64
	if err := c.QueryRowContext(d.ctx, "SELECT @@log_bin").Scan(&on); err != nil || on.Int64 == 0 {
		return nil
	}
	if _, err := c.ExecContext(d.ctx, "SET SESSION sql_log_bin = 0"); err != nil {
		d.note("the target writes a binary log and this user may not leave the drill out of it (%s): replicas of the drill server receive the scratch database and its drop", oneLine(err))
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

// checkSource refuses a target that is the backup's source: the same
// server UUID (MySQL's @@server_uuid) or the same host and port as the
// manifest records or as the source DSN reaches.
func (d *drill) checkSource(dsn string, tgt mysql.Server) error {
	var why []string
	if m := d.chosen.manifest; m != nil && (m.Source.UUID != "" || m.Source.Host != "") {
		src := mysql.Server{Version: m.Source.Version, UUID: m.Source.UUID, Host: m.Source.Host, Port: m.Source.Port}
		if s := sameServer(src, tgt); s != "" {
			why = append(why, s+" as the backup's source in its manifest")
		}
	}
	if !d.o.SourceDSN.IsZero() {
		sdsn := d.o.SourceDSN.Reveal()
		if a, b := dsnAddr(sdsn), dsnAddr(dsn); a != "" && a == b {
			why = append(why, "the source DSN has the same address "+a)
		}
		if src, err := mysql.Identify(d.ctx, sdsn); err != nil {
			d.note("could not reach the source to compare it with the target (%s)", oneLine(err))
		} else if s := sameServer(src, tgt); s != "" {
			why = append(why, s+" as the source")
		}
	}
	if len(why) == 0 {
		return nil
	}
	if !d.o.AllowSourceServer {
		return fmt.Errorf("refusing to restore onto %s: %w (%s); give --allow-source-server to restore into scratch databases beside the source's",
			d.rec.Target, ErrSourceServer, strings.Join(why, "; "))
	}
	d.note("the target is the source server (%s); allowed: the drill writes only to its own %s* databases", strings.Join(why, "; "), ScratchPrefix)
	return nil
}

// sameServer says why a and b are the same server, or "". MariaDB has no
// @@server_uuid (mysql.Identify then gives server_id@hostname, the same for
// two servers on one host), so there only host and port count.
func sameServer(a, b mysql.Server) string {
	real := func(s mysql.Server) bool { return s.UUID != "" && !strings.HasSuffix(s.UUID, "@"+s.Host) }
	switch {
	case real(a) && real(b) && a.UUID == b.UUID:
		return "the same @@server_uuid " + a.UUID
	case a.Host != "" && a.Host == b.Host && a.Port == b.Port:
		return fmt.Sprintf("the same host and port %s:%d", a.Host, a.Port)
	}
	return ""
}

func dsnAddr(dsn string) string {
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return ""
	}
	return cfg.Net + ":" + cfg.Addr
}

// createScratch creates name (never one that exists) and its marker; the
// name is recorded as this run's the moment the server has created it.
func (t *target) createScratch(ctx context.Context, name string) error {
	_, err := t.db.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name))
	if isCode(err, 1007) {
		return fmt.Errorf("scratch database %s already exists on the target: refusing to load into a database this drill did not create", quoteIdent(name))
	}
	if err != nil {
		return fmt.Errorf("create scratch database %s: %s", quoteIdent(name), oneLine(err))
	}
	t.mu.Lock()
	t.made = append(t.made, name)
	t.mu.Unlock()
	// The proof lives in the table's comment, which is written with the
	// table itself: a row could be lost to a crash right after.
	comment := markerPrefix + t.runID + "; job=" + t.job
	host, _ := os.Hostname()
	stmts := []string{
		"CREATE TABLE " + quoteIdent(name) + "." + quoteIdent(MarkerTable) +
			" (run_id CHAR(16) NOT NULL, job VARCHAR(255) NOT NULL, started DATETIME(6) NOT NULL, host VARCHAR(255) NOT NULL, pid INT NOT NULL)" +
			" COMMENT=" + quoteString(comment),
		"INSERT INTO " + quoteIdent(name) + "." + quoteIdent(MarkerTable) + " VALUES (" + quoteString(t.runID) + ", " +
			quoteString(t.job) + ", UTC_TIMESTAMP(6), " + quoteString(host) + ", " + strconv.Itoa(os.Getpid()) + ")",
	}
	for _, s := range stmts {
		if _, err := t.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("mark scratch database %s: %s", quoteIdent(name), oneLine(err))
		}
	}
	return nil
}

// rename gives mysql.Load the scratch database for each database the dump
// names: the first goes to the base scratch database, each further one to
// base_2, base_3…, created here so that Load never loads into a database
// it finds (its CREATE DATABASE IF NOT EXISTS would).
func (t *target) rename(ctx context.Context, cancel context.CancelFunc) func(string) string {
	return func(src string) string {
		t.mu.Lock()
		to, ok := t.renames[src]
		n := len(t.renames)
		t.mu.Unlock()
		if ok {
			return to
		}
		to = t.base
		if n > 0 {
			to = fmt.Sprintf("%s_%d", t.base, n+1)
			if err := t.createScratch(ctx, to); err != nil {
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

// scratchFor returns the scratch database the source database went to.
func (t *target) scratchFor(src string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	to, ok := t.renames[src]
	return to, ok
}

func (t *target) created() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slicesClone(t.made)
}

// reset drops what this run created and forgets the mapping, for a retry.
func (t *target) reset(ctx context.Context) error {
	if err := t.dropAll(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	t.renames = map[string]string{}
	t.made2 = nil
	t.mu.Unlock()
	return t.createScratch(ctx, t.base)
}

// dropAll drops the databases this run created, and only those.
func (t *target) dropAll(ctx context.Context) error {
	t.mu.Lock()
	made := slicesClone(t.made)
	t.mu.Unlock()
	var errs []string
	var left []string
	for i := len(made) - 1; i >= 0; i-- {
		if _, err := t.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(made[i])); err != nil {
			errs = append(errs, oneLine(err))
			left = append(left, made[i])
		}
	}
	t.mu.Lock()
	t.made = left
	t.mu.Unlock()
	if len(errs) > 0 {
		return fmt.Errorf("drop %s: %s", strings.Join(left, ", "), errs[0])
	}
	return nil
}

func (t *target) close() {
	if t.lock != nil {
		// Release explicitly: closing a *sql.Conn only returns it to the
		// pool, and the server lets go of a lock when the session ends.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t.lock.ExecContext(ctx, "DO RELEASE_LOCK(?)", lockName(t.runID))
		cancel()
		t.lock.Close()
	}
	t.db.Close()
}

// sweep drops leftovers of earlier drills of this job that died before
// cleaning up: databases named like this job's scratch databases whose
// marker names this job and whose run holds no lock any more (its session
// is gone). Anything else by that name is left alone, with a note.
func (t *target) sweep(d *drill) error {
	ctx := d.ctx
	pat := regexp.MustCompile("^" + regexp.QuoteMeta(ScratchPrefix+jobPart(t.job)+"_") + `[0-9]{14}(_[0-9]+)?$`)
	rows, err := t.db.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
		likeEscape(ScratchPrefix+jobPart(t.job)+"_")+"%")
	if err != nil {
		return fmt.Errorf("target: list databases: %s", oneLine(err))
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("target: list databases: %s", oneLine(err))
		}
		if pat.MatchString(n) {
			names = append(names, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("target: list databases: %s", oneLine(err))
	}
	for _, n := range names {
		var comment string
		err := t.db.QueryRowContext(ctx, "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", n, MarkerTable).Scan(&comment)
		if errors.Is(err, sql.ErrNoRows) {
			d.note("left %s alone: it has no atrest marker table, so this drill cannot prove atrest created it", n)
			continue
		}
		if err != nil {
			return fmt.Errorf("target: read marker of %s: %s", n, oneLine(err))
		}
		run, job, ok := parseMarker(comment)
		if !ok || job != t.job {
			d.note("left %s alone: its marker does not name job %s", n, t.job)
			continue
		}
		var free sql.NullInt64
		if err := t.db.QueryRowContext(ctx, "SELECT IS_FREE_LOCK(?)", lockName(run)).Scan(&free); err != nil {
			return fmt.Errorf("target: %s", oneLine(err))
		}
		if free.Int64 != 1 {
			d.note("left %s alone: drill run %s is still running", n, run)
			continue
		}
		if _, err := t.db.ExecContext(ctx, "DROP DATABASE "+quoteIdent(n)); err != nil {
			d.note("could not drop leftover %s: %s", n, oneLine(err))
			continue
		}
		d.rec.Cleaned = append(d.rec.Cleaned, n)
	}
	return nil
}

func parseMarker(comment string) (run, job string, ok bool) {
	rest, ok := strings.CutPrefix(comment, markerPrefix)
	if !ok || len(rest) < 16 {
		return "", "", false
	}
	run, rest = rest[:16], rest[16:]
	job, ok = strings.CutPrefix(rest, "; job=")
	return run, job, ok
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`, "\x00", `\0`).Replace(s) + "'"
}

func isCode(err error, codes ...uint16) bool {
	var me *mysqldrv.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, c := range codes {
		if me.Number == c {
			return true
		}
	}
	return false
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
