package backup

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/fslock"
)

// ObjectKey is where a backup of job taken at t, encrypted with suite s,
// is stored:
//
//	<prefix><job>/YYYY/MM/DD/<job>-YYYYMMDDTHHMMSS.mmmZ-<tag>.sql.zst.age   (standard)
//	<prefix><job>/YYYY/MM/DD/<job>-YYYYMMDDTHHMMSS.mmmZ-<tag>.sql.zst.sm4   (sm)
//
// in UTC, with milliseconds. tag tells apart runs that take the same
// millisecond on different hosts (NewKey draws 32 random bits); "" leaves
// it out. Keys of one job sort in time order.
func ObjectKey(prefix, job string, s suite.Suite, t time.Time, tag string) string {
	t = t.UTC()
	if tag != "" {
		tag = "-" + tag
	}
	return prefix + job + "/" + t.Format("2006/01/02/") + job + "-" + t.Format("20060102T150405.000Z") + tag + ObjectSuffix(s)
}

// NewKey returns a key for a run of job in suite s starting at now that no other run
// takes: on this host, runs of the job take their time under a lock file in
// lockDir (the installation's state directory), each at least a millisecond
// after the last one, so two runs in the same second, at once, or after the
// clock stepped back never get the same key and keys keep the order runs
// started in; against other hosts (two installations writing one bucket),
// the random tag does. With lockDir "" only the tag does.
//
// A key that is new by construction is half of never overwriting a backup;
// the other half is Run's puts, creates that the server refuses on a taken
// key where it has conditional writes.
func NewKey(lockDir, prefix, job string, s suite.Suite, now time.Time) (string, error) {
	t := now.UTC().Truncate(time.Millisecond)
	if lockDir != "" {
		var err error
		if t, err = nextKeyTime(lockDir, job, t); err != nil {
			return "", fmt.Errorf("backup %s: key: %w", job, err)
		}
	}
	var tag [4]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return "", fmt.Errorf("backup %s: key: %w", job, err)
	}
	return ObjectKey(prefix, job, s, t, hex.EncodeToString(tag[:])), nil
}

// nextKeyTime returns t, or a millisecond after the time the job's previous
// run on this host took if t is not later, and records the time returned.
// The lock file holds that one time; losing it (a crash before the page
// cache reached the disk) loses only the ordering, never uniqueness, which
// the random tag keeps.
func nextKeyTime(dir, job string, t time.Time) (time.Time, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return t, err
	}
	f, err := fslock.Open(filepath.Join(dir, "backup-"+job+".lock"))
	if err != nil {
		return t, fmt.Errorf("lock: %w", err)
	}
	defer f.Close() // and with it the lock
	b, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return t, err
	}
	if last, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b))); err == nil && !t.After(last) {
		t = last.Add(time.Millisecond)
	}
	if err := f.Truncate(0); err != nil {
		return t, err
	}
	if _, err := f.WriteAt([]byte(t.Format(time.RFC3339Nano)+"\n"), 0); err != nil {
		return t, err
	}
	return t, nil
}
