//go:build !unix

package fslock

import "os"

// Lock fails where flock(2) is missing.
func Lock(*os.File, bool) error { return ErrUnsupported }

// TryLock fails where flock(2) is missing.
func TryLock(*os.File) (bool, error) { return false, ErrUnsupported }

// Unlock does nothing where flock(2) is missing.
func Unlock(*os.File) error { return nil }
