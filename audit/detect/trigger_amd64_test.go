//go:build !noasm

package detect

import (
	"crypto/sha256"
	"runtime"
	"strings"
	"testing"
)

// scannerLoops are the scanner's nextTrigger with the SSE2 loop, which every
// x86-64 CPU runs whatever the build picks, and with the AVX2 loop where this
// build and CPU have it.
func scannerLoops(buf []byte) map[string]func(int) int {
	loops := map[string]func(int) int{"sse2": withLoop(buf, false)}
	if useAVX2 {
		loops["avx2"] = withLoop(buf, true)
	}
	return loops
}

// withLoop is the nextTrigger of a scanner of buf, with useAVX2 set to avx2
// for each call (tests run one at a time, none in parallel).
func withLoop(buf []byte, avx2 bool) func(int) int {
	s := &scanner{buf: buf}
	return func(i int) int {
		defer func(was bool) { useAVX2 = was }(useAVX2)
		useAVX2 = avx2
		return s.nextTrigger(i)
	}
}

// vectorRounds are the vector loops this CPU runs, called directly: SSE2
// always, AVX2 where this build and CPU have it.
func vectorRounds() map[string]func([]byte, int) (int, uint64) {
	loops := map[string]func([]byte, int) (int, uint64){"sse2": triggerSSE2}
	if useAVX2 {
		loops["avx2"] = triggerAVX2
	}
	return loops
}

// BenchmarkSHA256AfterSkip times SHA-256 of 1 KiB (SHA-NI or SSE code, as the
// fingerprints use) right after one call of a skip loop, the pattern of a
// scan. On Intel a 256-bit register left dirty makes every later SSE
// instruction pay, which cost the whole scan a factor of 3 before the vector
// loop ended in VZEROUPPER. after-avx2 and after-sse2 must stay level with
// after-swar on every CPU; after-dirty-upper shows what the penalty would be
// on this one (none on AMD Zen, where the check cannot fail).
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
	run("after-sse2", func() { at, _ := triggerSSE2(round, 0); sink += at })
	if !useAVX2 {
		b.Log("no AVX2 loop in this build or on this CPU")
		return
	}
	run("after-avx2", func() { at, _ := triggerAVX2(round, 0); sink += at })
	run("after-dirty-upper", dirtyUpper)
}

var sinkSum [32]byte
