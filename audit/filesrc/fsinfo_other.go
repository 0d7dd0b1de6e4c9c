//go:build !linux

package filesrc

import "io/fs"

func devOf(fs.FileInfo) (uint64, bool) { return 0, false }

func pseudoFSOf(string, uint64) string { return "" }
