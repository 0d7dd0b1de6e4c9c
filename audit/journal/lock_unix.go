//go:build unix

package journal

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// flock takes an flock(2) lock on f, waiting for it. flock locks belong to
// the open file description, so two Journals in one process exclude each
// other just as two processes do.
func flock(f *os.File, exclusive bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("journal: lock %s: %w", f.Name(), err)
		}
		return nil
	}
}

func funlock(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_UN)
}
