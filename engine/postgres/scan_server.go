package postgres

import (
	"context"
	"strings"

	"github.com/atrest/atrest/engine"
)

// Server reads the settings that say how the server protects data in
// transit, stores passwords and logs statements. current_setting needs no
// privilege, so a SELECT-only role reads them all.
func (s *scanner) Server(ctx context.Context) (*engine.ServerRecord, error) {
	rec := &engine.ServerRecord{Record: "server", Flavor: "postgres"}
	var tde *string
	var tls *bool
	var tlsVersion *string
	err := s.conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_database(), current_user,
			current_setting('ssl'), current_setting('password_encryption'), current_setting('log_statement'),
			current_setting('log_min_duration_statement'), current_setting('log_connections'),
			current_setting('logging_collector'), current_setting($1, true),
			(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()),
			(SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid())`, tdeSetting).
		Scan(&rec.Version, &rec.Catalog, &rec.User, &rec.SSL, &rec.PasswordEncryption, &rec.LogStatement,
			&rec.LogMinDurationStatement, &rec.LogConnections, &rec.LoggingCollector, &tde, &tls, &tlsVersion)
	if err != nil {
		return nil, err
	}
	rec.Address = s.where[strings.LastIndexByte(s.where, '@')+1:]
	rec.TLS = tls != nil && *tls
	if rec.TLS && tlsVersion != nil {
		rec.TLSVersion = *tlsVersion
	}
	var notes []string
	medium := false
	if !rec.TLS {
		notes = append(notes, "this connection is not encrypted (no TLS): sampled values crossed the network in clear")
		medium = true
	}
	if tde == nil || *tde == "" {
		notes = append(notes, "PostgreSQL keeps no record of encryption at rest (a disk, a filesystem or a TDE fork may encrypt the data files): tables are reported with encryption unknown")
		medium = true
	} else if strings.ToLower(*tde) != "on" {
		notes = append(notes, "enable_tde is "+*tde+": new tables are not encrypted at rest by default")
		medium = true
	}
	if rec.PasswordEncryption == "md5" {
		notes = append(notes, "password_encryption is md5: stored password hashes are weak; use scram-sha-256")
		medium = true
	}
	switch rec.LogStatement {
	case "all", "mod":
		notes = append(notes, "log_statement is "+rec.LogStatement+": statements are logged with their values, so identifiers reach the server log in clear")
		medium = true
	}
	if rec.LogMinDurationStatement != "-1" {
		notes = append(notes, "log_min_duration_statement is "+rec.LogMinDurationStatement+": slow statements are logged with their values")
	}
	rec.Notes = notes
	if medium {
		rec.Severity = engine.SeverityMedium
	}
	return rec, nil
}
