package mysql

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/atrest/atrest/engine"
)

// Options select what Dump reads and how.
type Options struct {
	// Databases to dump; none means every database but the system ones.
	Databases []string
	// Parallel is the number of connections that read tables at once
	// (default 1). More than one needs the RELOAD privilege for the brief
	// global read lock that gives them all the same snapshot; without it
	// the dump uses one connection and says so in Result.Notes.
	Parallel int
	// StatementBytes is the size at which an INSERT statement is ended
	// (default 1 MiB). A single row larger than this makes a larger one.
	StatementBytes int
	// LockWait bounds the wait for the global read lock (default 10s):
	// while FLUSH TABLES WITH READ LOCK waits for a long query, it blocks
	// writers on the whole server.
	LockWait time.Duration
}

// The values Dump returns are the engine's, shared with every family.
type (
	Result      = engine.DumpResult
	TableResult = engine.TableResult
	Object      = engine.Object
)

// dumpSQLMode is the sql_mode the dump's statements are written for: no
// NO_BACKSLASH_ESCAPES (literals use backslash escapes), and a 0 in an
// AUTO_INCREMENT column stays 0.
const dumpSQLMode = "NO_AUTO_VALUE_ON_ZERO"

// Dump writes a consistent snapshot of the databases to w as SQL that the
// mariadb/mysql client loads, and returns what it dumped with each table's
// row count and digest. The DSN's user needs SELECT, SHOW VIEW, TRIGGER,
// EVENT (without it the events are left out, and Result.Notes say so) and
// (for routines) read access to mysql.proc; RELOAD for Parallel > 1 and
// BINLOG MONITOR (REPLICATION CLIENT) for the binlog position.
//
// The output, per database: CREATE DATABASE IF NOT EXISTS and USE lines,
// then every table (DROP TABLE IF EXISTS, CREATE TABLE), then the rows as
// multi-row INSERTs naming their columns (tables read in parallel may
// interleave), then views, triggers, routines and events. No statement names a
// database except CREATE DATABASE and USE, so a loader that rewrites those
// restores the dump under another name.
func Dump(ctx context.Context, dsn string, opts Options, w io.Writer) (*Result, error) {
	res := &Result{Started: time.Now().UTC(), DigestAlgorithm: DigestAlgorithm}
	if opts.Parallel < 1 {
		opts.Parallel = 1
	}
	if opts.StatementBytes <= 0 {
		opts.StatementBytes = 1 << 20
	}
	if opts.LockWait <= 0 {
		opts.LockWait = 10 * time.Second
	}
	db, err := openDB(dsn, readParams, nil)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if res.Server, err = identify(ctx, db); err != nil {
		return nil, fmt.Errorf("dump: connect: %w", err)
	}
	snap, err := takeSnapshot(ctx, db, opts.Parallel, opts.LockWait, res.Server)
	if err != nil {
		return nil, fmt.Errorf("dump: snapshot: %w", err)
	}
	defer snap.release()
	res.SnapshotTime, res.BinlogFile, res.BinlogPos, res.GTID = snap.time, snap.file, snap.pos, snap.gtid
	res.PositionExact, res.Consistency, res.Notes = snap.exact, snap.consistency, snap.notes
	res.Parallel, res.LockHeld = len(snap.conns), snap.lockHeld

	c0 := snap.conns[0]
	dbs := opts.Databases
	if len(dbs) == 0 {
		if dbs, err = listDatabases(ctx, c0); err != nil {
			return nil, fmt.Errorf("dump: list databases: %w", err)
		}
	}
	res.Databases = dbs

	out := engine.NewOutput(w)
	d := &dumper{ctx: ctx, opts: opts, snap: snap, out: out, res: res}
	d.header()
	for _, name := range dbs {
		if err := d.database(name); err != nil {
			return nil, fmt.Errorf("dump: database %s: %w", quoteIdent(name), err)
		}
	}
	d.footer()
	if err := out.Flush(); err != nil {
		return nil, fmt.Errorf("dump: write: %w", err)
	}
	res.Bytes = out.Bytes()
	res.Finished = time.Now().UTC()
	return res, nil
}

type dumper struct {
	ctx  context.Context
	opts Options
	snap *snapshot
	out  *engine.Output
	res  *Result
}

func (d *dumper) header() {
	r := d.res
	pos := "none"
	if r.BinlogFile != "" {
		pos = fmt.Sprintf("%s:%d", r.BinlogFile, r.BinlogPos)
		if r.GTID != "" {
			pos += " gtid " + r.GTID
		}
	}
	d.out.Printf("-- atrest dump, format atrest-sql/1, digests %s\n", DigestAlgorithm)
	d.out.Printf("-- Server version %s, host %s:%d\n", oneLine(r.Server.Version), oneLine(r.Server.Host), r.Server.Port)
	d.out.Printf("-- Snapshot %s, binlog position %s\n", r.SnapshotTime.Format(time.RFC3339Nano), oneLine(pos))
	d.out.Printf("-- Load with `mariadb < FILE`: databases keep their names.\n\n")
	d.out.Printf("SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT, @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS, @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION;\n")
	d.out.Printf("SET NAMES utf8mb4;\n")
	d.out.Printf("SET @OLD_TIME_ZONE=@@TIME_ZONE, TIME_ZONE='+00:00';\n")
	d.out.Printf("SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0;\n")
	d.out.Printf("SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0;\n")
	d.out.Printf("SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='%s';\n", dumpSQLMode)
	d.out.Printf("SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0;\n")
}

