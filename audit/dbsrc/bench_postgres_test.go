package dbsrc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine/postgres"
	"github.com/atrest/atrest/internal/testenv"
)

var samplePG1MNs float64 // for the 10k benchmarks' ratios

// BenchmarkSamplePostgres: time to sample 1000 rows from a 1M-row and a
// 10k-row PostgreSQL table, by key ranges and (a copy without a key) by
// TABLESAMPLE; the ratios should be near 1. ORDER BY random() LIMIT 1000
// on the big table for contrast.
func BenchmarkSamplePostgres(b *testing.B) {
	pg := testenv.Postgres(b)
	db := pg.CreateDatabase(b, "bench_pg")
	start := time.Now()
	for _, n := range []int{1_000_000, 10_000} {
		pg.Exec(b, db,
			fmt.Sprintf("CREATE SCHEMA s%d", n),
			fmt.Sprintf(`CREATE TABLE s%d.t (id bigint PRIMARY KEY, sfzh char(18), sjhm bigint, note varchar(64), payload bytea)`, n),
			fmt.Sprintf(`INSERT INTO s%d.t SELECT g, '110105' || to_char(DATE '1950-01-01' + (g %% 20000)::int, 'YYYYMMDD') || lpad((g %% 10000)::text, 4, '0'),
				13800000000 + g, 'trace ' || g * 7919 || ' ok', sha256(g::text::bytea) FROM generate_series(1::bigint, %d) g`, n, n),
			fmt.Sprintf("CREATE TABLE s%d.nokey AS SELECT * FROM s%d.t", n, n),
			fmt.Sprintf("ANALYZE s%d.t, s%d.nokey", n, n))
	}
	b.Logf("generated 1M + 10k rows in %v", time.Since(start).Round(time.Millisecond))
	dsn := pg.DSNFor(pg.User, pg.Password, db)
	scanOnce := func(b *testing.B, schema string) {
		var sampled int
		err := Scan(context.Background(), Options{Engine: postgres.Engine{}, DSN: crypto.NewSecret(dsn), Databases: []string{schema},
			Sample: 1000, Parallel: 1},
			func(r any) {
				if t, ok := r.(*TableRecord); ok {
					sampled += t.Sampled
				}
			})
		if err != nil {
			b.Fatal(err)
		}
		if sampled < 1800 {
			b.Fatalf("sampled %d rows from two tables", sampled)
		}
	}
	b.Run("rows=1M", func(b *testing.B) {
		for b.Loop() {
			scanOnce(b, "s1000000")
		}
		samplePG1MNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(samplePG1MNs/1e6, "ms/sample-2-tables")
	})
	b.Run("rows=10k", func(b *testing.B) {
		for b.Loop() {
			scanOnce(b, "s10000")
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(ns/1e6, "ms/sample-2-tables")
		if samplePG1MNs > 0 {
			b.ReportMetric(samplePG1MNs/ns, "ratio-1M/10k")
		}
	})
	b.Run("orderbyrandom-rows=1M", func(b *testing.B) {
		c := pg.Connect(b, db)
		for b.Loop() {
			rows, err := c.Query(context.Background(), "SELECT sfzh, sjhm, note, payload FROM s1000000.t ORDER BY random() LIMIT 1000")
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
		if samplePG1MNs > 0 {
			b.ReportMetric(ns/(samplePG1MNs/2), "x-slower-than-sampling-a-table")
		}
	})
}
