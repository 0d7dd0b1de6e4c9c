package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atrest/atrest/engine"
	mysqldrv "github.com/go-sql-driver/mysql"
)

// Server identifies a database server (engine.Server: for MariaDB, which
// has no @@server_uuid, UUID is "<@@server_id>@<@@hostname>").
type Server = engine.Server

// isMariaDB reports whether the server is MariaDB rather than MySQL.
func isMariaDB(s Server) bool { return strings.Contains(s.Version, "MariaDB") }

// Identify returns the identity of the server dsn points at, so that a drill
// can refuse to restore onto the server a backup came from.
func Identify(ctx context.Context, dsn string) (Server, error) {
	db, err := openDB(dsn, nil, nil)
	if err != nil {
		return Server{}, fmt.Errorf("identify server: %w", err)
	}
	defer db.Close()
	s, err := identify(ctx, db)
	if err != nil {
		return Server{}, fmt.Errorf("identify server: %w", err)
	}
	return s, nil
}

func identify(ctx context.Context, q querier) (Server, error) {
	var s Server
	var id uint64
	if err := q.QueryRowContext(ctx, "SELECT @@version, @@hostname, @@port, @@server_id").Scan(&s.Version, &s.Host, &s.Port, &id); err != nil {
		return s, err
	}
	var uuid sql.NullString
	if err := q.QueryRowContext(ctx, "SELECT @@server_uuid").Scan(&uuid); err == nil && uuid.String != "" {
		s.UUID = uuid.String
	} else if err != nil && !isCode(err, 1193) { // 1193: unknown system variable
		return s, err
	} else {
		s.UUID = strconv.FormatUint(id, 10) + "@" + s.Host
	}
	return s, nil
}

func isCode(err error, codes ...uint16) bool {
	var me *mysqldrv.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, c := range codes {
		if me.Number == c {
			return true
		}
	}
	return false
}

// snapshot is a set of connections that all read the same consistent view.
type snapshot struct {
	conns         []*sql.Conn
	time          time.Time
	file          string
	pos           uint64
	gtid          string
	exact         bool
	locked        bool
	lockHeld      time.Duration
	consistency   string
	notes         []string
	unlockPending bool
}

func (s *snapshot) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// takeSnapshot opens n connections that share one consistent snapshot and
// finds its binlog position.
//
// One connection needs no lock on MariaDB: START TRANSACTION WITH
// CONSISTENT SNAPSHOT fixes Binlog_snapshot_file/position to the snapshot.
// Several connections open their snapshots while FLUSH TABLES WITH READ
// LOCK is held, so no commit can fall between them; the lock is released as
// soon as the last snapshot is open. Without the RELOAD privilege (or when
// the lock is not granted within lockWait) the dump falls back to one
// connection, and says so.
func takeSnapshot(ctx context.Context, db *sql.DB, n int, lockWait time.Duration, srv Server) (s *snapshot, err error) {
	s = &snapshot{}
	c0, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	s.conns = []*sql.Conn{c0}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	needLock := n > 1 || !isMariaDB(srv)
	var lockStart time.Time
	if needLock {
		secs := max(1, int(lockWait.Round(time.Second)/time.Second))
		if _, err := c0.ExecContext(ctx, "SET SESSION lock_wait_timeout = "+strconv.Itoa(secs)); err != nil {
			return nil, err
		}
		lockStart = time.Now()
		if _, err := c0.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			if n > 1 {
				s.note("no global read lock (%s): read all tables over one connection", shortErr(err))
			} else {
				s.note("no global read lock (%s)", shortErr(err))
			}
			n = 1
		} else {
			s.locked, s.unlockPending = true, true
		}
	}
	for len(s.conns) < n {
		c, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		s.conns = append(s.conns, c)
	}
	for _, c := range s.conns {
		if _, err := c.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
			return nil, err
		}
		if _, err := c.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
			return nil, err
		}
	}
	s.time = time.Now().UTC()
	if err := s.position(ctx, c0, srv); err != nil {
		return nil, err
	}
	if s.locked {
		if _, err := c0.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
			return nil, err
		}
		s.unlockPending = false
		s.lockHeld = time.Since(lockStart)
	}
	s.describe()
	return s, nil
}

func (s *snapshot) describe() {
	switch {
	case len(s.conns) > 1:
		s.consistency = fmt.Sprintf("%d connections opened their snapshots under FLUSH TABLES WITH READ LOCK (held %s)",
			len(s.conns), s.lockHeld.Round(time.Microsecond))
	case s.locked:
		s.consistency = fmt.Sprintf("one connection; snapshot opened under FLUSH TABLES WITH READ LOCK (held %s)",
			s.lockHeld.Round(time.Microsecond))
	default:
		s.consistency = "one connection with START TRANSACTION WITH CONSISTENT SNAPSHOT"
	}
}

// position records the binlog coordinates of the snapshot.
func (s *snapshot) position(ctx context.Context, c *sql.Conn, srv Server) error {
	var logBin sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT @@log_bin").Scan(&logBin); err != nil {
		return err
	}
	if logBin.Int64 == 0 {
		s.note("binary log is off: the snapshot has no binlog position")
		return nil
	}
	if isMariaDB(srv) {
		st, err := showPairs(ctx, c, "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'")
		if err != nil {
			return err
		}
		if f := st["Binlog_snapshot_file"]; f != "" {
			s.file = f
			s.pos, _ = strconv.ParseUint(st["Binlog_snapshot_position"], 10, 64)
			s.exact = true
			var g sql.NullString
			if err := c.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", s.file, s.pos).Scan(&g); err == nil {
				s.gtid = g.String
			}
			if s.gtid == "" && s.locked {
				c.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&g)
				s.gtid = g.String
			}
			return nil
		}
	}
	rows, err := c.QueryContext(ctx, "SHOW MASTER STATUS")
	if err != nil {
		if isCode(err, 1227) { // access denied: needs BINLOG MONITOR / REPLICATION CLIENT
			s.note("binlog position not readable (%s)", shortErr(err))
			return nil
		}
		return err
	}
	defer rows.Close()
	m, err := oneRow(rows)
	if err != nil {
		return err
	}
	if m == nil {
		s.note("SHOW MASTER STATUS returned nothing: no binlog position")
		return nil
	}
	s.file = m["File"]
	s.pos, _ = strconv.ParseUint(m["Position"], 10, 64)
	s.gtid = strings.ReplaceAll(m["Executed_Gtid_Set"], "\n", "")
	s.exact = s.locked
	if !s.exact {
		s.note("binlog position read without a global read lock: approximate")
	}
	return nil
}

// release ends the snapshot transactions and returns the connections.
func (s *snapshot) release() {
	for _, c := range s.conns {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if s.unlockPending {
			c.ExecContext(ctx, "UNLOCK TABLES")
			s.unlockPending = false
		}
		c.ExecContext(ctx, "ROLLBACK")
		cancel()
		c.Close()
	}
	s.conns = nil
}

func showPairs(ctx context.Context, q querier, query string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k.String] = v.String
	}
	return m, rows.Err()
}

// oneRow reads the first row of rows by column name (nil if none).
func oneRow(rows *sql.Rows) (map[string]string, error) {
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, rows.Err()
	}
	vals := make([]sql.NullString, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(names))
	for i, n := range names {
		m[n] = vals[i].String
	}
	return m, nil
}

func shortErr(err error) string {
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		return fmt.Sprintf("error %d: %s", me.Number, me.Message)
	}
	return err.Error()
}
