package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Preflight refuses a journal that could not take an entry now: a lock
// someone holds, a torn tail; and passes a healthy one, new or not.
// (A full filesystem: cmd/atrest TestFullStateDisk, on a tmpfs.)
func TestPreflight(t *testing.T) {
	key, _ := testKey(t)
	dir := filepath.Join(t.TempDir(), "journal")
	if err := Preflight(dir); err != nil {
		t.Fatalf("new journal: %v", err)
	}
	j := mustOpen(t, dir, key, Options{})
	appendN(t, j, 1, 3)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Preflight(dir); err != nil {
		t.Fatalf("healthy journal: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".preflight-*")); len(left) != 0 {
		t.Errorf("probe files left: %v", left)
	}

	// Someone holds the lock (a stuck process).
	defer func(w time.Duration) { lockWait = w }(lockWait)
	lockWait = 100 * time.Millisecond
	lf, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := flock(lf, true); err != nil {
		t.Fatal(err)
	}
	if err := Preflight(dir); err == nil || !strings.Contains(err.Error(), "held by another process") || strings.Count(err.Error(), "journal:") != 1 {
		t.Errorf("held lock: %v", err)
	}
	lf.Close()

	// A crash cut the last line.
	seg := filepath.Join(dir, segName(1))
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":4,"ti`)
	f.Close()
	if err := Preflight(dir); !errors.Is(err, ErrTorn) || strings.Count(err.Error(), "journal:") != 1 {
		t.Errorf("torn tail: %v", err)
	}
}
