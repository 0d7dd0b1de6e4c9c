//go:build unix

package journal

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// freeSpace is what statfs(2) says is free on dir's filesystem for an
// unprivileged user: bytes and inodes (inodes is large where the
// filesystem does not count them).
func freeSpace(dir string) (bytes, inodes uint64, ok bool, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, false, err
	}
	inodes = st.Ffree
	if st.Files == 0 {
		inodes = ^uint64(0) // not counted (btrfs, some network filesystems)
	}
	return st.Bavail * uint64(st.Bsize), inodes, true, nil
}

// tryLock takes f's exclusive lock, trying until wait has passed.
func tryLock(f *os.File, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case err == unix.EINTR:
			continue
		case err != unix.EWOULDBLOCK:
			return fmt.Errorf("journal: lock %s: %w", f.Name(), err)
		case time.Now().After(deadline):
			return fmt.Errorf("journal: lock %s: held by another process for more than %s", f.Name(), wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
