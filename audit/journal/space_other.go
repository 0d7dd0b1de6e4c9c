//go:build !unix

package journal

import (
	"os"
	"time"
)

// freeSpace is unknown here; the probe write in Preflight still runs.
func freeSpace(string) (bytes, inodes uint64, ok bool, err error) { return 0, 0, false, nil }

func tryLock(f *os.File, _ time.Duration) error { return flock(f, true) }
