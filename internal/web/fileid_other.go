//go:build !unix

package web

import "io/fs"

func fileID(fs.FileInfo) uint64 { return 0 }
