package mysql_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	. "github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

const benchRows = 1_000_000

// benchTable creates a database with a sysbench-shaped table of benchRows
// rows plus DECIMAL, DATETIME(6) and NULLs, generated on the server.
func benchTable(b *testing.B, srv *testenv.DB) string {
	b.Helper()
	db := srv.CreateDatabase(b, "bench")
	start := time.Now()
	srv.Exec(b, "CREATE TABLE `"+db+"`.sbtest (id INT UNSIGNED PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, "+
		"pad CHAR(60) NOT NULL, amount DECIMAL(12,2), created DATETIME(6), note VARCHAR(64), KEY (k))",
		fmt.Sprintf("INSERT INTO `%s`.sbtest SELECT seq, seq * 7 %% 1000003, CONCAT_WS('-', MD5(seq), MD5(seq + 1), SUBSTR(MD5(seq + 2), 1, 20)), "+
			"MD5(seq + 3), seq / 100, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (seq * 1000001) MICROSECOND, "+
			"IF(seq %% 5 = 0, NULL, CONCAT('note ', seq)) FROM `%s`.seq_1_to_%d", db, db, benchRows))
	b.Logf("generated %d rows in %s", benchRows, time.Since(start).Round(time.Millisecond))
	return db
}

// BenchmarkDump dumps a 1M-row table (SQL to a counting sink, digests
// included) beside mariadb-dump --single-transaction on the same data.
func BenchmarkDump(b *testing.B) {
	srv := testenv.MariaDB(b)
	db := benchTable(b, srv)
	for _, par := range []int{1, 2} {
		b.Run(fmt.Sprintf("atrest/parallel%d", par), func(b *testing.B) {
			var res *Result
			for b.Loop() {
				var w countWriter
				var err error
				res, err = Dump(context.Background(), srv.DSN, Options{Databases: []string{db}, Parallel: par}, &w)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(res.Bytes)
			b.ReportMetric(float64(res.Tables[0].Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	b.Run("mariadb-dump", func(b *testing.B) {
		bin, err := exec.LookPath("mariadb-dump")
		if err != nil {
			b.Skip("no mariadb-dump")
		}
		var n int64
		for b.Loop() {
			var w countWriter
			cmd := exec.Command(bin, "--no-defaults", "-h"+srv.Host, "-P"+strconv.Itoa(srv.Port), "-u"+srv.User,
				"--single-transaction", db)
			cmd.Env = append(os.Environ(), "MYSQL_PWD="+srv.Password)
			cmd.Stdout = &w
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			n = w.n
		}
		b.SetBytes(n)
		b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkLoad loads the dump of the 1M-row table into a fresh database,
// with and without DeferIndexes, beside the mariadb client loading the
// same file.
func BenchmarkLoad(b *testing.B) {
	srv := testenv.MariaDB(b)
	src := benchTable(b, srv)
	path := filepath.Join(b.TempDir(), "bench.sql")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	res, err := Dump(context.Background(), srv.DSN, Options{Databases: []string{src}}, f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	srv.Exec(b, "DROP DATABASE `"+src+"`") // room in the buffer pool for the loads
	for _, run := range []struct {
		par      int
		deferIdx bool
	}{{1, false}, {1, true}, {2, false}, {2, true}, {4, false}, {4, true}} {
		name := fmt.Sprintf("atrest/parallel%d", run.par)
		if run.deferIdx {
			name += "/defer-indexes"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dst := srv.CreateDatabase(b, "benchload")
				in, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				lr, err := Load(context.Background(), srv.DSN, dst, in, LoadOptions{Parallel: run.par, DeferIndexes: run.deferIdx})
				b.StopTimer()
				in.Close()
				if err != nil {
					b.Fatal(err)
				}
				if lr.Rows != benchRows {
					b.Fatalf("loaded %d rows", lr.Rows)
				}
				srv.Exec(b, "DROP DATABASE `"+dst+"`")
				b.StartTimer()
			}
			b.SetBytes(res.Bytes)
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	b.Run("mariadb-client", func(b *testing.B) {
		if _, err := exec.LookPath("mariadb"); err != nil {
			b.Skip("no mariadb client")
		}
		for b.Loop() {
			b.StopTimer()
			dst := srv.CreateDatabase(b, "benchcli")
			rewritten := filepath.Join(b.TempDir(), "cli.sql")
			rewriteUse(b, path, rewritten, src, dst)
			b.StartTimer()
			srv.Load(b, rewritten)
			b.StopTimer()
			srv.Exec(b, "DROP DATABASE `"+dst+"`")
			b.StartTimer()
		}
		b.SetBytes(res.Bytes)
		b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkTableDigest recomputes the digest of the 1M-row table, as a drill
// does after restoring it.
func BenchmarkTableDigest(b *testing.B) {
	srv := testenv.MariaDB(b)
	db := benchTable(b, srv)
	for b.Loop() {
		n, _, err := TableDigest(context.Background(), srv.DSN, db, "sbtest")
		if err != nil || n != benchRows {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
