package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/internal/iox"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// Parallel is the number of connections that run INSERT statements
	// (default 1). Statements other than INSERT run in input order on one
	// more connection, after the inserts before them have finished.
	Parallel int
	// Rename maps each database named in the dump (CREATE DATABASE, USE,
	// qualified INSERT) to the one to load into. Without it every database
	// goes to Load's database argument, and a dump of several databases is
	// refused.
	Rename func(source string) string
	// StripDefiners drops DEFINER= clauses, so views, triggers and routines
	// belong to the loading user (naming another definer needs SET USER).
	// Either way the accounts named are listed in LoadResult.Definers.
	StripDefiners bool
	// DisableEvents creates events DISABLEd, whatever the dump says: an
	// event that ran in a drill's scratch database would change the data
	// being verified.
	DisableEvents bool
	// MaxStatementBytes bounds one statement, and so memory (default 256 MiB).
	MaxStatementBytes int
	// SourceDatabases are names the dump may use to qualify its objects
	// (db.table) without a CREATE DATABASE or USE that Load would see: a
	// mysqldump of one database without --databases. Qualifiers naming
	// them, or a database the dump created or used, are rewritten to the
	// target in everything but INSERT data.
	SourceDatabases []string
	// DeferIndexes creates InnoDB tables without their secondary keys and
	// adds the keys back, one ALTER TABLE per table, once the table's rows
	// are in: building an index from sorted keys is much less work for the
	// server than keeping it up to date row by row. SHOW CREATE TABLE
	// comes out the same. The rules are in deferkeys.go.
	DeferIndexes bool
	// Tables, if set, loads a subset (engine.LoadOptions.Tables): only the
	// statements of the tables it says yes to, by source database and
	// name, and no views, triggers, routines or events.
	Tables func(database, table string) bool
}

// What Load returns is the engine's, shared with every family.
type (
	LoadedTable = engine.LoadedTable
	LoadResult  = engine.LoadResult
)

// Load executes a dump (Dump's, or mysqldump's for one or more databases)
// into database on the server at dsn, creating it if needed. CREATE
// DATABASE, ALTER DATABASE and USE statements are rewritten to name the
// target (or opts.Rename's choice); statements that would change anything
// beyond the loaded databases' objects (DROP DATABASE, users and grants,
// replication, SET GLOBAL, LOCK TABLES) are skipped and counted. With
// database "" and no Rename, names are kept: the same as `mariadb < file`.
//
// Statements are read and run one at a time, so memory stays bounded by a
// few statements whatever the size of the dump. A failed statement ends the
// load with a *LoadError.
func Load(ctx context.Context, dsn, database string, r io.Reader, opts LoadOptions) (*LoadResult, error) {
	start := time.Now()
	if opts.Parallel < 1 {
		opts.Parallel = 1
	}
	if opts.MaxStatementBytes <= 0 {
		opts.MaxStatementBytes = 256 << 20
	}
	db, err := openDB(dsn, nil, forLoad)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	main, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("load: connect: %w", err)
	}
	defer main.Close()

	cr := &iox.CountingReader{R: r}
	l := &loader{
		ctx: ctx, FirstError: engine.FirstError{Cancel: cancel}, db: db, main: main, opts: opts, target: database,
		res:    &LoadResult{Skipped: map[string]int{}},
		tables: map[[2]string]*loadedTable{},
		// A statement for each worker, one the main connection reads into
		// while they run, one spare.
		free: make(chan []byte, opts.Parallel+2),
	}
	for range cap(l.free) {
		l.free <- nil
	}
	for _, src := range opts.SourceDatabases {
		if _, err := l.targetFor(src); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
	}
	if len(opts.SourceDatabases) == 1 {
		l.curSrc = opts.SourceDatabases[0]
	}
	if database != "" {
		l.curDB = database
		if _, err := main.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(database)); err != nil {
			return nil, fmt.Errorf("load: create database %s: %w", quoteIdent(database), redactErr(err))
		}
		if err := l.session("USE " + quoteIdent(database)); err != nil {
			return nil, err
		}
		l.addDB(database)
	}
	err = l.run(newSplitter(cr, opts.MaxStatementBytes))
	l.stopWorkers()
	if err == nil {
		err = l.Err()
	}
	return l.result(cr.N, time.Since(start)), err
}

func (l *loader) result(read int64, took time.Duration) *LoadResult {
	res := l.res
	res.Bytes, res.Duration = read, took
	if l.stripped > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("DEFINER= clauses removed from %d objects: they belong to the loading user", l.stripped))
	}
	if l.disabled > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d events created DISABLEd, so that none runs here; `mariadb < FILE` creates them as dumped", l.disabled))
	}
	for _, t := range l.order {
		if t.dropped {
			continue
		}
		lt := LoadedTable{Database: t.db, Name: t.name, Rows: t.rows.Load()}
		res.Tables = append(res.Tables, lt)
		res.Rows += lt.Rows
	}
	return res
}

