//go:build !noavx2

package detect

import (
	"crypto/sha256"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkSHA256AfterSkip times SHA-256 of 1 KiB (SHA-NI or SSE code, as the
// fingerprints use) right after one call of a skip loop, the pattern of a
// scan. On Intel a 256-bit register left dirty makes every later SSE
// instruction pay, which cost the whole scan a factor of 3 before the vector
// loop ended in VZEROUPPER. after-avx2 must stay level with after-swar on
// every CPU; after-dirty-upper shows what the penalty would be on this one
// (none on AMD Zen, where the check cannot fail).
func BenchmarkSHA256AfterSkip(b *testing.B) {
	block := make([]byte, 1024)
	round := []byte(strings.Repeat("x", 128)) // no trigger: two rounds, then the tail
	run := func(name string, before func()) {
		b.Run(name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.SetBytes(int64(len(block)))
			c0 := threadCPU()
			for i := 0; i < b.N; i++ {
				before()
				sinkSum = sha256.Sum256(block)
			}
			if cpu := threadCPU() - c0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
	run("alone", func() {})
	run("after-swar", func() { sink += nextTriggerSWAR(round, 0) })
	if !useAVX2 {
		b.Log("no AVX2 on this CPU")
		return
	}
	run("after-avx2", func() { at, _ := triggerAVX2(round, 0); sink += at })
	run("after-dirty-upper", dirtyUpper)
}

var sinkSum [32]byte
