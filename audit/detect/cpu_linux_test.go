package detect

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time the calling OS thread has used; benchmarks lock
// their goroutine to a thread and report throughput per CPU second next to
// the wall-clock figure, which a busy machine inflates.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
