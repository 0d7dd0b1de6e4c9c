package postgres

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atrest/atrest/engine"
)

// copyBlockBytes is the COPY data a load keeps in memory to run it on
// another connection; a longer COPY (pg_dump writes one a table) streams
// on the main connection instead.
const copyBlockBytes = 4 << 20

// maxStatementBytes bounds one statement, and so memory.
const maxStatementBytes = 256 << 20

// Load executes a psql script (atrest's dump, pg_dump's plain format)
// into the database dsn names, as psql would, with these differences: COPY
// blocks run on opts.Parallel connections at once (everything else in
// input order, after the blocks before it); and statements that would
// reach beyond the database's own objects are skipped and counted —
// roles, grants and owners (the objects belong to the loading user),
// other databases, \connect, tablespaces, subscriptions, and COPY to or
// from a file or a program. A failed statement ends the load with a
// *engine.LoadError.
func Load(ctx context.Context, dsn string, r io.Reader, opts engine.LoadOptions) (*engine.LoadResult, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("load: %w", invalidDSN(err))
	}
	return load(ctx, cfg, r, opts)
}

// loadParams are the load's sessions' settings: a restored copy is checked
// and thrown away, so a commit need not wait for the WAL to reach the disk,
// and indexes are built with more memory than the default 64 MB.
var loadParams = map[string]string{"synchronous_commit": "off", "maintenance_work_mem": "128MB"}

func load(ctx context.Context, cfg *pgx.ConnConfig, r io.Reader, opts engine.LoadOptions) (*engine.LoadResult, error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	main, err := connectConfig(ctx, cfg, loadParams)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer main.Close(context.WithoutCancel(ctx))
	l := &loader{ctx: ctx, FirstError: engine.FirstError{Cancel: cancel}, cfg: cfg, main: main.PgConn(), parallel: max(1, opts.Parallel),
		res: &engine.LoadResult{Skipped: map[string]int{}}, tables: map[[2]string]*loadedTable{}}
	sc := newScript(r, maxStatementBytes)
	err = l.run(sc)
	l.stopWorkers()
	if err == nil {
		err = l.Err()
	}
	if err == nil {
		l.res.Complete = sc.complete()
	}
	l.res.Bytes = sc.read()
	l.res.Duration = time.Since(start)
	for _, t := range l.order {
		lt := engine.LoadedTable{Database: t.schema, Name: t.name, Rows: t.rows.Load()}
		l.res.Tables = append(l.res.Tables, lt)
		l.res.Rows += lt.Rows
	}
	return l.res, err
}

type loadedTable struct {
	schema, name string
	rows         atomic.Int64
}

type loader struct {
	ctx      context.Context
	cfg      *pgx.ConnConfig
	main     *pgconn.PgConn
	parallel int
	res      *engine.LoadResult
	tables   map[[2]string]*loadedTable
	order    []*loadedTable

	// Session statements (SET …) in input order; a worker replays those
	// before a job's version on its own connection.
	sessMu sync.Mutex
	sess   []string

	jobs     chan copyJob
	inflight sync.WaitGroup
	workers  sync.WaitGroup

	engine.FirstError // the first failure, which cancels the load
}

// copyJob is a COPY block for a worker.
type copyJob struct {
	stmt    string
	data    []byte
	num     int64
	line    int
	table   *loadedTable
	version int
}

func (l *loader) run(sc *script) error {
	var num int64
	for {
		it, err := sc.next()
		if err == io.EOF {
			return nil
		}
		num++
		if err != nil {
			return l.stop(newLoadError(num, sc.line, "", "", err))
		}
		if err := l.Err(); err != nil {
			return err
		}
		if err := l.item(sc, it, num); err != nil {
			return l.stop(err)
		}
	}
}

// stop records err unless a worker failed first, and returns the first
// failure.
func (l *loader) stop(err error) error {
	l.Fail(err)
	return l.Err()
}

// item runs one statement, backslash command or COPY.
func (l *loader) item(sc *script, it item, num int64) error {
	text := string(it.text)
	verb, skip := classify(it)
	lerr := func(t *loadedTable, err error) error {
		return newLoadError(num, it.line, verb, tableName(t), err)
	}
	if skip {
		l.res.Skipped[verb]++
		if role, obj := roleOf(verb, it.text); role != "" {
			l.res.Definers = engine.AddDefiner(l.res.Definers, role, obj)
		}
		if it.kind == itemCopy {
			return sc.copyData().drain()
		}
		return nil
	}
	switch {
	case it.kind == itemCopy:
		t, err := l.copyTable(it.text)
		if err != nil {
			return lerr(nil, err)
		}
		return l.copy(sc, text, num, it.line, t)
	case verb == "SET":
		l.res.Statements++
		if err := l.session(text); err != nil {
			return lerr(nil, err)
		}
		return nil
	}
	// Anything else may depend on the rows copied so far (an index, a
	// constraint, a trigger that must not fire on them): wait for them.
	l.inflight.Wait()
	if err := l.Err(); err != nil {
		return err
	}
	l.res.Statements++
	if err := execSQL(l.ctx, l.main, text); err != nil {
		return lerr(nil, err)
	}
	if verb == "CREATE SCHEMA" {
		if parts, _, _ := qualifiedName(schemaName(text)); len(parts) == 1 {
			l.res.Databases = append(l.res.Databases, parts[0])
		}
	}
	return nil
}

