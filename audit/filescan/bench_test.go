//go:build unix

package filescan

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/audit/filesrc"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/gen"
	"github.com/atrest/atrest/internal/output"
)

// denseLogFile writes mib MiB of the dense mixed log that make bench scans
// (internal/gen's LogLine, as scripts/gendemo -log writes it).
func denseLogFile(b *testing.B, mib int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "dense.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	g := gen.New(1)
	for i, n := 0, 0; n < mib<<20; i++ {
		k, _ := w.WriteString(g.LogLine(i) + "\n")
		n += k
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkScanFile is the whole file scan of one dense log, as `atrest scan
// files --format jsonl` runs it: read, sniff and decode (filesrc), detect,
// mask, fingerprint, and every finding encoded as jsonl (to io.Discard).
// BenchmarkFind in audit/detect times the detectors alone; this one catches
// what they do to the rest (a vector loop that left the AVX upper state dirty
// cost the whole scan a factor of 3 on Intel while BenchmarkFind hid most of
// it). Findings per op are reported, so a change in what is found shows too,
// and cpu-MB/s: bytes per CPU second of the whole process (every goroutine,
// the garbage collector included), which a busy machine inflates less than
// the wall clock.
func BenchmarkScanFile(b *testing.B) {
	path := denseLogFile(b, 32)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	scanFile := func(b *testing.B, fp *crypto.Fingerprinter, workers int) {
		b.SetBytes(fi.Size())
		findings := 0
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			w, err := output.New("jsonl", io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			s := New(Options{Files: filesrc.Options{Workers: workers}, Fingerprint: fp, Workers: workers})
			sum, err := s.Run(context.Background(), []string{path}, func(r audit.Record) error { return w.Write(r) })
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			findings = sum.Findings
		}
		if cpu := processCPU() - c0; cpu > 0 {
			b.ReportMetric(float64(fi.Size())*float64(b.N)/1e6/cpu, "cpu-MB/s")
		}
		b.ReportMetric(float64(findings), "findings/op")
	}
	fp := crypto.NewFingerprinter(make([]byte, 32))
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) { scanFile(b, fp, workers) })
	}
	// An installation of the sm suite fingerprints with HMAC-SM3, in
	// software: SM3 has no instruction of its own, where SHA-256 has SHA-NI.
	sm := crypto.NewFingerprinterWith(make([]byte, 32), suite.SM)
	b.Run("suite=sm/workers=1", func(b *testing.B) { scanFile(b, sm, 1) })
}

// processCPU is the user and system time of the process so far, in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
