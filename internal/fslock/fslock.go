// Package fslock serialises processes through flock(2) on a file: the
// journal's appends, the users file's updates, a backup job's runs, the
// syslog cursor. flock locks belong to the open file description, so two
// opens in one process exclude each other just as two processes do, and the
// kernel drops a lock when its holder dies (kill -9 leaves no stale lock).
package fslock

import (
	"errors"
	"os"
)

// ErrUnsupported is returned where the system has no flock(2).
var ErrUnsupported = errors.New("file locks (flock(2)) are not available on this system")

// Open opens (creating, mode 0600) the lock file at path and takes an
// exclusive lock on it, waiting for it. Close the file to release it.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := Lock(f, true); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// TryOpen is Open without waiting: it returns nil, nil when another holder
// has the lock.
func TryOpen(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	ok, err := TryLock(f)
	if err != nil || !ok {
		f.Close()
		return nil, err
	}
	return f, nil
}
