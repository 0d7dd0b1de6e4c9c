package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/atrest/atrest/engine"
)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// systemDatabases are never dumped when no database is named.
var systemDatabases = map[string]bool{
	"mysql": true, "information_schema": true, "performance_schema": true, "sys": true,
}

// table is a table to dump.
type table struct {
	db, name string
	kind     string // BASE TABLE, SEQUENCE, SYSTEM VERSIONED
	size     int64  // DATA_LENGTH estimate, to start the big ones first
	cols     []column
	ddl      string
}

type schemaInfo struct {
	charset, collation string
	tables             []*table
	views              []string
}

// eachTable calls fn for every table, n at a time, biggest first (see
// engine.EachBySize).
func eachTable(ctx context.Context, tables []*table, n int, fn func(ctx context.Context, worker, i int) error) error {
	sizes := make([]int64, len(tables))
	for i, t := range tables {
		sizes[i] = t.size
	}
	return engine.EachBySize(ctx, sizes, n, fn)
}

func listDatabases(ctx context.Context, q querier) ([]string, error) {
	all, err := names(ctx, q, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME")
	var out []string
	for _, n := range all {
		if !systemDatabases[strings.ToLower(n)] {
			out = append(out, n)
		}
	}
	return out, err
}

// names runs a query of one column of names and returns them.
func names(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// readSchema lists the tables (with their stored columns) and views of db.
func readSchema(ctx context.Context, q querier, db string) (*schemaInfo, error) {
	s := &schemaInfo{}
	err := q.QueryRowContext(ctx, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db).
		Scan(&s.charset, &s.collation)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("database %s does not exist", quoteIdent(db))
	} else if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, "SELECT TABLE_NAME, TABLE_TYPE, COALESCE(DATA_LENGTH, 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME", db)
	if err != nil {
		return nil, err
	}
	byName := map[string]*table{}
	for rows.Next() {
		var name, kind string
		var size int64
		if err := rows.Scan(&name, &kind, &size); err != nil {
			rows.Close()
			return nil, err
		}
		if kind == "VIEW" {
			s.views = append(s.views, name)
			continue
		}
		t := &table{db: db, name: name, kind: kind, size: size}
		s.tables = append(s.tables, t)
		byName[name] = t
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	cols, err := storedColumns(ctx, q, db, "")
	if err != nil {
		return nil, err
	}
	for name, c := range cols {
		if t := byName[name]; t != nil {
			t.cols = c
		}
	}
	return s, nil
}

// storedColumns lists the columns that hold data (not generated ones) in
// ordinal order, of one table or (table "") of every table in db.
func storedColumns(ctx context.Context, q querier, db, table string) (map[string][]column, error) {
	query := "SELECT TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?"
	args := []any{db}
	if table != "" {
		query += " AND TABLE_NAME = ?"
		args = append(args, table)
	}
	query += " AND EXTRA NOT LIKE '%GENERATED%' ORDER BY TABLE_NAME, ORDINAL_POSITION"
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]column{}
	for rows.Next() {
		var t string
		var c column
		if err := rows.Scan(&t, &c.name, &c.dataType); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}

// showCreate runs SHOW CREATE <what> name and returns the column named col.
// The connection's current database must be the object's, so that names in
// the text are not qualified with it.
func showCreate(ctx context.Context, q querier, what, name, col string) (string, map[string]string, error) {
	rows, err := q.QueryContext(ctx, "SHOW CREATE "+what+" "+quoteIdent(name))
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return "", nil, err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("SHOW CREATE %s %s returned nothing", what, quoteIdent(name))
	}
	vals := make([]sql.NullString, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", nil, err
	}
	m := map[string]string{}
	for i, n := range names {
		m[n] = vals[i].String
		if n == col && !vals[i].Valid {
			return "", nil, fmt.Errorf("SHOW CREATE %s %s: definition not visible (the user needs more privileges)", what, quoteIdent(name))
		}
	}
	def, ok := m[col]
	if !ok {
		return "", nil, fmt.Errorf("SHOW CREATE %s %s: no %q column", what, quoteIdent(name), col)
	}
	return def, m, rows.Err()
}

// NormalizeDDL removes what changes without the table's definition changing
// (the AUTO_INCREMENT=n table option) from SHOW CREATE TABLE output.
func NormalizeDDL(ddl string) string {
	i := strings.LastIndex(ddl, "\n)")
	if i < 0 {
		i = 0
	}
	head, tail := ddl[:i], ddl[i:]
	const opt = " AUTO_INCREMENT="
	if j := strings.Index(tail, opt); j >= 0 {
		k := j + len(opt)
		for k < len(tail) && tail[k] >= '0' && tail[k] <= '9' {
			k++
		}
		tail = tail[:j] + tail[k:]
	}
	return head + tail
}

// DDLHash is the SHA-256 (hex) of NormalizeDDL(ddl).
func DDLHash(ddl string) string {
	h := sha256.Sum256([]byte(NormalizeDDL(ddl)))
	return hex.EncodeToString(h[:])
}

type trigger struct {
	name, stmt, sqlMode string
	definer             string // 'user'@'host'
}

