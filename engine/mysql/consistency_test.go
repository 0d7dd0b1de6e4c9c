package mysql_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

// slowWriter makes the dump take long enough for writers to commit while
// it reads.
type slowWriter struct {
	w     io.Writer
	delay time.Duration
}

func (s slowWriter) Write(p []byte) (int, error) {
	time.Sleep(s.delay)
	return s.w.Write(p)
}

// gatedWriter holds the dump's first write until the writer has committed
// want more transactions. The dump writes only after its snapshot is open,
// so those commits happen during the dump however loaded the machine is.
type gatedWriter struct {
	io.Writer
	once sync.Once
	wait func()
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.once.Do(g.wait)
	return g.Writer.Write(p)
}

// pairWriter commits one row to a and one to b per transaction until
// stopped, so in any consistent view a and b have the same number of rows.
type pairWriter struct {
	commits atomic.Int64
	stop    chan struct{}
	done    chan error
}

func startPairWriter(t *testing.T, srv *testenv.DB, db string, tables ...string) *pairWriter {
	t.Helper()
	c := srv.Open(t, db)
	w := &pairWriter{stop: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		for {
			select {
			case <-w.stop:
				w.done <- nil
				return
			default:
			}
			tx, err := c.Begin()
			if err != nil {
				w.done <- err
				return
			}
			for _, tb := range tables {
				if _, err := tx.Exec("INSERT INTO " + tb + " (pad) VALUES ('written during the dump')"); err != nil {
					tx.Rollback()
					w.done <- err
					return
				}
			}
			if err := tx.Commit(); err != nil {
				w.done <- err
				return
			}
			w.commits.Add(1)
		}
	}()
	// Let it get going.
	for w.commits.Load() < 5 {
		time.Sleep(time.Millisecond)
	}
	return w
}

func (w *pairWriter) end(t *testing.T) {
	t.Helper()
	close(w.stop)
	if err := <-w.done; err != nil {
		t.Fatalf("writer: %v", err)
	}
}

func createPairTables(t *testing.T, srv *testenv.DB, db string, rows int, tables ...string) {
	t.Helper()
	for _, tb := range tables {
		srv.Exec(t, fmt.Sprintf("CREATE TABLE `%s`.%s (id INT AUTO_INCREMENT PRIMARY KEY, pad CHAR(100))", db, tb),
			fmt.Sprintf("INSERT INTO `%s`.%s (pad) SELECT CONCAT('row ', seq) FROM `%s`.seq_1_to_%d", db, tb, db, rows))
	}
}

// TestDumpConsistentUnderWrites: a writer commits to a and b together while
// the dump reads them (one after the other over one connection, or at the
// same time over several): the dump must see both at the same instant.
func TestDumpConsistentUnderWrites(t *testing.T) {
	srv := testenv.MariaDB(t)
	for _, par := range []int{1, 3} {
		t.Run(fmt.Sprintf("parallel%d", par), func(t *testing.T) {
			db := srv.CreateDatabase(t, "consist")
			createPairTables(t, srv, db, 3000, "a", "b", "c")
			w := startPairWriter(t, srv, db, "a", "b", "c")
			before := w.commits.Load()
			gate := &gatedWriter{Writer: slowWriter{io.Discard, 3 * time.Millisecond}, wait: func() {
				for deadline := time.Now().Add(time.Minute); w.commits.Load() < before+20 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
			}}
			res, err := Dump(context.Background(), srv.DSN, Options{Databases: []string{db}, Parallel: par, StatementBytes: 8 << 10}, gate)
			during := w.commits.Load() - before
			w.end(t)
			if err != nil {
				t.Fatal(err)
			}
			if res.Parallel != par {
				t.Fatalf("used %d connections, want %d: %v", res.Parallel, par, res.Notes)
			}
			if during < 20 {
				t.Fatalf("only %d commits during the dump: the test proves nothing", during)
			}
			rows := map[string]int64{}
			for _, tr := range res.Tables {
				rows[tr.Name] = tr.Rows
			}
			if rows["a"] != rows["b"] || rows["b"] != rows["c"] || rows["a"] < 3000 {
				t.Fatalf("dumped a=%d b=%d c=%d rows: not one snapshot", rows["a"], rows["b"], rows["c"])
			}
			var now int64
			srv.Open(t, db).QueryRow("SELECT COUNT(*) FROM a").Scan(&now)
			if now <= rows["a"] {
				t.Fatalf("table has %d rows after the dump, dump has %d: no write landed after the snapshot", now, rows["a"])
			}
			t.Logf("%d commits during the dump; snapshot had %d rows per table; %s", during, rows["a"], res.Consistency)
		})
	}
}