type loadedTable struct {
	db, name string
	rows     atomic.Int64
	dropped  bool // by a later DROP TABLE (mysqldump's stand-ins for views)
}

type job struct {
	stmt    []byte
	num     int64
	line    int
	verb    string
	table   *loadedTable
	version int // session statements to replay before this one
	// keys: the job is the ALTER TABLE that adds these deferred keys back
	// (no rows to count), not an INSERT.
	keys *deferredKeys
}

type loader struct {
	ctx    context.Context
	db     *sql.DB
	main   *sql.Conn
	opts   LoadOptions
	target string
	res    *LoadResult

	curDB   string            // database of the main connection
	curSrc  string            // the dump's name for it (before Rename)
	renames map[string]string // source database → target
	tables  map[[2]string]*loadedTable
	order   []*loadedTable

	// Objects whose DEFINER= was stripped, events created disabled.
	stripped, disabled int

	// With DeferIndexes: the keys waiting for their tables' rows, and
	// whether a foreign key ended deferring for the rest of the load.
	deferred     []*deferredKeys
	deferStopped bool

	// Session statements (SET, USE) in input order; a worker replays those
	// before a job's version on its own connection before running it.
	sessMu sync.Mutex
	sess   []string

	jobs     chan job
	inflight sync.WaitGroup
	workers  sync.WaitGroup
	free     chan []byte // statement buffers: bounds memory to cap(free) statements

	engine.FirstError // the first failure, which cancels the load
}

func (l *loader) run(sp *splitter) error {
	var num int64
	for {
		buf := <-l.free
		stmt, line, err := sp.next(buf)
		if err == io.EOF {
			l.res.Complete = sp.complete
			if err := l.addDeferredKeys(); err != nil {
				l.Fail(err)
				return l.Err()
			}
			return nil
		}
		num++
		if err != nil {
			l.Fail(newLoadError(num, line, "", "", err))
			return l.Err()
		}
		if err := l.Err(); err != nil {
			return err
		}
		if err := l.statement(stmt, num, line); err != nil {
			l.Fail(err)
			return l.Err() // the first failure, maybe a worker's
		}
	}
}

// statement runs one statement; it returns stmt's buffer to the free list
// unless a worker took it.
func (l *loader) statement(stmt []byte, num int64, line int) error {
	info := classify(stmt)
	if info.kind == stmtSkip {
		l.res.Skipped[info.verb]++
		l.free <- stmt
		return nil
	}
	if l.opts.Tables != nil && l.leftOut(info) {
		l.res.Skipped[engine.SubsetSkip+info.verb]++
		l.free <- stmt
		return nil
	}
	text, t, err := l.prepare(stmt, &info)
	lerr := func(err error) error {
		e := newLoadError(num, line, info.verb, tableName(t), err)
		if info.object != "" {
			e.Object = quoteIdent(l.sourceDB(cmp.Or(info.objectDB, l.curDB))) + "." + quoteIdent(info.object)
		}
		return e
	}
	if err != nil {
		return lerr(err)
	}
	switch info.kind {
	case stmtInsert:
		if l.insertNeedsKeys(info, t) {
			if err := l.addDeferredKeys(); err != nil {
				return err
			}
		}
		if l.opts.Parallel > 1 {
			return l.dispatch(job{stmt: text, num: num, line: line, verb: info.verb, table: t})
		}
		l.res.Statements++
		n, err := execRetry(l.ctx, l.main, text)
		l.free <- stmt
		if err != nil {
			return lerr(err)
		}
		if t != nil {
			t.rows.Add(n)
		}
		return nil
	case stmtSession:
		l.res.Statements++
		err := l.session(string(text))
		l.free <- stmt
		if err != nil {
			return lerr(err)
		}
		return nil
	}
	// Anything else may depend on the rows inserted so far (a trigger
	// must not fire on them, an ALTER needs them in): wait for them.
	l.inflight.Wait()
	if err := l.Err(); err != nil {
		return err
	}
	if text, err = l.deferKeys(text, info, t, num, line); err != nil {
		return err
	}
	l.res.Statements++
	_, err = l.main.ExecContext(l.ctx, string(text))
	l.free <- stmt
	if err != nil {
		return lerr(err)
	}
	return nil
}

