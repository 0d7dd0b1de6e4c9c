package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/atrest/atrest/engine"
)

// DigestAlgorithm names the table digest defined here, for manifests: a
// future change to the canonical encoding must change this name.
const DigestAlgorithm = "atrest-rowsum-sha256-v1"

// The canonical encoding of a row, shared by Dump and TableDigest:
//
//	row    = value(col1) || value(col2) || ...   (stored columns in ordinal order;
//	                                               generated columns are left out)
//	value  = 0x00                                 for NULL
//	       | 0x01 || uint64-BE(len(b)) || b        otherwise
//
// where b, the canonical bytes of a value, are:
//
//   - integers (TINYINT…BIGINT signed or unsigned, YEAR): decimal ASCII, '-'
//     for negatives, no leading zeros;
//   - FLOAT and DOUBLE: the IEEE-754 double value (FLOAT is read exactly, as
//     CAST(col AS DOUBLE), because MariaDB prints FLOAT with 6 digits and
//     that text does not round-trip) formatted as the shortest text that
//     parses back to it, Go's strconv.FormatFloat(v, 'g', -1, 64);
//   - DECIMAL: the server's exact text (fixed scale, "12.50");
//   - DATE, DATETIME, TIMESTAMP, TIME: the server's text in a session with
//     time_zone '+00:00', fractions as the column's precision prints them;
//   - BIT: the big-endian bytes the server sends;
//   - CHAR, VARCHAR, TEXT, ENUM, SET, and JSON (MariaDB stores it as
//     LONGTEXT): the bytes in utf8mb4, CHAR without trailing pad (sql_mode
//     '' on both sides); MySQL 8's binary JSON is read as the server's
//     normalised text;
//   - BINARY, VARBINARY, BLOB, GEOMETRY: the raw bytes.
//
// The digest of a table is the sum, modulo 2^256, of SHA-256(row) read as
// big-endian integers, over all rows; the row count is kept beside it. A sum
// rather than XOR keeps duplicate rows (tables without a key) from cancelling.
// The empty table's digest is 64 zeros.

// colKind says how a column's values are written as SQL literals.
type colKind uint8

const (
	kindString colKind = iota // quoted with backslash escapes
	kindNumber                // bare text (DECIMAL; ints and floats arrive typed)
	kindBinary                // X'hex'
	kindBit                   // b'0101'
)

func kindOf(dbType string) colKind {
	switch dbType {
	case "DECIMAL":
		return kindNumber
	case "BIT":
		return kindBit
	case "BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "GEOMETRY", "VECTOR":
		return kindBinary
	}
	return kindString
}

// column is a stored column of a table, as information_schema lists it.
type column struct {
	name     string
	dataType string // information_schema DATA_TYPE, lower case
}

// selectQuery reads the stored columns of db.table in ordinal order. It is
// the one query both Dump and TableDigest read rows with.
func selectQuery(db, table string, cols []column) string {
	var b strings.Builder
	b.WriteString("SELECT /*!40001 SQL_NO_CACHE */ ")
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		if c.dataType == "float" {
			b.WriteString("CAST(" + quoteIdent(c.name) + " AS DOUBLE)")
		} else {
			b.WriteString(quoteIdent(c.name))
		}
	}
	b.WriteString(" FROM " + quoteIdent(db) + "." + quoteIdent(table))
	return b.String()
}

// scanTable streams the rows of db.table over conn and calls fn for each
// with the driver's values (valid only during the call) and the columns'
// literal kinds. Memory holds one row at a time.
func scanTable(ctx context.Context, conn *sql.Conn, db, table string, cols []column,
	fn func(vals []driver.Value, kinds []colKind) error) error {
	if len(cols) == 0 {
		return fmt.Errorf("table %s.%s has no stored columns", quoteIdent(db), quoteIdent(table))
	}
	return rawQuery(ctx, conn, selectQuery(db, table, cols), func(rows driver.Rows) error {
		n := len(rows.Columns())
		if n != len(cols) {
			return fmt.Errorf("read %d columns, expected %d", n, len(cols))
		}
		kinds := make([]colKind, n)
		if ct, ok := rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
			for i := range kinds {
				kinds[i] = kindOf(ct.ColumnTypeDatabaseTypeName(i))
			}
		}
		vals := make([]driver.Value, n)
		for {
			if err := rows.Next(vals); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
			if err := fn(vals, kinds); err != nil {
				return err
			}
		}
	})
}

