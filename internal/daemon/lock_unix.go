//go:build unix

package daemon

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockShared takes the journal's lock for reading, as journal.Query does,
// so that the tailer never sees half of an append.
const lockable = true

func lockShared(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_SH)
		if err != unix.EINTR {
			return err
		}
	}
}

func unlock(f *os.File) { unix.Flock(int(f.Fd()), unix.LOCK_UN) }