// prepare rewrites database names to the targets and keeps the books on
// databases and tables; it returns the text to run and the statement's
// table, if it is one the load reports.
func (l *loader) prepare(stmt []byte, info *stmtInfo) ([]byte, *loadedTable, error) {
	text := stmt
	if info.hasDB {
		to, err := l.targetFor(info.db)
		if err != nil {
			return nil, nil, err
		}
		text = rewriteDB(stmt, *info, to)
		switch info.verb {
		case "USE":
			l.curDB = to
			l.addDB(to)
		case "CREATE DATABASE":
			l.addDB(to)
		}
		info.db = to
	}
	if info.kind == stmtOther {
		text = rewriteQualifiers(text, l.renames)
		if strings.HasPrefix(info.verb, "CREATE ") {
			if acct, ok := definerOf(text); ok {
				l.res.Definers = engine.AddDefiner(l.res.Definers, acct, l.objectLabel(*info))
				if l.opts.StripDefiners {
					text = stripDefiner(text)
					l.stripped++
				}
			}
			if l.opts.DisableEvents && info.verb == "CREATE EVENT" {
				text = eventStatus(text, []byte("DISABLE"))
				l.disabled++
			}
		}
	}
	if info.table == "" {
		return text, nil, nil
	}
	key := l.tableKey(*info)
	switch {
	case info.kind == stmtInsert || info.verb == "CREATE TABLE":
		t := l.table(key[0], key[1])
		t.dropped = false
		return text, t, nil
	case info.verb == "DROP TABLE":
		if t := l.tables[key]; t != nil {
			t.dropped = true
		}
	}
	return text, nil, nil
}

// leftOut reports whether a subset load skips the statement: one naming a
// table the subset leaves out, or one creating an object that may refer to
// such a table (a view, a trigger, a routine, an event). A USE is followed
// so that unqualified names are judged in the dump's current database.
func (l *loader) leftOut(info stmtInfo) bool {
	switch info.verb {
	case "USE":
		if info.hasDB {
			l.curSrc = info.db
		}
		return false
	case "CREATE TABLE", "CREATE DATABASE":
	default:
		// Any other CREATE is a view, trigger, routine, event, sequence or
		// index (classify may not reach the object's word past a long
		// DEFINER=… ALGORITHM=… preamble, so the verb is not relied on).
		if strings.HasPrefix(info.verb, "CREATE") {
			return true
		}
	}
	if info.table == "" {
		return false
	}
	db := l.curSrc
	if info.hasDB {
		db = info.db
	}
	return !l.opts.Tables(db, info.table)
}

// dispatch hands an INSERT to the workers. The job's buffer goes back to
// the free list when it is done; a rewritten statement's original buffer is
// dropped instead, so the number of buffers stays fixed.
func (l *loader) dispatch(j job) error {
	l.startWorkers()
	l.sessMu.Lock()
	j.version = len(l.sess)
	l.sessMu.Unlock()
	l.res.Statements++
	l.inflight.Add(1)
	select {
	case l.jobs <- j:
		return nil
	case <-l.ctx.Done():
		l.inflight.Done()
		return l.Err()
	}
}

// tableKey is the database and name of the table a prepared statement
// names.
func (l *loader) tableKey(info stmtInfo) [2]string {
	if info.hasDB {
		return [2]string{info.db, info.table}
	}
	return [2]string{l.curDB, info.table}
}

// tableOf is the table a prepared statement names, if the load has seen
// it.
func (l *loader) tableOf(info stmtInfo) *loadedTable {
	return l.tables[l.tableKey(info)]
}

// sourceDB is the database of the dump that the load put into db.
func (l *loader) sourceDB(db string) string {
	for src, to := range l.renames {
		if to == db {
			return src
		}
	}
	return db
}

// objectLabel names the object a CREATE makes, kind first, in its source
// database ("view yb.v_x"); "" for a statement that makes none.
func (l *loader) objectLabel(info stmtInfo) string {
	if info.object == "" {
		return ""
	}
	db := info.objectDB
	if db == "" {
		db = l.curDB
	}
	return objectLabel(strings.TrimPrefix(info.verb, "CREATE "), l.sourceDB(db), info.object)
}

func tableName(t *loadedTable) string {
	if t == nil {
		return ""
	}
	return quoteIdent(t.db) + "." + quoteIdent(t.name)
}

// session runs a session statement on the main connection and records it
// for the workers.
func (l *loader) session(text string) error {
	if _, err := l.main.ExecContext(l.ctx, text); err != nil {
		return err
	}
	if l.opts.Parallel > 1 {
		l.sessMu.Lock()
		l.sess = append(l.sess, text)
		l.sessMu.Unlock()
	}
	return nil
}

func (l *loader) targetFor(src string) (string, error) {
	if to, ok := l.renames[src]; ok {
		return to, nil
	}
	to := src
	switch {
	case l.opts.Rename != nil:
		to = l.opts.Rename(src)
	case l.target == "":
		return src, nil
	case len(l.renames) > 0:
		return "", fmt.Errorf("the dump holds more than one database (%s is another); set LoadOptions.Rename", quoteIdent(src))
	default:
		to = l.target
	}
	if l.renames == nil {
		l.renames = map[string]string{}
	}
	l.renames[src] = to
	return to, nil
}

func (l *loader) addDB(name string) {
	for _, d := range l.res.Databases {
		if d == name {
			return
		}
	}
	l.res.Databases = append(l.res.Databases, name)
}

func (l *loader) table(db, name string) *loadedTable {
	k := [2]string{db, name}
	t := l.tables[k]
	if t == nil {
		t = &loadedTable{db: db, name: name}
		l.tables[k] = t
		l.order = append(l.order, t)
	}
	return t
}
