package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// sessionParams are the settings every reading session needs so that the
// bytes the server sends are the same at backup and after restore: UTC for
// TIMESTAMP, and an empty sql_mode (no PAD_CHAR_TO_FULL_LENGTH, no
// ANSI_QUOTES in SHOW CREATE output). The long net_write_timeout keeps the
// server from dropping a dump connection while a slow consumer (an upload)
// holds up our reads.
var readParams = map[string]string{
	"time_zone":         "'+00:00'",
	"sql_mode":          "''",
	"net_write_timeout": "3600",
}

// forLoad tunes a loader's connections: no default database (the target
// may not exist yet), and the server's max_allowed_packet as the limit on
// a statement instead of the driver's 64 MiB.
func forLoad(cfg *mysqldrv.Config) {
	cfg.DBName = ""
	cfg.MaxAllowedPacket = 0
}

// openDB opens a pool on dsn with settings this package relies on. Options
// in dsn that would change the bytes read (parseTime, another charset) are
// overridden; the DSN itself never appears in an error.
func openDB(dsn string, params map[string]string, tune func(*mysqldrv.Config)) (*sql.DB, error) {
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return nil, dsnError(err) // names the problem, not the values
	}
	cfg.ParseTime = false
	cfg.MultiStatements = false
	cfg.AllowAllFiles = false // a dump must not make us read local files
	if tune != nil {
		tune(cfg)
	}
	if err := cfg.Apply(mysqldrv.Charset("utf8mb4", "")); err != nil {
		return nil, err
	}
	if len(params) > 0 {
		p := make(map[string]string, len(cfg.Params)+len(params))
		for k, v := range cfg.Params {
			p[k] = v
		}
		for k, v := range params {
			p[k] = v
		}
		cfg.Params = p
	}
	c, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// rawQuery runs query on conn over the text protocol and hands the driver's
// rows to fn. Going under database/sql avoids a conversion per value and lets
// the canonical encoding see exactly what the driver decoded.
func rawQuery(ctx context.Context, conn *sql.Conn, query string, fn func(driver.Rows) error) error {
	return conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("driver connection cannot run queries")
		}
		rows, err := q.QueryContext(ctx, query, nil)
		if err != nil {
			return err
		}
		err = fn(rows)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

func appendIdent(b []byte, s string) []byte {
	b = append(b, '`')
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			b = append(b, '`')
		}
		b = append(b, s[i])
	}
	return append(b, '`')
}

// quoteString quotes s as a SQL string literal (backslash escapes).
func quoteString(s string) string {
	return string(appendString(nil, []byte(s)))
}