func (d *dumper) footer() {
	d.out.Printf("\nSET SQL_MODE=@OLD_SQL_MODE;\n")
	d.out.Printf("SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS;\n")
	d.out.Printf("SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS;\n")
	d.out.Printf("SET TIME_ZONE=@OLD_TIME_ZONE;\n")
	d.out.Printf("SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT, CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS, COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION;\n")
	d.out.Printf("SET SQL_NOTES=@OLD_SQL_NOTES;\n\n")
	// The trailer mysqldump writes; checks of third-party dumps look for it,
	// and Load reports whether it was the last thing in the stream.
	d.out.Printf("-- Dump completed on %s\n", time.Now().UTC().Format("2006-01-02 15:04:05"))
}

func (d *dumper) database(name string) error {
	ctx, c0 := d.ctx, d.snap.conns[0]
	info, err := readSchema(ctx, c0, name)
	if err != nil {
		return err
	}
	// SHOW CREATE leaves out the database name only for objects in the
	// current database.
	if _, err := c0.ExecContext(ctx, "USE "+quoteIdent(name)); err != nil {
		return err
	}
	o := d.out
	o.Printf("\n--\n-- Database %s\n--\n\n", oneLine(quoteIdent(name)))
	o.Printf("CREATE DATABASE IF NOT EXISTS %s /*!40100 DEFAULT CHARACTER SET %s COLLATE %s */;\n", quoteIdent(name), info.charset, info.collation)
	o.Printf("USE %s;\n", quoteIdent(name))

	for _, t := range info.tables {
		if t.ddl, _, err = showCreate(ctx, c0, "TABLE", t.name, "Create Table"); err != nil {
			return err
		}
		o.Printf("\n-- Table %s\nDROP TABLE IF EXISTS %s;\n%s;\n", oneLine(quoteIdent(t.name)), quoteIdent(t.name), t.ddl)
		if t.kind != "SEQUENCE" {
			d.res.Keys = append(d.res.Keys, tableKeys(name, t.name, t.ddl)...)
		}
	}
	if len(info.tables) > 0 {
		o.Printf("\n-- Data\n")
	}
	results, err := dumpData(ctx, d.snap.conns, info.tables, o, d.opts.StatementBytes)
	if err != nil {
		return err
	}
	d.res.Tables = append(d.res.Tables, results...)

	views, err := readViews(ctx, c0, info.views)
	if err != nil {
		return err
	}
	for _, v := range views {
		o.Printf("\n-- View %s\nDROP TABLE IF EXISTS %s;\nDROP VIEW IF EXISTS %s;\n%s;\n",
			oneLine(quoteIdent(v.name)), quoteIdent(v.name), quoteIdent(v.name), v.stmt)
		d.res.Views = append(d.res.Views, newObject(name, engine.ObjView, v.name, v.stmt, v.definer))
	}
	// Triggers come after the rows, so loading fires none of them.
	triggers, err := readTriggers(ctx, c0, name)
	if err != nil {
		return err
	}
	for _, t := range triggers {
		o.Printf("\n-- Trigger %s\n", oneLine(quoteIdent(t.name)))
		d.compound(t.sqlMode, t.stmt)
		d.res.Triggers = append(d.res.Triggers, newObject(name, engine.ObjTrigger, t.name, t.stmt, t.definer))
	}
	routines, err := readRoutines(ctx, c0, name)
	if err != nil {
		return err
	}
	for _, r := range routines {
		o.Printf("\n-- %s %s\nDROP %s IF EXISTS %s;\n", strings.ToLower(r.kind), oneLine(quoteIdent(r.name)), r.kind, quoteIdent(r.name))
		d.compound(r.sqlMode, r.stmt)
		d.res.Routines = append(d.res.Routines, newObject(name, r.kind, r.name, r.stmt, r.definer))
	}
	// Events as mariadb-dump --events writes them: as dumped (an ENABLEd
	// event is ENABLEd again by `mariadb < FILE`), under the time zone
	// and sql_mode they were created with (their STARTS and ENDS are in
	// that zone).
	events, note, err := readEvents(ctx, c0, name)
	if err != nil {
		return err
	}
	if note != "" {
		d.res.Notes = append(d.res.Notes, note)
	}
	for _, e := range events {
		o.Printf("\n-- event %s\nDROP EVENT IF EXISTS %s;\nSET SESSION TIME_ZONE=%s;\n", oneLine(quoteIdent(e.name)), quoteIdent(e.name), quoteString(e.timeZone))
		d.compound(e.sqlMode, e.stmt)
		o.Printf("SET SESSION TIME_ZONE='+00:00';\n")
		d.res.Events = append(d.res.Events, newObject(name, engine.ObjEvent, e.name, e.stmt, e.definer))
	}
	return o.Err()
}

// compound writes a statement whose body may hold semicolons between
// DELIMITER lines, under the sql_mode it was created with.
func (d *dumper) compound(sqlMode, stmt string) {
	delim := ";;"
	for _, c := range []string{";;", "$$", "//", "@@@@", "%%%%"} {
		// Not in the text, and not completed by its last byte.
		if !strings.Contains(stmt, c) && !strings.HasSuffix(stmt, c[:1]) {
			delim = c
			break
		}
	}
	d.out.Printf("SET SESSION SQL_MODE=%s;\nDELIMITER %s\n%s%s\nDELIMITER ;\nSET SESSION SQL_MODE='%s';\n",
		quoteString(sqlMode), delim, stmt, delim, dumpSQLMode)
}

// oneLine keeps a name from ending a -- comment early.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
