package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/atrest/atrest/engine"
)

type serverInfo struct {
	version string
	mariadb bool
	vars    map[string]string
	tls     bool
	tlsVer  string
	notes   []string
}

var serverVars = []string{
	"innodb_encrypt_tables", "innodb_encrypt_log", "encrypt_binlog", "encrypt_tmp_files",
	"aria_encrypt_tables", "default_table_encryption", "binlog_encryption", "innodb_redo_log_encrypt",
	"log_bin", "require_secure_transport", "have_ssl",
}

func (s *scanner) readServer(ctx context.Context) (*serverInfo, error) {
	si := &serverInfo{vars: map[string]string{}}
	if err := s.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&si.version); err != nil {
		return nil, err
	}
	si.mariadb = strings.Contains(strings.ToLower(si.version), "mariadb")
	// SHOW VARIABLES needs no privilege, so a SELECT-only user gets it too.
	q := "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('" + strings.Join(serverVars, "','") + "')"
	if err := eachRow(ctx, s.db, q, nil, func(r []sql.NullString) {
		si.vars[strings.ToLower(r[0].String)] = r[1].String
	}); err != nil {
		return nil, err
	}
	if err := eachRow(ctx, s.db, "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_cipher','Ssl_version')", nil, func(r []sql.NullString) {
		switch r[0].String {
		case "Ssl_cipher":
			si.tls = r[1].String != ""
		case "Ssl_version":
			si.tlsVer = r[1].String
		}
	}); err != nil {
		return nil, err
	}
	return si, nil
}

func (si *serverInfo) record(addr, user string) *engine.ServerRecord {
	rec := &engine.ServerRecord{
		Record: "server", Address: addr, User: user, Version: si.version, Flavor: "mysql",
		InnodbEncryptTables:    si.vars["innodb_encrypt_tables"],
		InnodbEncryptLog:       si.vars["innodb_encrypt_log"],
		DefaultTableEncryption: si.vars["default_table_encryption"],
		LogBin:                 si.vars["log_bin"],
		BinlogEncryption:       si.vars["binlog_encryption"],
		RequireSecureTransport: si.vars["require_secure_transport"],
		HaveSSL:                si.vars["have_ssl"],
		TLS:                    si.tls,
	}
	if si.tls {
		rec.TLSVersion = si.tlsVer
	}
	if si.mariadb {
		rec.Flavor = "mariadb"
		rec.BinlogEncryption = si.vars["encrypt_binlog"]
	}
	notes := append([]string(nil), si.notes...)
	if !si.tls {
		notes = append(notes, "this connection is not encrypted (no TLS): sampled values crossed the network in clear")
	}
	if !si.encryptsByDefault() {
		notes = append(notes, "new tables are not encrypted at rest by default")
	}
	if on(rec.LogBin) && !on(rec.BinlogEncryption) {
		notes = append(notes, "binary logs are written unencrypted")
	}
	rec.Notes = notes
	if !si.tls || !si.encryptsByDefault() || (on(rec.LogBin) && !on(rec.BinlogEncryption)) {
		rec.Severity = engine.SeverityMedium
	}
	return rec
}

func (si *serverInfo) encryptsByDefault() bool {
	if si.mariadb {
		v := strings.ToUpper(si.vars["innodb_encrypt_tables"])
		return v == "ON" || v == "FORCE"
	}
	return on(si.vars["default_table_encryption"])
}

func on(v string) bool {
	switch strings.ToUpper(v) {
	case "ON", "1", "YES", "FORCE":
		return true
	}
	return false
}

// encryption fills each table's encrypted_at_rest from the tablespace
// views (they need the PROCESS privilege), else from CREATE_OPTIONS and the
// server's default.
func (s *scanner) encryption(ctx context.Context, tables []*engine.Table) error {
	si := s.server
	spaces := map[string][]bool{} // "db/table" → encrypted, per tablespace (partitions)
	q := "SELECT NAME, ENCRYPTION_SCHEME > 0 FROM information_schema.INNODB_TABLESPACES_ENCRYPTION"
	view := "INNODB_TABLESPACES_ENCRYPTION"
	if !si.mariadb {
		q = "SELECT NAME, ENCRYPTION = 'Y' FROM information_schema.INNODB_TABLESPACES"
		view = "INNODB_TABLESPACES"
	}
	err := eachRow(ctx, s.db, q, nil, func(r []sql.NullString) {
		name := r[0].String
		if i := strings.Index(strings.ToLower(name), "#p#"); i >= 0 {
			name = name[:i]
		}
		spaces[name] = append(spaces[name], r[1].String == "1")
	})
	haveView := true
	if err != nil {
		var me *mysqldrv.MySQLError
		if !errors.As(err, &me) {
			return err
		}
		haveView = false
		why := me.Message
		if me.Number == 1227 {
			why = "needs the PROCESS privilege"
		}
		si.notes = append(si.notes, fmt.Sprintf("information_schema.%s not readable (%s): encryption at rest read from table options and server defaults", view, why))
	}
	for _, t := range tables {
		opts := strings.ToUpper(strings.ReplaceAll(s.tables[t].createOptions, "`", ""))
		switch parts := spaces[t.Database+"/"+t.Name]; {
		case haveView && len(parts) > 0:
			t.Encrypted = true
			for _, e := range parts {
				t.Encrypted = t.Encrypted && e
			}
			t.Encryption = "information_schema." + view
		case strings.Contains(opts, "ENCRYPTED='YES'") || strings.Contains(opts, "ENCRYPTION='Y'"):
			t.Encrypted, t.Encryption = true, "table option"
		case strings.Contains(opts, "ENCRYPTED='NO'") || strings.Contains(opts, "ENCRYPTION='N'"):
			t.Encrypted, t.Encryption = false, "table option"
		case strings.EqualFold(t.Storage, "InnoDB") && si.encryptsByDefault():
			t.Encrypted, t.Encryption = true, "server default (innodb_encrypt_tables / default_table_encryption)"
		case strings.EqualFold(t.Storage, "Aria") && on(si.vars["aria_encrypt_tables"]):
			t.Encrypted, t.Encryption = true, "server default (aria_encrypt_tables)"
		default:
			t.Encrypted, t.Encryption = false, "not encrypted"
		}
	}
	return nil
}
