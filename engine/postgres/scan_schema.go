package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/atrest/atrest/engine"
)

// valueCap bounds the bytes read from one value: enough for free text and
// for telling ciphertext by its shape, and a bound on memory whatever the
// column holds.
const valueCap = 4096

// systemSchemas filter the schemas that belong to the server.
const systemSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'`

// sampled says whether a column of this base type (and typmod) can hold
// an identifier: strings of 6 characters or more, JSON, XML, arrays of
// strings, bytea, bigint (phone and card numbers kept as numbers) and
// numeric wide enough for 11 digits without a fraction.
func sampled(base string, category string, elemCategory string, typmod int32) bool {
	switch base {
	case "text", "citext", "json", "jsonb", "xml", "bytea", "int8":
		return true
	case "varchar", "bpchar":
		// The shortest identifier (a@b.cn, a masked mobile) has 6 characters.
		return typmod < 0 || typmod-4 >= 6
	case "numeric":
		if typmod < 0 {
			return true // unconstrained
		}
		precision, scale := ((typmod-4)>>16)&0xffff, (typmod-4)&0xffff
		return scale == 0 && precision >= 11
	}
	return category == "A" && elemCategory == "S" // text[], varchar[] …
}

func isIntegerType(base string) bool { return base == "int2" || base == "int4" || base == "int8" }

// Tables lists the tables and materialized views of the schemas (none:
// every schema of the DSN's database but the server's own), their columns
// and the key each is sampled by.
func (s *scanner) Tables(ctx context.Context, schemas []string) ([]*engine.Table, []string, error) {
	filter, args := systemSchemas, []any{}
	if len(schemas) > 0 {
		filter, args = "n.nspname = ANY($1)", []any{schemas}
	}
	rows, err := s.conn.Query(ctx, `SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.reltuples::bigint,
			pg_relation_size(c.oid) / current_setting('block_size')::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'm') AND `+filter+` ORDER BY n.nspname, c.relname`, args...)
	if err != nil {
		return nil, nil, err
	}
	byOID := map[uint32]*engine.Table{}
	var tables []*engine.Table
	var oids []uint32
	seen := map[string]bool{}
	for rows.Next() {
		var oid uint32
		var kind string
		t := &engine.Table{}
		st := &scanTable{}
		if err := rows.Scan(&oid, &t.Database, &t.Name, &kind, &t.Rows, &st.pages); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if kind == "m" {
			t.Storage = "materialized view"
		}
		st.oid = oid
		s.tables[t] = st
		byOID[oid] = t
		tables = append(tables, t)
		oids = append(oids, oid)
		seen[t.Database] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for _, sc := range schemas {
		if seen[sc] {
			continue
		}
		// A schema with no tables is not an error; one that does not
		// exist is.
		var n int
		if err := s.conn.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", sc).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("schema %q does not exist in this database", sc)
		}
		seen[sc] = true
	}
	if err := s.columns(ctx, oids, byOID); err != nil {
		return nil, nil, err
	}
	if err := s.keys(ctx, oids, byOID); err != nil {
		return nil, nil, err
	}
	if err := s.encryption(ctx, tables); err != nil {
		return nil, nil, fmt.Errorf("encryption status: %w", err)
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return tables, names, nil
}

// columns reads the tables' columns with their types (a domain's base
// type decides whether it is sampled) and comments.
func (s *scanner) columns(ctx context.Context, oids []uint32, byOID map[uint32]*engine.Table) error {
	rows, err := s.conn.Query(ctx, `SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod),
			b.typname::text, b.typcategory::text, COALESCE(e.typcategory::text, ''),
			CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
			COALESCE(col_description(a.attrelid, a.attnum), '')
		FROM pg_attribute a
		JOIN pg_type t ON t.oid = a.atttypid
		JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
		LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
		WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attrelid, a.attnum`, oids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var oid uint32
		var typmod int32
		var cat, elemCat string
		c := &engine.Column{}
		sc := &scanColumn{}
		if err := rows.Scan(&oid, &c.Name, &c.ColumnType, &sc.base, &cat, &elemCat, &typmod, &c.Comment); err != nil {
			return err
		}
		c.DataType = sc.base
		c.Sampled = sampled(sc.base, cat, elemCat, typmod)
		sc.binary = sc.base == "bytea"
		s.cols[c] = sc
		t := byOID[oid]
		t.Columns = append(t.Columns, c)
	}
	return rows.Err()
}

// keys picks for each table the btree index to sample by: the primary
// key, else a unique index, else any index, whose leading column is an
// integer. Random points in [min, max] of that column are then cheap
// index seeks.
func (s *scanner) keys(ctx context.Context, oids []uint32, byOID map[uint32]*engine.Table) error {
	rows, err := s.conn.Query(ctx, `SELECT i.indrelid, ic.relname, a.attname,
			CASE WHEN i.indisprimary THEN 0 WHEN i.indisunique THEN 1 ELSE 2 END AS rank
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_am am ON am.oid = ic.relam
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
		WHERE i.indrelid = ANY($1) AND am.amname = 'btree' AND i.indpred IS NULL AND i.indisvalid
			AND i.indkey[0] <> 0
		ORDER BY i.indrelid, rank, ic.relname`, oids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var oid uint32
		var index, col string
		var rank int
		if err := rows.Scan(&oid, &index, &col, &rank); err != nil {
			return err
		}
		t := byOID[oid]
		if t.Key != nil {
			continue
		}
		for _, c := range t.Columns {
			if c.Name == col && isIntegerType(s.cols[c].base) {
				t.Key, t.KeyIndex = c, index
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range byOID {
		if t.Key == nil {
			t.KeyWhyNot = "no btree index with a leading integer column"
		}
	}
	return nil
}

// tdeSetting is the setting of PostgreSQL forks that encrypt tables
// (openGauss's enable_tde); vanilla PostgreSQL has none.
const tdeSetting = "enable_tde"

// encryption fills each table's encrypted_at_rest. PostgreSQL keeps no
// record of encryption at rest (a disk, a filesystem or a fork may
// encrypt the files): unknown, unless the server has a TDE setting and
// the table's options turn it on.
func (s *scanner) encryption(ctx context.Context, tables []*engine.Table) error {
	var tde *string
	if err := s.conn.QueryRow(ctx, "SELECT current_setting($1, true)", tdeSetting).Scan(&tde); err != nil {
		return err
	}
	if tde == nil || *tde == "" {
		for _, t := range tables {
			t.Encrypted, t.Encryption = false, "unknown"
		}
		return nil
	}
	rows, err := s.conn.Query(ctx, "SELECT oid, array_to_string(reloptions, ',') FROM pg_class WHERE reloptions IS NOT NULL")
	if err != nil {
		return err
	}
	defer rows.Close()
	opts := map[uint32]string{}
	for rows.Next() {
		var oid uint32
		var o string
		if err := rows.Scan(&oid, &o); err != nil {
			return err
		}
		opts[oid] = strings.ToLower(o)
	}
	for _, t := range tables {
		if strings.Contains(opts[s.tables[t].oid], "enable_tde=on") {
			t.Encrypted, t.Encryption = true, "table option enable_tde"
		} else {
			t.Encrypted, t.Encryption = false, "not encrypted (enable_tde not set on the table)"
		}
	}
	return rows.Err()
}
