//go:build unix

package journal

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, user and system: a
// benchmark figure that other work on a busy machine disturbs less than
// wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