// copy reads a COPY's data: a block that fits in memory goes to a worker;
// a longer one streams on the main connection.
func (l *loader) copy(sc *script, stmt string, num int64, line int, t *loadedTable) error {
	d := sc.copyData()
	buf := make([]byte, 0, 64<<10)
	for len(buf) < copyBlockBytes {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := d.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			l.res.Statements++
			if l.parallel == 1 {
				return l.copyOn(l.main, stmt, bytes.NewReader(buf), num, line, t)
			}
			return l.dispatch(copyJob{stmt: stmt, data: buf, num: num, line: line, table: t})
		}
		if err != nil {
			return newLoadError(num, line, "COPY", tableName(t), err)
		}
	}
	l.res.Statements++
	err := l.copyOn(l.main, stmt, io.MultiReader(bytes.NewReader(buf), d), num, line, t)
	if err != nil {
		d.drain()
	}
	return err
}

func (l *loader) copyOn(c *pgconn.PgConn, stmt string, r io.Reader, num int64, line int, t *loadedTable) error {
	tag, err := c.CopyFrom(l.ctx, r, stmt)
	if err != nil {
		return newLoadError(num, line, "COPY", tableName(t), err)
	}
	t.rows.Add(tag.RowsAffected())
	return nil
}

func (l *loader) dispatch(j copyJob) error {
	l.startWorkers()
	l.sessMu.Lock()
	j.version = len(l.sess)
	l.sessMu.Unlock()
	l.inflight.Add(1)
	select {
	case l.jobs <- j:
		return nil
	case <-l.ctx.Done():
		l.inflight.Done()
		return l.Err()
	}
}

func (l *loader) startWorkers() {
	if l.jobs != nil {
		return
	}
	l.jobs = make(chan copyJob)
	for range l.parallel {
		l.workers.Add(1)
		go l.worker()
	}
}

func (l *loader) stopWorkers() {
	if l.jobs == nil {
		return
	}
	close(l.jobs)
	l.workers.Wait()
}

func (l *loader) worker() {
	defer l.workers.Done()
	c, err := connectConfig(l.ctx, l.cfg, loadParams)
	if err != nil {
		l.Fail(fmt.Errorf("load: %w", err))
	} else {
		defer c.Close(context.Background())
	}
	applied := 0
	for j := range l.jobs {
		if l.Err() == nil {
			l.runJob(c.PgConn(), j, &applied)
		}
		l.inflight.Done()
	}
}

func (l *loader) runJob(c *pgconn.PgConn, j copyJob, applied *int) {
	if *applied < j.version {
		l.sessMu.Lock()
		todo := l.sess[*applied:j.version]
		l.sessMu.Unlock()
		for _, s := range todo {
			if err := execSQL(l.ctx, c, s); err != nil {
				l.Fail(newLoadError(j.num, j.line, "SET", "", err))
				return
			}
		}
		*applied = j.version
	}
	if err := l.copyOn(c, j.stmt, bytes.NewReader(j.data), j.num, j.line, j.table); err != nil {
		l.Fail(err)
	}
}

// session runs a session statement on the main connection and records it
// for the workers.
func (l *loader) session(text string) error {
	if err := execSQL(l.ctx, l.main, text); err != nil {
		return err
	}
	l.sessMu.Lock()
	l.sess = append(l.sess, text)
	l.sessMu.Unlock()
	return nil
}

func (l *loader) copyTable(stmt []byte) (*loadedTable, error) {
	schema, name, err := copyTarget(stmt)
	if err != nil {
		return nil, err
	}
	k := [2]string{schema, name}
	t := l.tables[k]
	if t == nil {
		t = &loadedTable{schema: schema, name: name}
		l.tables[k] = t
		l.order = append(l.order, t)
	}
	return t, nil
}

func tableName(t *loadedTable) string {
	if t == nil {
		return ""
	}
	if t.schema == "" {
		return quoteIdent(t.name)
	}
	return qualified(t.schema, t.name)
}

// execSQL runs one statement over the simple query protocol.
func execSQL(ctx context.Context, c *pgconn.PgConn, sql string) error {
	_, err := c.Exec(ctx, sql).ReadAll()
	return err
}

