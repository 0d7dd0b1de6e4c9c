package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/atrest/atrest/internal/fslock"
)

// MinFree is the room Preflight wants on the journal's filesystem: a run's
// entries are at most MaxLineBytes each and a checkpoint record a few KiB,
// so this holds the start of a run, its end, a checkpoint and a new segment
// with room to spare.
const MinFree = 4 * MaxLineBytes

// minInodes is what a new segment, a checkpoint's temporary file and the
// probe need.
const minInodes = 8

// lockWait bounds the wait for the journal's lock: appenders hold it for
// an fsync, so a longer wait means a process is stuck holding it.
var lockWait = 10 * time.Second

// Preflight checks, before work whose record must not be lost, that the
// journal in dir can take entries now: the directory exists or can be made
// and can be written (a probe file is created, written, synced and removed:
// a read-only mount, missing permissions or an exhausted quota fail here),
// its filesystem has MinFree bytes and a few inodes free for this user, the
// lock can be taken within a few seconds, and the tail is not torn. It
// cannot promise that the disk will not fill while the work runs: a run
// journals its start before it acts, so the next run can tell what a run
// that could not journal its end left behind.
func Preflight(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if bytes, inodes, ok, err := freeSpace(dir); err != nil {
		return fmt.Errorf("journal: %s: %w", dir, err)
	} else if ok && bytes < MinFree {
		return fmt.Errorf("journal: %s: %d KiB free, less than the %d KiB a run needs to be recorded", dir, bytes>>10, MinFree>>10)
	} else if ok && inodes < minInodes {
		return fmt.Errorf("journal: %s: %d inodes free, a run needs %d to be recorded", dir, inodes, minInodes)
	}
	if err := probeWrite(dir); err != nil {
		return fmt.Errorf("journal: %s cannot be written: %w", dir, err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer lf.Close()
	if err := tryLock(lf, lockWait); err != nil {
		return err
	}
	defer funlock(lf)
	// A torn tail stops appends until an operator runs recovery.
	if _, _, err := (&Journal{dir: dir}).readLastCheckpoint(); err != nil {
		return err
	}
	sn, err := takeSnapshotLocked(dir)
	if err != nil {
		return err
	}
	if n := len(sn.segs); n > 0 {
		s := sn.segs[n-1]
		if _, frag, _, err := lastLine(filepath.Join(dir, s.name)); err != nil {
			return fmt.Errorf("journal: %w", err)
		} else if len(frag) > 0 {
			return fmt.Errorf("%w: %s ends without a newline; appends stop until journal.Recover is run", ErrTorn, s.name)
		}
	}
	return nil
}

// tryLock takes f's exclusive lock, trying until wait has passed.
func tryLock(f *os.File, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		ok, err := fslock.TryLock(f)
		switch {
		case err != nil:
			return fmt.Errorf("journal: %w", err)
		case ok:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("journal: lock %s: held by another process for more than %s", f.Name(), wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probeWrite creates, writes, syncs and removes a file in dir.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".preflight-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, 4096))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
