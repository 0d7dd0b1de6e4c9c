package detect

import (
	"runtime"
	"strings"
	"testing"
)

var sink int

// BenchmarkFind counts identifiers in ~8 MiB of dense generated log text
// (every line holds a timestamp, most hold an identifier or a decoy number).
func BenchmarkFind(b *testing.B) {
	buf, n := denseLog(1, 8<<20)
	if got := Count(buf); got != n {
		b.Fatalf("found %d identifiers, generated %d", got, n)
	}
	benchCount(b, buf)
}

// benchCount reports MB/s (wall clock) and cpu-MB/s (per CPU second of the
// benchmarking thread).
func benchCount(b *testing.B, buf []byte) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	c0 := threadCPU()
	for i := 0; i < b.N; i++ {
		sink += Count(buf)
	}
	if cpu := threadCPU() - c0; cpu > 0 {
		b.ReportMetric(float64(len(buf))*float64(b.N)/1e6/cpu.Seconds(), "cpu-MB/s")
	}
}

// BenchmarkFindProse is the same over CJK prose with few numbers.
func BenchmarkFindProse(b *testing.B) {
	line := "参保人于本年度在定点医药机构就诊，结算金额按规定比例支付，个人账户余额不足时由统筹基金补足。Some English text as well, with words.\n"
	buf := []byte(strings.Repeat(line, (8<<20)/len(line)))
	benchCount(b, buf)
}
