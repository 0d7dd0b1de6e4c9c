package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atrest/atrest/engine"
)

// Engine is the PostgreSQL family, through pgx. Its DSNs are libpq's: a
// postgres:// (or postgresql://) URL, or keyword=value pairs.
type Engine struct{}

var _ engine.Engine = Engine{}

func (Engine) Name() string { return "postgres" }

// DSN reads a PostgreSQL DSN.
func (Engine) DSN(dsn string) (engine.DSN, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return engine.DSN{Redacted: "(unparsable DSN)"}, invalidDSN(err)
	}
	d := engine.DSN{Address: address(cfg), User: cfg.User, Database: cfg.Database}
	switch mode := sslMode(dsn); mode {
	case "disable":
		d.TLS = engine.TLSOff
	case "allow", "prefer", "":
		d.TLS = engine.TLSPreferred // libpq's default is prefer
	case "require":
		d.TLS = engine.TLSUnverified
	default: // verify-ca, verify-full
		d.TLS = engine.TLSVerified
	}
	u := url.URL{Scheme: "postgres", Host: d.Address, Path: "/" + cfg.Database}
	if strings.HasPrefix(cfg.Host, "/") {
		u.Host, u.RawQuery = "", "host="+url.QueryEscape(cfg.Host)
	}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, "***")
	} else {
		u.User = url.User(cfg.User)
	}
	d.Redacted = strings.Replace(u.String(), "%2A%2A%2A", "***", 1)
	return d, nil
}

// invalidDSN keeps pgconn's parse error out of messages: it quotes the
// DSN, and so may the URL parser's error beneath it, password and all.
func invalidDSN(error) error {
	return errors.New("invalid DSN: not a postgres:// URL or keyword=value list that libpq would accept")
}

func address(cfg *pgconn.Config) string {
	if strings.HasPrefix(cfg.Host, "/") {
		return cfg.Host + "/.s.PGSQL." + strconv.Itoa(int(cfg.Port))
	}
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// sslMode finds the sslmode a DSN asks for ("" when it names none).
func sslMode(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			return u.Query().Get("sslmode")
		}
		return ""
	}
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, "sslmode="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

// connect opens one connection with the session settings every reader of
// values needs, so that the server's text is the same at backup and after
// restore: UTC, ISO dates, shortest exact floats, hex bytea, C money.
func connect(ctx context.Context, dsn string, params map[string]string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, invalidDSN(err)
	}
	return connectConfig(ctx, cfg, params)
}

// connectConfig is connect for a parsed DSN; cfg is not changed.
func connectConfig(ctx context.Context, cfg *pgx.ConnConfig, params map[string]string) (*pgx.Conn, error) {
	cfg = cfg.Copy()
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	rp := map[string]string{
		"application_name": "atrest", "client_encoding": "UTF8", "DateStyle": "ISO, YMD",
		"IntervalStyle": "postgres", "TimeZone": "UTC", "extra_float_digits": "1",
		"bytea_output": "hex", "lc_monetary": "C",
	}
	for k, v := range params {
		rp[k] = v
	}
	for k, v := range rp {
		cfg.RuntimeParams[k] = v
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, connectError(cfg, err)
	}
	return c, nil
}

// connectError says where the connection failed without the password.
func connectError(cfg *pgx.ConnConfig, err error) error {
	msg := err.Error()
	if cfg.Password != "" {
		msg = strings.ReplaceAll(msg, cfg.Password, "***")
	}
	if pe := pgError(err); pe != nil {
		return fmt.Errorf("connect %s@%s: %w", cfg.User, address(&cfg.Config), pe)
	}
	return fmt.Errorf("connect %s@%s: %s", cfg.User, address(&cfg.Config), lastPart(msg))
}

// lastPart drops pgconn's "failed to connect to `user=… database=…`:"
// prefix, which repeats what the caller says.
func lastPart(msg string) string {
	if i := strings.Index(msg, "`: "); i >= 0 {
		return strings.TrimSpace(msg[i+3:])
	}
	return msg
}

func pgError(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// refused reports whether err is the server refusing or aborting one
// statement, the session still good: a server error whose class is not a
// connection failure, an operator intervention that ends sessions, or a
// shortage of connections.
func refused(err error) bool {
	pe := pgError(err)
	if pe == nil {
		return false
	}
	switch {
	case strings.HasPrefix(pe.Code, "08"), // connection exception
		pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // admin or crash shutdown, cannot connect now
		pe.Code == "53300": // too many connections
		return false
	}
	return true
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteString quotes a string literal (standard_conforming_strings on).
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func qualified(schema, name string) string { return quoteIdent(schema) + "." + quoteIdent(name) }

// Identify names the server: its version, its system identifier (the
// cluster's lasting identity, the same on a physical replica), and the
// address and port it answered on.
func (Engine) Identify(ctx context.Context, dsn string) (engine.Server, error) {
	c, err := connect(ctx, dsn, nil)
	if err != nil {
		return engine.Server{}, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	return identify(ctx, c)
}

func identify(ctx context.Context, c *pgx.Conn) (engine.Server, error) {
	var s engine.Server
	var host *string
	var port *int32
	if err := c.QueryRow(ctx, "SELECT current_setting('server_version'), host(inet_server_addr()), inet_server_port()").
		Scan(&s.Version, &host, &port); err != nil {
		return s, fmt.Errorf("identify server: %w", err)
	}
	cfg := c.Config()
	s.Host, s.Port = cfg.Host, int(cfg.Port)
	if host != nil && port != nil {
		s.Host, s.Port = *host, int(*port)
	}
	// pg_control_system() may be revoked; without it only host and port
	// tell servers apart.
	var id *string
	if err := c.QueryRow(ctx, "SELECT system_identifier::text FROM pg_control_system()").Scan(&id); err == nil && id != nil {
		s.UUID = *id
	} else if err != nil && !refused(err) {
		return s, fmt.Errorf("identify server: %w", err)
	}
	return s, nil
}

// SameServer: the same system identifier, or the same address and port.
func (Engine) SameServer(a, b engine.Server) string {
	switch {
	case a.UUID != "" && a.UUID == b.UUID:
		return "the same system identifier " + a.UUID
	case a.Host != "" && a.Host == b.Host && a.Port == b.Port:
		return fmt.Sprintf("the same host and port %s:%d", a.Host, a.Port)
	}
	return ""
}
