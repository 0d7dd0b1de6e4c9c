//go:build unix

package journal

import (
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
