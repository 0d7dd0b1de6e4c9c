package mysql

import (
	"context"
	"fmt"
	"io"
	"strings"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/atrest/atrest/engine"
)

// Engine is the MySQL and MariaDB family, through go-sql-driver/mysql. Its
// DSNs are go-sql-driver's: user:password@tcp(host:3306)/database?params.
type Engine struct{}

var _ engine.Engine = Engine{}

func (Engine) Name() string { return "mysql" }

// DSN reads a go-sql-driver DSN.
func (Engine) DSN(dsn string) (engine.DSN, error) {
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return engine.DSN{Redacted: "(unparsable DSN)"}, dsnError(err)
	}
	d := engine.DSN{Address: cfg.Net + ":" + cfg.Addr, User: cfg.User, Database: cfg.DBName}
	switch strings.ToLower(cfg.TLSConfig) {
	case "", "false":
		d.TLS = engine.TLSOff
	case "preferred":
		d.TLS = engine.TLSPreferred
	case "skip-verify":
		d.TLS = engine.TLSUnverified
	default:
		d.TLS = engine.TLSVerified // "true" or a registered configuration
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "***"
	}
	d.Redacted = cfg.FormatDSN()
	return d, nil
}

// RedactDSN returns dsn with its password replaced by ***, for messages.
func RedactDSN(dsn string) string {
	d, _ := Engine{}.DSN(dsn)
	return d.Redacted
}

func (Engine) Identify(ctx context.Context, dsn string) (engine.Server, error) {
	return Identify(ctx, dsn)
}

// SameServer says why a and b are the same server, or "". MariaDB has no
// @@server_uuid (Identify then gives server_id@hostname, the same for two
// servers on one host), so there only host and port count.
func (Engine) SameServer(a, b engine.Server) string {
	real := func(s Server) bool { return s.UUID != "" && !strings.HasSuffix(s.UUID, "@"+s.Host) }
	switch {
	case real(a) && real(b) && a.UUID == b.UUID:
		return "the same @@server_uuid " + a.UUID
	case a.Host != "" && a.Host == b.Host && a.Port == b.Port:
		return fmt.Sprintf("the same host and port %s:%d", a.Host, a.Port)
	}
	return ""
}

func (Engine) Dump(ctx context.Context, dsn string, opts engine.DumpOptions, w io.Writer) (*engine.DumpResult, error) {
	return Dump(ctx, dsn, Options{Databases: opts.Databases, Parallel: opts.Parallel}, w)
}

// dsnError words the driver's DSN errors for a person: "default addr for
// network '127.0.0.1:3306' unknown" means the tcp(...) around the address
// is missing. It never repeats the DSN, which may hold a password.
func dsnError(err error) error {
	const form = "user:password@tcp(host:3306)/ for MySQL and MariaDB, or postgres://user@host:5432/db"
	switch msg := err.Error(); {
	case strings.Contains(msg, "default addr for network"):
		return fmt.Errorf("invalid DSN: the address needs its protocol, as in %s", form)
	case strings.Contains(msg, "missing the slash"):
		return fmt.Errorf("invalid DSN: the address must end with a slash (then, optionally, a database), as in %s", form)
	}
	return fmt.Errorf("invalid DSN (%v): write it as %s", err, form)
}