// TestDumpPosition: the binlog position recorded is the snapshot's: the
// GTIDs committed between a known point and the snapshot are exactly the
// rows the dump holds beyond that point.
func TestDumpPosition(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private server with the binlog on")
	}
	srv := testenv.NewMariaDB(t, testenv.Config{Args: []string{"--log-bin=binlog", "--server-id=42"}})
	for _, par := range []int{1, 2} {
		t.Run(fmt.Sprintf("parallel%d", par), func(t *testing.T) {
			db := srv.CreateDatabase(t, "pos")
			createPairTables(t, srv, db, 1000, "a")
			seq := func(gtid string) int64 {
				// domain-server-seq; one domain here.
				parts := strings.Split(gtid, "-")
				n, err := strconv.ParseInt(parts[len(parts)-1], 10, 64)
				if err != nil {
					t.Fatalf("gtid %q: %v", gtid, err)
				}
				return n
			}
			var g0 string
			srv.Open(t, "").QueryRow("SELECT @@gtid_binlog_pos").Scan(&g0)
			w := startPairWriter(t, srv, db, "a")
			res, err := Dump(context.Background(), srv.DSN, Options{Databases: []string{db}, Parallel: par},
				slowWriter{io.Discard, time.Millisecond})
			w.end(t)
			if err != nil {
				t.Fatal(err)
			}
			if !res.PositionExact || res.BinlogFile == "" || res.BinlogPos == 0 || res.GTID == "" {
				t.Fatalf("position %s:%d gtid %q exact %v; notes %v", res.BinlogFile, res.BinlogPos, res.GTID, res.PositionExact, res.Notes)
			}
			committed := seq(res.GTID) - seq(g0)
			if got := res.Tables[0].Rows - 1000; got != committed {
				t.Fatalf("dump holds %d rows written after %s, but %d transactions precede its position %s", got, g0, committed, res.GTID)
			}
			if par > 1 && res.LockHeld <= 0 {
				t.Error("no global read lock recorded for several connections")
			}
			t.Logf("%s: %s:%d %s (%d writer commits before the snapshot)", res.Consistency, res.BinlogFile, res.BinlogPos, res.GTID, committed)
		})
	}
}

// TestDumpWithoutReload: a user without RELOAD cannot take the global read
// lock; the dump reads over one connection, still consistent, and says so.
func TestDumpWithoutReload(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.CreateDatabase(t, "noreload")
	createPairTables(t, srv, db, 10, "a")
	user := "dumper_" + db[len(db)-8:]
	srv.Exec(t, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'pw'",
		"GRANT SELECT, SHOW VIEW, TRIGGER ON `"+db+"`.* TO '"+user+"'@'%'")
	t.Cleanup(func() { srv.Open(t, "").Exec("DROP USER IF EXISTS '" + user + "'@'%'") })
	res, err := Dump(context.Background(), srv.DSNFor(user, "pw", ""), Options{Databases: []string{db}, Parallel: 4}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Parallel != 1 || len(res.Notes) == 0 || !strings.Contains(strings.Join(res.Notes, "; "), "global read lock") {
		t.Fatalf("parallel %d, notes %q", res.Parallel, res.Notes)
	}
	if res.Tables[0].Rows != 10 {
		t.Fatalf("rows %d", res.Tables[0].Rows)
	}
	t.Logf("notes: %q", res.Notes)
}

// peakHeap samples HeapInuse until stopped and returns the largest value.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestMemoryBounded: dumping and loading a table far larger than the heap
// limit stays within a few statement buffers.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("200k rows")
	}
	srv := testenv.MariaDB(t)
	db := srv.CreateDatabase(t, "mem")
	srv.Exec(t, "CREATE TABLE `"+db+"`.big (id INT PRIMARY KEY, a VARCHAR(255), b BLOB, c DOUBLE, d DATETIME(6))",
		"INSERT INTO `"+db+"`.big SELECT seq, REPEAT(MD5(seq), 7), RANDOM_BYTES(300), RAND(seq), NOW(6) FROM `"+db+"`.seq_1_to_200000")

	path := filepath.Join(t.TempDir(), "big.sql")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	stop := peakHeap()
	res, err := Dump(context.Background(), srv.DSN, Options{Databases: []string{db}, Parallel: 2}, f)
	peak := stop()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dump: %d MB written, peak heap in use %.1f MB", res.Bytes>>20, float64(peak)/(1<<20))
	if res.Bytes < 150<<20 {
		t.Fatalf("dump only %d bytes: the table is too small to show anything", res.Bytes)
	}
	if peak > uint64(res.Bytes)/8 {
		t.Errorf("peak heap %d bytes for a %d-byte dump: rows are being buffered", peak, res.Bytes)
	}

	dst := srv.CreateDatabase(t, "memdst")
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	runtime.GC()
	stop = peakHeap()
	lr, err := Load(context.Background(), srv.DSN, dst, in, LoadOptions{Parallel: 2})
	peak = stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load: %d rows, peak heap in use %.1f MB", lr.Rows, float64(peak)/(1<<20))
	if lr.Rows != 200000 {
		t.Errorf("loaded %d rows", lr.Rows)
	}
	if peak > uint64(lr.Bytes)/8 {
		t.Errorf("peak heap %d bytes for a %d-byte load", peak, lr.Bytes)
	}
	n, d, err := TableDigest(context.Background(), srv.DSN, dst, "big")
	if err != nil || n != res.Tables[0].Rows || d != res.Tables[0].Digest {
		t.Errorf("restored big: %d rows digest %s, %v; dumped %d %s", n, d, err, res.Tables[0].Rows, res.Tables[0].Digest)
	}
}
