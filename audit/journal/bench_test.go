package journal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/atrest/atrest/crypto/suite"
)

// BenchmarkAppend measures the append rate with an fsync per entry and with
// one fsync per batch of 1000.
func BenchmarkAppend(b *testing.B) {
	key, _ := testKey(b)
	b.Run("fsync-each", func(b *testing.B) {
		j := mustOpen(b, b.TempDir(), key, Options{})
		defer j.Close()
		e := testEntry(1)
		b.ResetTimer()
		for b.Loop() {
			if _, err := j.Append(e); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("batch-1000", func(b *testing.B) {
		j := mustOpen(b, b.TempDir(), key, Options{})
		defer j.Close()
		batch := make([]Entry, 1000)
		for i := range batch {
			batch[i] = testEntry(i)
		}
		n := 0
		b.ResetTimer()
		for b.Loop() {
			if _, err := j.AppendBatch(batch); err != nil {
				b.Fatal(err)
			}
			n += len(batch)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
	})
}

// BenchmarkVerify1M builds a journal of 1M entries once per suite (batched
// appends, a checkpoint every 1000 entries) and times Verify over it:
// SHA-256 and Ed25519, or SM3 and SM2.
func BenchmarkVerify1M(b *testing.B) {
	const total = 1_000_000
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		b.Run(s.Name(), func(b *testing.B) {
			key := testKeyOf(b, s)
			dir := b.TempDir()
			j := mustOpen(b, dir, key, Options{})
			batch := make([]Entry, 1000)
			for i := range batch {
				batch[i] = testEntry(i)
			}
			for n := 0; n < total; n += len(batch) {
				if _, err := j.AppendBatch(batch); err != nil {
					b.Fatal(err)
				}
			}
			if err := j.Close(); err != nil {
				b.Fatal(err)
			}
			var size int64
			segs, _ := filepath.Glob(filepath.Join(dir, "segment-*.jsonl"))
			for _, s := range segs {
				fi, _ := os.Stat(s)
				size += fi.Size()
			}
			b.SetBytes(size)
			b.ResetTimer()
			for b.Loop() {
				rep, err := Verify(dir, key.Public(), nil)
				if err != nil || rep.Entries != total || rep.NewestCheckpoint.Size != total {
					b.Fatalf("verify: %v %+v", err, rep)
				}
			}
			b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
