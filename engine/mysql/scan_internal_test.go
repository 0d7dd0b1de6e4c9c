package mysql

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/internal/testenv"
)

// TestSessionLimits: each reader's session carries the statement time
// limit on MariaDB, and each SELECT a hint on MySQL.
func TestSessionLimits(t *testing.T) {
	srv := testenv.MariaDB(t)
	for _, c := range []struct {
		timeout time.Duration
		want    float64
	}{{30 * time.Second, 30}, {time.Microsecond, 0.001}} {
		s := &scanner{opts: engine.ScanOptions{StatementTimeout: c.timeout}}
		db, err := sql.Open("mysql", srv.DSN)
		if err != nil {
			t.Fatal(err)
		}
		s.db = db
		s.server = &serverInfo{mariadb: true}
		r, err := s.Reader(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got float64
		if err := r.(*reader).conn.QueryRowContext(context.Background(), "SELECT @@SESSION.max_statement_time").Scan(&got); err != nil {
			t.Fatal(err)
		}
		r.Close()
		db.Close()
		if got != c.want {
			t.Errorf("timeout %v: max_statement_time = %v, want %v", c.timeout, got, c.want)
		}
	}
	r := &reader{s: &scanner{opts: engine.ScanOptions{StatementTimeout: 2 * time.Second}, server: &serverInfo{}}}
	if h := r.hint(); h != "/*+ MAX_EXECUTION_TIME(2000) */ " {
		t.Errorf("MySQL hint %q", h)
	}
}

func TestRedactDSN(t *testing.T) {
	if got := RedactDSN("scan:s3cret@tcp(db:3306)/yb"); strings.Contains(got, "s3cret") || !strings.Contains(got, "***") {
		t.Fatalf("RedactDSN = %q", got)
	}
	d, err := Engine{}.DSN("scan:s3cret@tcp(db:3306)/yb?tls=skip-verify")
	if err != nil || d.Address != "tcp:db:3306" || d.User != "scan" || d.Database != "yb" || d.TLS != engine.TLSUnverified {
		t.Fatalf("DSN = %+v, %v", d, err)
	}
	if _, err := (Engine{}).Scan(context.Background(), "scan:s3cret@tcp(127.0.0.1:1)/", engine.ScanOptions{Parallel: 1}); err == nil ||
		strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("connect error %v", err)
	}
}

func TestSameServer(t *testing.T) {
	maria := func(host string, port int) Server {
		return Server{Version: "10.11.6-MariaDB", UUID: "1@" + host, Host: host, Port: port}
	}
	mysql8 := func(uuid, host string, port int) Server {
		return Server{Version: "8.0.36", UUID: uuid, Host: host, Port: port}
	}
	for _, c := range []struct {
		a, b Server
		same bool
	}{
		// Two MariaDB servers on one host share server_id@hostname.
		{maria("db1", 3306), maria("db1", 3307), false},
		{maria("db1", 3306), maria("db1", 3306), true},
		{maria("db1", 3306), maria("db2", 3306), false},
		{mysql8("u-1", "db1", 3306), mysql8("u-1", "db9", 3310), true},
		{mysql8("u-1", "db1", 3306), mysql8("u-2", "db2", 3306), false},
	} {
		if got := (Engine{}).SameServer(c.a, c.b) != ""; got != c.same {
			t.Errorf("SameServer(%+v, %+v) = %v", c.a, c.b, got)
		}
	}
}