// readTriggers rebuilds each trigger's CREATE statement from
// information_schema: SHOW CREATE TRIGGER returns the text as the user typed
// it, database-qualified names included, which would make a restore into
// another database create the trigger on the original table.
func readTriggers(ctx context.Context, q querier, db string) ([]trigger, error) {
	rows, err := q.QueryContext(ctx, `SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, EVENT_OBJECT_TABLE,
		ACTION_STATEMENT, DEFINER, SQL_MODE FROM information_schema.TRIGGERS
		WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER`, db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []trigger
	for rows.Next() {
		var name, timing, event, tbl, body, definer, mode string
		if err := rows.Scan(&name, &timing, &event, &tbl, &body, &definer, &mode); err != nil {
			return nil, err
		}
		stmt := "CREATE DEFINER=" + quoteDefiner(definer) + " TRIGGER " + quoteIdent(name) + " " +
			timing + " " + event + " ON " + quoteIdent(tbl) + " FOR EACH ROW " + body
		out = append(out, trigger{name: name, stmt: stmt, sqlMode: mode, definer: accountOf(definer)})
	}
	return out, rows.Err()
}

func quoteDefiner(d string) string {
	i := strings.LastIndexByte(d, '@')
	if i < 0 {
		return quoteIdent(d)
	}
	return quoteIdent(d[:i]) + "@" + quoteIdent(d[i+1:])
}

type routine struct {
	kind, name, stmt, sqlMode string
	definer                   string // 'user'@'host'
}

func readRoutines(ctx context.Context, q querier, db string) ([]routine, error) {
	rows, err := q.QueryContext(ctx, `SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE IN ('FUNCTION','PROCEDURE') ORDER BY ROUTINE_TYPE, ROUTINE_NAME`, db)
	if err != nil {
		return nil, err
	}
	var out []routine
	for rows.Next() {
		var r routine
		if err := rows.Scan(&r.kind, &r.name); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i := range out {
		r := &out[i]
		col := "Create Procedure"
		if r.kind == "FUNCTION" {
			col = "Create Function"
		}
		stmt, m, err := showCreate(ctx, q, r.kind, r.name, col)
		if err != nil {
			return nil, err
		}
		r.stmt, r.sqlMode, r.definer = stmt, m["sql_mode"], stmtDefiner(stmt)
	}
	return out, nil
}

type event struct {
	name, stmt, sqlMode, timeZone string
	definer                       string // 'user'@'host'
}

// readEvents reads the events of db (the connection's current database)
// with SHOW CREATE EVENT, as mariadb-dump --events does. information_schema
// hides the events of a database the user lacks the EVENT privilege on, as
// if there were none; SHOW EVENTS is refused instead, and then note says
// that they could not be read.
func readEvents(ctx context.Context, q querier, db string) (out []event, note string, err error) {
	rows, err := q.QueryContext(ctx, "SHOW EVENTS FROM "+quoteIdent(db))
	if isCode(err, 1044, 1227, 1142) {
		return nil, fmt.Sprintf("events of %s not read: the user lacks the EVENT privilege on it (%s)", quoteIdent(db), oneLineErr(redactErr(err))), nil
	}
	if err != nil {
		return nil, "", err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, "", err
	}
	var names []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return nil, "", err
		}
		for i, c := range cols {
			if c == "Name" {
				names = append(names, vals[i].String)
			}
		}
	}
	if err := rows.Close(); err != nil {
		return nil, "", err
	}
	sort.Strings(names)
	for _, n := range names {
		stmt, m, err := showCreate(ctx, q, "EVENT", n, "Create Event")
		if err != nil {
			return nil, "", err
		}
		out = append(out, event{name: n, stmt: stmt, sqlMode: m["sql_mode"], timeZone: m["time_zone"], definer: stmtDefiner(stmt)})
	}
	return out, "", nil
}

type view struct {
	name, stmt string
	definer    string // 'user'@'host'
}

// readViews returns the views of db (the connection's current database) in
// an order that creates a view after the views it reads from.
func readViews(ctx context.Context, q querier, names []string) ([]view, error) {
	vs := make([]view, 0, len(names))
	for _, n := range names {
		stmt, _, err := showCreate(ctx, q, "VIEW", n, "Create View")
		if err != nil {
			return nil, err
		}
		vs = append(vs, view{name: n, stmt: stmt, definer: stmtDefiner(stmt)})
	}
	return orderViews(vs), nil
}

// orderViews sorts views so that each comes after the views its text names
// (a textual test on the quoted name: a false dependency only reorders).
func orderViews(vs []view) []view {
	sort.Slice(vs, func(i, j int) bool { return vs[i].name < vs[j].name })
	deps := make([][]int, len(vs))
	for i, v := range vs {
		body := v.stmt
		if k := strings.Index(body, " AS "); k >= 0 {
			body = body[k:]
		}
		for j, w := range vs {
			if i != j && strings.Contains(body, quoteIdent(w.name)) {
				deps[i] = append(deps[i], j)
			}
		}
	}
	out := make([]view, 0, len(vs))
	state := make([]uint8, len(vs)) // 0 new, 1 visiting, 2 done
	var visit func(int)
	visit = func(i int) {
		if state[i] != 0 {
			return // done, or a cycle (which the server would refuse anyway)
		}
		state[i] = 1
		for _, j := range deps[i] {
			visit(j)
		}
		state[i] = 2
		out = append(out, vs[i])
	}
	for i := range vs {
		visit(i)
	}
	return out
}
