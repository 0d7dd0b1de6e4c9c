package filesrc

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"modernc.org/sqlite/vfs"

	_ "modernc.org/sqlite" // the pure-Go driver, "sqlite"

	"github.com/atrest/atrest/audit"
)

// A SQLite file (what desktop tools and hospital front-end programs keep)
// is read as a database, not as text: each table is a unit whose Table says
// how to sample it, and the scanner gives each column a verdict as scan db
// does. The file is opened read-only through a VFS over the bytes already
// open, so SQLite never writes a journal beside it, never opens a -wal file,
// and reads a member of an archive as well as a file on disk.

// SampleRows is how many rows of each table are read (as scan db's default).
const SampleRows = 1000

const sqliteValueCap = 4096 // bytes read of one value, as scan db caps them

// Table is a database table inside a file, for a Unit with Table set.
type Table struct {
	Name    string
	Columns []Column
	// Sample calls fn with each sampled row (one value per column, nil for
	// NULL, valid during the call) and returns how many rows it read.
	Sample func(fn func(row [][]byte)) (int, error)
}

// Column is a column of a Table.
type Column struct{ Name, Type string }

func (fc *fileCtx) sqlite(n node, ra io.ReaderAt, size int64) result {
	name, fsys, err := vfs.New(oneFileFS{ra: ra, size: size})
	if err != nil {
		return result{state: audit.StateError, format: "sqlite", notRead: notReadError, reason: "sqlite: " + err.Error()}
	}
	defer fsys.Close()
	db, err := sql.Open("sqlite", "file:db?mode=ro&immutable=1&vfs="+name)
	if err != nil {
		return result{state: audit.StateError, format: "sqlite", notRead: notReadError, reason: "sqlite: " + err.Error()}
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(fc.w.ctx, 5*time.Minute)
	defer cancel()
	tables, err := sqliteTables(ctx, db)
	if err != nil {
		reason := "sqlite: " + err.Error()
		if strings.Contains(err.Error(), "file is not a database") || strings.Contains(err.Error(), "encrypted") {
			return result{state: audit.StateEncrypted, format: "sqlite", reason: "sqlite database encrypted (SQLCipher or SEE): schema unreadable"}
		}
		return result{state: audit.StateError, format: "sqlite", notRead: notReadError, reason: reason}
	}
	m := fc.members("sqlite")
	for _, t := range tables {
		if ctx.Err() != nil {
			break
		}
		t := t
		t.Sample = func(fn func([][]byte)) (int, error) { return sqliteSample(ctx, db, t, fn) }
		member := joinMember(n.member, t.Name)
		found, err := fc.w.scan(Unit{Path: fc.path, Member: member, Format: "sqlite", Table: &t})
		res := result{state: audit.StateScanned, format: "sqlite", findings: found}
		if err != nil {
			res = result{state: audit.StateError, format: "sqlite", notRead: notReadError, findings: found, reason: "sqlite: " + err.Error()}
		}
		m.add(member, 0, res)
	}
	return m.result(nil)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func sqliteTables(ctx context.Context, db *sql.DB) ([]Table, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var tables []Table
	for _, name := range names {
		t := Table{Name: name}
		cols, err := db.QueryContext(ctx, `SELECT name, type FROM pragma_table_info(?)`, name)
		if err != nil {
			return nil, fmt.Errorf("columns of %s: %w", name, err)
		}
		for cols.Next() {
			var c Column
			if err := cols.Scan(&c.Name, &c.Type); err != nil {
				cols.Close()
				return nil, err
			}
			t.Columns = append(t.Columns, c)
		}
		cols.Close()
		if len(t.Columns) > 0 {
			tables = append(tables, t)
		}
	}
	return tables, nil
}

// sqliteSample reads the first SampleRows rows of a table, each value
// capped: a file's tables are small next to a server's, and reading the
// head needs no key.
func sqliteSample(ctx context.Context, db *sql.DB, t Table, fn func([][]byte)) (int, error) {
	exprs := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		q := quoteIdent(c.Name)
		exprs[i] = fmt.Sprintf("CASE WHEN typeof(%s) IN ('text','blob') THEN substr(%s, 1, %d) ELSE %s END", q, q, sqliteValueCap, q)
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s LIMIT %d", strings.Join(exprs, ", "), quoteIdent(t.Name), SampleRows))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	vals := make([]sql.RawBytes, len(t.Columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	row := make([][]byte, len(vals))
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range vals {
			row[i] = v
			if v == nil {
				row[i] = nil
			}
		}
		fn(row)
		n++
	}
	return n, rows.Err()
}

// oneFileFS serves the bytes of one file as "db", read-only.
type oneFileFS struct {
	ra   io.ReaderAt
	size int64
}

func (f oneFileFS) Open(name string) (fs.File, error) {
	if name != "db" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &oneFile{SectionReader: io.NewSectionReader(f.ra, 0, f.size)}, nil
}

type oneFile struct{ *io.SectionReader }

func (f *oneFile) Stat() (fs.FileInfo, error) { return oneFileInfo(f.Size()), nil }
func (f *oneFile) Close() error               { return nil }

type oneFileInfo int64

func (i oneFileInfo) Name() string       { return "db" }
func (i oneFileInfo) Size() int64        { return int64(i) }
func (i oneFileInfo) Mode() fs.FileMode  { return 0o444 }
func (i oneFileInfo) ModTime() time.Time { return time.Time{} }
func (i oneFileInfo) IsDir() bool        { return false }
func (i oneFileInfo) Sys() any           { return nil }
