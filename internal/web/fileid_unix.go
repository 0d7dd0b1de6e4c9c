//go:build unix

package web

import (
	"io/fs"
	"syscall"
)

// fileID is the inode: a rename over the file changes it even when size
// and mtime happen to match.
func fileID(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
