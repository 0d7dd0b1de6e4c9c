//go:build !unix

package daemon

import "os"

// Without flock the tailer still reads only whole lines; it can then see
// an append that a failed write later takes back, which only unix avoids.
const lockable = false

func lockShared(*os.File) error { return nil }
func unlock(*os.File)           {}
