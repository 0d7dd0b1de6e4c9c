package backup_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/internal/testenv"
)

// blindStat is a store whose Stat never finds anything: what a run sees
// when another one takes the key between its Stat and its upload.
type blindStat struct{ backup.ObjectStore }

func (b blindStat) Stat(ctx context.Context, key string) (backup.ObjectInfo, error) {
	return backup.ObjectInfo{}, fmt.Errorf("blind: %w", backup.ErrNotFound)
}

// TestRunsAtOnceNeverCollide is issues 16.2 and 11.5 for backup.Run on
// versitygw, in a bucket without versioning (where an overwrite destroys):
// two runs of one job at the same instant give two backups with keys of
// their own; a run handed a taken key refuses, by its Stat and, when the
// Stat misses it, by the server's conditional create; the backup already
// there stays whole.
func TestRunsAtOnceNeverCollide(t *testing.T) {
	db, database := source(t)
	srv := testenv.S3(t)
	store := s3Store(t, srv, srv.Bucket(t, "collide", false))
	k := newKeys(t)
	lockDir := t.TempDir()
	instant := time.Now()

	var ms [2]*backup.Manifest
	var errs [2]error
	var wg sync.WaitGroup
	for i := range ms {
		wg.Go(func() {
			o := runOpts(k, db, database, store)
			o.Now = func() time.Time { return instant }
			if o.Key, errs[i] = backup.NewKey(lockDir, o.Prefix, o.Job, o.Suite, instant); errs[i] == nil {
				ms[i], errs[i] = backup.Run(ctxT(t), o)
			}
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("runs at once: %v; %v", errs[0], errs[1])
	}
	if ms[0].Object.Key == ms[1].Object.Key {
		t.Fatalf("both runs stored %s", ms[0].Object.Key)
	}

	for _, s := range []backup.ObjectStore{store, blindStat{store}} {
		o := runOpts(k, db, database, s)
		o.Key = ms[0].Object.Key
		_, err := backup.Run(ctxT(t), o)
		if err == nil {
			t.Fatalf("a run with a taken key succeeded (%T)", s)
		}
		if _, blind := s.(blindStat); blind && !errors.Is(err, backup.ErrExists) {
			t.Errorf("conditional create: %v, want ErrExists", err)
		}
		t.Logf("%T: %v", s, err)
	}

	res, err := check.Run(ctxT(t), check.Options{Job: check.Job{Name: "yb-nightly", Prefix: "yb/", RPO: time.Hour},
		Store: store, Read: true, ReadAll: true, Identities: k.ids(), Keys: k.pub()})
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, r := range res {
		if r.Check == check.Integrity && r.Status == check.Pass {
			read++
		}
		if r.Status == check.Fail && r.Check != check.Versioning && r.Check != check.ObjectLock {
			t.Errorf("%s: %s %s", r.Check, r.Status, r.Detail)
		}
	}
	if read != 2 {
		t.Errorf("%d backups read whole, want 2", read)
	}
}
