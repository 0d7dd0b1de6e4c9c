//go:build !unix

package web

import "os"

// lockFile is a no-op where flock(2) is missing: concurrent `atrest user`
// commands can then lose an update.
func lockFile(*os.File) error { return nil }
