package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/atrest/atrest/engine"
)

// Schemas that belong to the server, not to an application.
var systemSchemas = []string{"mysql", "information_schema", "performance_schema", "sys"}

// scanColumn is what the scan keeps of a column beside engine.Column.
type scanColumn struct {
	dataType         string
	charMax          int64
	precision, scale int64
}

// scanTableInfo is what the scan keeps of a table beside engine.Table.
type scanTableInfo struct {
	createOptions string
}

// valueCap bounds the bytes read from one value: enough for free text and
// for telling ciphertext by its shape, and a bound on memory whatever the
// column holds.
const valueCap = 4096

// sampled says whether a column of this type can hold an identifier.
func (c *scanColumn) sampled() bool {
	switch c.dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json", "enum", "set":
		// The shortest identifier (a@b.cn, a masked mobile) has 6 characters.
		return !((c.dataType == "char" || c.dataType == "varchar") && c.charMax < 6)
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return !((c.dataType == "binary" || c.dataType == "varbinary") && c.charMax < 6)
	case "bigint":
		// Phone and card numbers are often kept as numbers; smaller integer
		// types cannot hold 11 digits.
		return true
	case "decimal", "numeric":
		return c.scale == 0 && c.precision >= 11
	}
	return false
}

// expr is the select expression for the column, capped in length.
func (c *scanColumn) expr(name string) string {
	q := quoteIdent(name)
	switch c.dataType {
	case "char", "varchar", "binary", "varbinary":
		if c.charMax <= valueCap {
			return q
		}
	case "enum", "set":
		return q
	case "bigint", "decimal", "numeric":
		return q
	}
	return fmt.Sprintf("LEFT(%s, %d)", q, valueCap)
}

func isInteger(dataType string) bool {
	switch dataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return true
	}
	return false
}

// Tables lists base tables and their columns from information_schema, and
// how each is encrypted at rest.
func (s *scanner) Tables(ctx context.Context, databases []string) ([]*engine.Table, []string, error) {
	if len(databases) == 0 && s.dbName != "" {
		// A DSN that names a database means that one.
		databases = []string{s.dbName}
	}
	filter, args := "TABLE_SCHEMA NOT IN ('"+strings.Join(systemSchemas, "','")+"')", []any(nil)
	if len(databases) > 0 {
		filter = "TABLE_SCHEMA IN (" + strings.TrimSuffix(strings.Repeat("?,", len(databases)), ",") + ")"
		for _, d := range databases {
			args = append(args, d)
		}
	}
	byName := map[string]*engine.Table{}
	var tables []*engine.Table
	dbSeen := map[string]bool{}
	// SYSTEM VERSIONED is MariaDB's temporal table; views and sequences hold
	// no data of their own.
	err := eachRow(ctx, s.db, `SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, TABLE_ROWS, CREATE_OPTIONS
		FROM information_schema.TABLES
		WHERE TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED') AND `+filter+`
		ORDER BY TABLE_SCHEMA, TABLE_NAME`, args, func(r []sql.NullString) {
		t := &engine.Table{Database: r[0].String, Name: r[1].String, Storage: r[2].String}
		s.tables[t] = &scanTableInfo{createOptions: r[4].String}
		fmt.Sscan(r[3].String, &t.Rows)
		tables = append(tables, t)
		byName[t.Database+"\x00"+t.Name] = t
		dbSeen[t.Database] = true
	})
	if err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, d := range databases {
		if !dbSeen[d] {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		var n int
		for _, d := range missing {
			// A database with no tables (or none visible) is not an error;
			// one that does not exist, or that the user cannot see, is.
			if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", d).Scan(&n); err != nil {
				return nil, nil, err
			}
			if n == 0 {
				return nil, nil, fmt.Errorf("database %q does not exist or is not visible to this user", d)
			}
			dbSeen[d] = true
		}
	}
	err = eachRow(ctx, s.db, `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,
		CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, IS_NULLABLE, COLUMN_COMMENT
		FROM information_schema.COLUMNS WHERE `+filter+`
		ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`, args, func(r []sql.NullString) {
		t := byName[r[0].String+"\x00"+r[1].String]
		if t == nil {
			return
		}
		sc := &scanColumn{dataType: strings.ToLower(r[3].String)}
		fmt.Sscan(r[5].String, &sc.charMax)
		fmt.Sscan(r[6].String, &sc.precision)
		fmt.Sscan(r[7].String, &sc.scale)
		if sc.dataType == "longtext" && strings.Contains(strings.ToLower(r[4].String), "json") {
			sc.dataType = "json"
		}
		c := &engine.Column{Name: r[2].String, DataType: sc.dataType, ColumnType: r[4].String,
			Comment: r[9].String, Sampled: sc.sampled()}
		s.cols[c] = sc
		t.Columns = append(t.Columns, c)
	})
	if err != nil {
		return nil, nil, err
	}
	if err := s.keys(ctx, filter, args, byName); err != nil {
		return nil, nil, err
	}
	if err := s.encryption(ctx, tables); err != nil {
		return nil, nil, fmt.Errorf("encryption status: %w", err)
	}
	dbs := make([]string, 0, len(dbSeen))
	for d := range dbSeen {
		dbs = append(dbs, d)
	}
	sort.Strings(dbs)
	return tables, dbs, nil
}

// keys picks for each table the index to sample by: the primary key, else a
// unique index, else any index, whose leading column is an integer. Random
// points in [MIN, MAX] of that column are then cheap index seeks.
func (s *scanner) keys(ctx context.Context, filter string, args []any, byName map[string]*engine.Table) error {
	type idx struct {
		t       *engine.Table
		name    string
		unique  bool
		leading string
	}
	var idxs []idx
	err := eachRow(ctx, s.db, `SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME
		FROM information_schema.STATISTICS WHERE SEQ_IN_INDEX = 1 AND `+filter+`
		ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME`, args, func(r []sql.NullString) {
		if t := byName[r[0].String+"\x00"+r[1].String]; t != nil {
			idxs = append(idxs, idx{t: t, name: r[2].String, unique: r[3].String == "0", leading: r[4].String})
		}
	})
	if err != nil {
		return err
	}
	rank := func(i idx) int {
		switch {
		case i.name == "PRIMARY":
			return 0
		case i.unique:
			return 1
		}
		return 2
	}
	sort.SliceStable(idxs, func(a, b int) bool { return rank(idxs[a]) < rank(idxs[b]) })
	for _, i := range idxs {
		if i.t.Key != nil {
			continue
		}
		for _, c := range i.t.Columns {
			if c.Name == i.leading && isInteger(c.DataType) {
				i.t.Key, i.t.KeyIndex = c, i.name
			}
		}
	}
	for _, t := range byName {
		if t.Key == nil {
			t.KeyWhyNot = "no index with a leading integer column: read the first rows"
		}
	}
	return nil
}

// eachRow runs q and calls f with every row as strings.
func eachRow(ctx context.Context, db *sql.DB, q string, args []any, f func([]sql.NullString)) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		f(vals)
	}
	return rows.Err()
}