// digester accumulates the digest of one table.
type digester struct {
	engine.RowSum
	enc []byte
}

func (d *digester) add(vals []driver.Value) error {
	enc := d.enc[:0]
	var err error
	for _, v := range vals {
		if enc, err = appendCanonical(enc, v); err != nil {
			return err
		}
	}
	d.enc = enc
	d.Add(enc)
	return nil
}

var errParseTime = errors.New("the driver returned time.Time: parseTime must be off")

// appendCanonical appends the canonical encoding of one value.
func appendCanonical(enc []byte, v driver.Value) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(enc, 0), nil
	case []byte:
		enc = append(enc, 1)
		enc = binary.BigEndian.AppendUint64(enc, uint64(len(v)))
		return append(enc, v...), nil
	case string:
		enc = append(enc, 1)
		enc = binary.BigEndian.AppendUint64(enc, uint64(len(v)))
		return append(enc, v...), nil
	}
	enc = append(enc, 1, 0, 0, 0, 0, 0, 0, 0, 0)
	start := len(enc)
	switch v := v.(type) {
	case int64:
		enc = strconv.AppendInt(enc, v, 10)
	case uint64:
		enc = strconv.AppendUint(enc, v, 10)
	case float64:
		enc = strconv.AppendFloat(enc, v, 'g', -1, 64)
	case float32:
		enc = strconv.AppendFloat(enc, float64(v), 'g', -1, 64)
	case time.Time:
		return nil, errParseTime
	default:
		return nil, fmt.Errorf("unexpected value type %T from the driver", v)
	}
	binary.BigEndian.PutUint64(enc[start-8:start], uint64(len(enc)-start))
	return enc, nil
}

// appendLiteral appends v as a SQL literal that the server turns back into
// the same stored value.
func appendLiteral(b []byte, v driver.Value, k colKind) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "NULL"...), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64), nil
	case float32:
		return strconv.AppendFloat(b, float64(v), 'g', -1, 64), nil
	case []byte:
		switch k {
		case kindNumber:
			return append(b, v...), nil
		case kindBinary:
			b = append(b, "X'"...)
			b = hex.AppendEncode(b, v)
			return append(b, '\''), nil
		case kindBit:
			return appendBits(b, v), nil
		}
		return appendString(b, v), nil
	case string:
		return appendString(b, []byte(v)), nil
	case time.Time:
		return nil, errParseTime
	}
	return nil, fmt.Errorf("unexpected value type %T from the driver", v)
}

func appendBits(b []byte, v []byte) []byte {
	b = append(b, "b'"...)
	if len(v) == 0 {
		b = append(b, '0')
	}
	for _, c := range v {
		for i := 7; i >= 0; i-- {
			b = append(b, '0'+(c>>uint(i))&1)
		}
	}
	return append(b, '\'')
}

// escapes maps the bytes that must be escaped inside a quoted literal to the
// letter after the backslash (mysql_real_escape_string's set).
var escapes = [256]byte{0: '0', '\n': 'n', '\r': 'r', '\\': '\\', '\'': '\'', '"': '"', 0x1a: 'Z'}

func appendString(b []byte, s []byte) []byte {
	b = append(b, '\'')
	last := 0
	for i, c := range s {
		if e := escapes[c]; e != 0 {
			b = append(b, s[last:i]...)
			b = append(b, '\\', e)
			last = i + 1
		}
	}
	b = append(b, s[last:]...)
	return append(b, '\'')
}
