package backup_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto/suite"
)

// Keys never repeat: many runs in the same millisecond on one host (the
// lock), on hosts without a shared lock (the tag), and after the clock
// steps back, when the lock also keeps them in the order runs started.
func TestNewKeyNeverRepeats(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 14, 50, 33, 0, time.UTC)
	const n = 50
	keys := make([]string, 2*n)
	var wg sync.WaitGroup
	for i := range keys {
		lockDir := dir
		if i >= n {
			lockDir = "" // another host: no shared lock
		}
		wg.Go(func() {
			k, err := backup.NewKey(lockDir, "yb/", "yb-nightly", suite.Standard, now)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(keys) {
		t.Fatalf("keys repeat: %v", keys)
	}
	// On the locked host each run took its own millisecond.
	stamps := map[string]bool{}
	for _, k := range keys[:n] {
		stamp := k[strings.LastIndex(k, "yb-nightly-")+len("yb-nightly-"):]
		stamps[stamp[:strings.IndexByte(stamp, '-')]] = true
		if !strings.HasPrefix(k, "yb/yb-nightly/2026/12/06/yb-nightly-20261206T14") || !strings.HasSuffix(k, backup.ObjectSuffix(suite.Standard)) {
			t.Errorf("key %s", k)
		}
	}
	if len(stamps) != n {
		t.Errorf("%d runs under the lock took %d distinct times", n, len(stamps))
	}

	// The clock steps back an hour: the next key still sorts after.
	last := slices.Max(keys[:n])
	back, err := backup.NewKey(dir, "yb/", "yb-nightly", suite.Standard, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if back <= last {
		t.Errorf("after the clock stepped back: %s sorts before %s", back, last)
	}
}
