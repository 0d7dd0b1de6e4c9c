package dbsrc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

// genTable creates name.t with n rows of ID-, phone- and note-like columns,
// fast: INSERT … SELECT from MariaDB's SEQUENCE engine.
func genTable(b *testing.B, srv *testenv.DB, name string, n int) {
	b.Helper()
	srv.Exec(b,
		"CREATE TABLE `"+name+"`.t (id BIGINT PRIMARY KEY, sfzh CHAR(18), sjhm BIGINT, note VARCHAR(64), payload VARBINARY(64))",
		fmt.Sprintf("INSERT INTO `%s`.t SELECT seq, "+
			"CONCAT('110105', DATE_FORMAT(DATE('1950-01-01') + INTERVAL (seq %% 20000) DAY, '%%Y%%m%%d'), LPAD(seq %% 10000, 4, '0')), "+
			"13800000000 + seq, CONCAT('trace ', seq * 7919, ' ok'), RANDOM_BYTES(48) "+
			"FROM `%s`.seq_1_to_%d", name, name, n),
		"ANALYZE TABLE `"+name+"`.t")
}

var sample1MNs float64 // for the 10k benchmark's ratio

// BenchmarkSample: time to sample 1000 rows from a 1M-row and a 10k-row
// table (the ratio should be near 1: cost does not grow with size), and
// ORDER BY RAND() LIMIT 1000 on the big table for contrast.
func BenchmarkSample(b *testing.B) {
	srv := testenv.MariaDB(b)
	big := srv.CreateDatabase(b, "bench_big")
	small := srv.CreateDatabase(b, "bench_small")
	start := time.Now()
	genTable(b, srv, big, 1_000_000)
	genTable(b, srv, small, 10_000)
	b.Logf("generated 1M + 10k rows in %v", time.Since(start).Round(time.Millisecond))

	scanOnce := func(b *testing.B, db string) {
		var sampled int
		err := Scan(context.Background(), Options{Engine: mysql.Engine{}, DSN: crypto.NewSecret(srv.DSN), Databases: []string{db}, Sample: 1000},
			func(r any) {
				if t, ok := r.(*TableRecord); ok {
					sampled += t.Sampled
				}
			})
		if err != nil {
			b.Fatal(err)
		}
		if sampled != 1000 {
			b.Fatalf("sampled %d rows", sampled)
		}
	}
	b.Run("rows=1M", func(b *testing.B) {
		for b.Loop() {
			scanOnce(b, big)
		}
		sample1MNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(sample1MNs/1e6, "ms/sample")
	})
	b.Run("rows=10k", func(b *testing.B) {
		for b.Loop() {
			scanOnce(b, small)
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(ns/1e6, "ms/sample")
		if sample1MNs > 0 {
			b.ReportMetric(sample1MNs/ns, "ratio-1M/10k")
		}
	})
	b.Run("orderbyrand-rows=1M", func(b *testing.B) {
		c := srv.Open(b, big)
		for b.Loop() {
			rows, err := c.Query("SELECT sfzh, sjhm, note, payload FROM t ORDER BY RAND() LIMIT 1000")
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if n != 1000 {
				b.Fatalf("%d rows", n)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(ns/1e6, "ms/sample")
		if sample1MNs > 0 {
			b.ReportMetric(ns/sample1MNs, "x-slower-than-sampling")
		}
	})
	b.Run("schema", func(b *testing.B) {
		// The whole generated schema: both databases, every table.
		for b.Loop() {
			err := Scan(context.Background(), Options{Engine: mysql.Engine{}, DSN: crypto.NewSecret(srv.DSN), Databases: []string{big, small}, Sample: 1000},
				func(any) {})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/scan")
	})
}