// classify names an item by its verb and says whether the load skips it.
func classify(it item) (verb string, skip bool) {
	if it.kind == itemMeta {
		f := strings.Fields(string(it.text))
		return f[0], true // \connect, \restrict … never run: the load stays in its database
	}
	w := words(it.text, 4)
	for len(w) < 4 {
		w = append(w, "")
	}
	verb = w[0]
	switch w[0] {
	case "COPY":
		return "COPY", it.kind != itemCopy // to or from a file or a program
	case "SET":
		switch {
		case w[1] == "ROLE", w[1] == "SESSION" && w[2] == "AUTHORIZATION":
			return "SET ROLE", true
		}
		return "SET", false
	case "RESET":
		return "RESET", true
	case "SELECT":
		if bytes.HasPrefix(bytes.ToLower(bytes.Join(bytes.Fields(it.text), nil)), []byte("selectpg_catalog.set_config(")) {
			return "SET", false
		}
		return "SELECT", false
	case "GRANT", "REVOKE", "SECURITY", "LOAD":
		return w[0], true
	case "CREATE", "ALTER", "DROP", "COMMENT":
		obj := w[1]
		if obj == "DEFAULT" || obj == "UNIQUE" || obj == "OR" {
			obj = w[1] + " " + w[2]
		}
		verb = w[0] + " " + obj
		switch w[1] {
		case "ROLE", "USER", "GROUP", "DATABASE", "TABLESPACE", "SUBSCRIPTION", "SYSTEM", "SERVER":
			return verb, true
		case "DEFAULT":
			return verb, w[2] == "PRIVILEGES"
		}
		if w[0] == "ALTER" && ownerTo(it.text) {
			return "ALTER … OWNER TO", true
		}
	}
	return verb, false
}

// ownerTo: an ALTER … OWNER TO statement.
func ownerTo(stmt []byte) bool {
	f := bytes.Fields(bytes.ToUpper(stmt))
	return len(f) >= 3 && string(f[len(f)-3]) == "OWNER" && string(f[len(f)-2]) == "TO"
}

// roleOf reads the role a skipped ALTER … OWNER TO gives an object to, or
// that SET ROLE or SET SESSION AUTHORIZATION switches to, and names the
// object ("table public.t"; "session" for the SETs): a restore that keeps
// owners fails there when the role is missing.
func roleOf(verb string, stmt []byte) (role, object string) {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(string(stmt)), ";"))
	if len(f) < 3 {
		return "", ""
	}
	r := unquoteRole(f[len(f)-1])
	switch verb {
	case "ALTER … OWNER TO":
		// The object's kind in lower case (TABLE, MATERIALIZED VIEW …),
		// then its name as written.
		w := f[1 : len(f)-3]
		for i := 0; i < len(w)-1 && strings.ToUpper(w[i]) == w[i] && !strings.ContainsAny(w[i], `."(`); i++ {
			w[i] = strings.ToLower(w[i])
		}
		return r, strings.Join(w, " ")
	case "SET ROLE":
		if strings.EqualFold(r, "DEFAULT") || strings.EqualFold(r, "NONE") {
			return "", ""
		}
		return r, "session"
	}
	return "", ""
}

// unquoteRole unquotes a role written as an identifier or a string.
func unquoteRole(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		q := s[:1]
		return strings.ReplaceAll(s[1:len(s)-1], q+q, q)
	}
	return strings.ToLower(s)
}

// schemaName is what follows CREATE SCHEMA [IF NOT EXISTS].
func schemaName(stmt string) string {
	f := strings.Fields(stmt)
	i := 2
	if len(f) > 5 && strings.EqualFold(f[2], "IF") {
		i = 5
	}
	if i >= len(f) {
		return ""
	}
	return f[i]
}

// newLoadError names a failed statement; the server's message keeps no
// value it quotes.
func newLoadError(num int64, line int, verb, table string, err error) *engine.LoadError {
	e := &engine.LoadError{Statement: num, Line: line, Verb: verb, Table: table, Err: redactErr(err)}
	if pe := pgError(err); pe != nil {
		e.Refused = refused(err)
	}
	return e
}

// redactErr returns a server error as its severity, message and code,
// without the detail, context or quoted values that may copy row values
// ("invalid input syntax for type integer: \"…\"", "Key (id)=(…)").
func redactErr(err error) error {
	pe := pgError(err)
	if pe == nil {
		return err
	}
	cp := &pgconn.PgError{Severity: pe.Severity, Code: pe.Code, Message: redactMessage(pe.Message)}
	return cp
}

func redactMessage(m string) string {
	if i := strings.Index(m, `: "`); i >= 0 {
		return m[:i] + `: "…"`
	}
	return m
}
