package drill_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

// BenchmarkDrill drills a backup of a sysbench-shaped table (1M rows, or
// ATREST_BENCH_ROWS) from versitygw onto a private MariaDB: download,
// SHA-256, decryption (age, or sm with ATREST_BENCH_SUITE=sm), zstd, load,
// every digest recomputed. It reports rows/s,
// the phases, and the Go heap's peak, which must not grow with the data.
// scripts/bench.sh sets the same drill beside age|zstd|mariadb and
// myloader.
func BenchmarkDrill(b *testing.B) {
	rows := 1_000_000
	if s := os.Getenv("ATREST_BENCH_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	src := testenv.MariaDB(b)
	name := src.CreateDatabase(b, "drillbench")
	start := time.Now()
	src.Exec(b, "CREATE TABLE `"+name+"`.sbtest (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY (k))",
		fmt.Sprintf("INSERT INTO `%s`.sbtest SELECT seq, seq * 7919 %% %d, CONCAT(MD5(seq), '-', MD5(seq + 1), '-', MD5(seq * 3), '-', LEFT(MD5(seq * 5), 20)), "+
			"CONCAT(MD5(seq * 11), '-', LEFT(MD5(seq * 13), 27)) FROM `%s`.seq_1_to_%d", name, rows, name, rows))
	b.Logf("generated %d rows in %s", rows, time.Since(start).Round(time.Millisecond))

	srv := testenv.S3(b)
	store := s3Store(b, srv, srv.Bucket(b, "drillbench", false))
	s, err := suite.Get(os.Getenv("ATREST_BENCH_SUITE"))
	if err != nil {
		b.Fatal(err)
	}
	k := testenv.NewBackupKeys(b, s)
	start = time.Now()
	m, err := backup.Run(ctxT(b), backup.RunOptions{Job: "bench", Engine: mysql.Engine{}, DSN: crypto.NewSecret(src.DSN), Databases: []string{name},
		Store: store, Prefix: "b/", Suite: s, Recipients: []suite.Recipient{k.Recipient}, SigningKey: k.Signer})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("backup: %s, %d MiB of SQL, %d MiB stored", time.Since(start).Round(time.Millisecond),
		m.Object.PlaintextBytes>>20, m.Object.CiphertextBytes>>20)
	target := testenv.NewMariaDB(b, testenv.Config{})
	o := drill.Options{Job: drill.Job{Name: "bench", Prefix: "b/"}, Engine: mysql.Engine{}, Store: store, Identity: k.Identity,
		TargetDSN: crypto.NewSecret(target.DSN), Keys: backup.Keys{k.Signer.Public()}, Parallel: 2}

	var rec *drill.Record
	stop := heapPeak()
	for b.Loop() {
		if rec, err = drill.Run(ctxT(b), o); err != nil {
			b.Fatal(err)
		}
	}
	peak := stop()
	b.SetBytes(rec.SQLBytes)
	b.ReportMetric(float64(rec.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(rec.Phases.LoadSeconds, "load-s")
	b.ReportMetric(rec.Phases.VerifySeconds, "verify-s")
	b.ReportMetric(rec.Phases.DownloadSeconds+rec.Phases.DecryptSeconds+rec.Phases.DecompressSeconds, "decode-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// heapPeak samples the Go heap until stopped and returns its peak.
func heapPeak() func() uint64 {
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
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}
