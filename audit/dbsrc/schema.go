package dbsrc

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// Schemas that belong to the server, not to an application.
var systemSchemas = []string{"mysql", "information_schema", "performance_schema", "sys"}

type table struct {
	db, name      string
	engine        string
	rows          int64
	createOptions string
	cols          []*column
	key           *column // leading integer column of the index sampled by ranges
	keyIndex      string
	keyWhyNot     string
	encrypted     bool
	encryption    string
}

type column struct {
	name, dataType, columnType, comment string
	charMax                             int64
	precision, scale                    int64
	nullable                            bool
	kind                                int // kindSkip, kindText …
	hint                                hint
}

const (
	kindSkip = iota
	kindText
	kindBinary
	kindNumber
)

// valueCap bounds the bytes read from one value: enough for free text and
// for telling ciphertext by its shape, and a bound on memory whatever the
// column holds.
const valueCap = 4096

func (c *column) classifyKind() {
	switch c.dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json", "enum", "set":
		// The shortest identifier (a@b.cn, a masked mobile) has 6 characters.
		if (c.dataType == "char" || c.dataType == "varchar") && c.charMax < 6 {
			return
		}
		c.kind = kindText
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		if (c.dataType == "binary" || c.dataType == "varbinary") && c.charMax < 6 {
			return
		}
		c.kind = kindBinary
	case "bigint":
		// Phone and card numbers are often kept as numbers; smaller integer
		// types cannot hold 11 digits.
		c.kind = kindNumber
	case "decimal", "numeric":
		if c.scale == 0 && c.precision >= 11 {
			c.kind = kindNumber
		}
	}
}

// expr is the select expression for the column, capped in length.
func (c *column) expr() string {
	q := quote(c.name)
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

// enumerate lists base tables and their columns from information_schema.
func (s *scanner) enumerate(ctx context.Context) ([]*table, []string, error) {
	filter, args := "TABLE_SCHEMA NOT IN ('"+strings.Join(systemSchemas, "','")+"')", []any(nil)
	if len(s.opts.Databases) > 0 {
		filter = "TABLE_SCHEMA IN (" + strings.TrimSuffix(strings.Repeat("?,", len(s.opts.Databases)), ",") + ")"
		for _, d := range s.opts.Databases {
			args = append(args, d)
		}
	}
	byName := map[string]*table{}
	var tables []*table
	dbSeen := map[string]bool{}
	// SYSTEM VERSIONED is MariaDB's temporal table; views and sequences hold
	// no data of their own.
	err := eachRow(ctx, s.db, `SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, TABLE_ROWS, CREATE_OPTIONS
		FROM information_schema.TABLES
		WHERE TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED') AND `+filter+`
		ORDER BY TABLE_SCHEMA, TABLE_NAME`, args, func(r []sql.NullString) {
		t := &table{db: r[0].String, name: r[1].String, engine: r[2].String, createOptions: r[4].String}
		fmt.Sscan(r[3].String, &t.rows)
		tables = append(tables, t)
		byName[t.db+"\x00"+t.name] = t
		dbSeen[t.db] = true
	})
	if err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, d := range s.opts.Databases {
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
		c := &column{name: r[2].String, dataType: strings.ToLower(r[3].String), columnType: r[4].String,
			nullable: r[8].String == "YES", comment: r[9].String}
		fmt.Sscan(r[5].String, &c.charMax)
		fmt.Sscan(r[6].String, &c.precision)
		fmt.Sscan(r[7].String, &c.scale)
		if c.dataType == "longtext" && strings.Contains(strings.ToLower(r[4].String), "json") {
			c.dataType = "json"
		}
		c.classifyKind()
		c.hint = hintFor(c.name, c.comment)
		t.cols = append(t.cols, c)
	})
	if err != nil {
		return nil, nil, err
	}
	if err := s.keys(ctx, filter, args, byName); err != nil {
		return nil, nil, err
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
func (s *scanner) keys(ctx context.Context, filter string, args []any, byName map[string]*table) error {
	type idx struct {
		t       *table
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
		if i.t.key != nil {
			continue
		}
		for _, c := range i.t.cols {
			if c.name == i.leading && isInteger(c.dataType) {
				i.t.key, i.t.keyIndex = c, i.name
			}
		}
	}
	for _, t := range byName {
		if t.key == nil {
			t.keyWhyNot = "no index with a leading integer column: read the first rows"
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
