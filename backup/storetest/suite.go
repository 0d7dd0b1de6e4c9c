// Package storetest holds what tests of object storage need: Run, the
// conformance suite every backup.ObjectStore must pass (real S3 servers and
// fakes alike); Mem, an in-memory store with a settable posture; Faulty,
// which injects faults at the ObjectStore seam for the tests of backup,
// check and drill code; and Proxy, which injects them on the wire in front
// of a real server for the tests of s3store.
//
// Nothing here may be imported by non-test code.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
)

// LargeSize is the size of the suite's streamed object: several parts of any
// sensible part size, and larger than the memory a Put may take.
const LargeSize = 64 << 20

// Run runs the conformance suite against the stores newStore returns; each
// call must give an empty store (a fresh bucket) that the test may fill.
func Run(t *testing.T, newStore func(t *testing.T) backup.ObjectStore) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("Missing", func(t *testing.T) { testMissing(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { testList(t, newStore(t)) })
	t.Run("Empty", func(t *testing.T) { testEmpty(t, newStore(t)) })
	t.Run("Checksum", func(t *testing.T) { testChecksum(t, newStore(t)) })
	t.Run("SizeMismatch", func(t *testing.T) { testSizeMismatch(t, newStore(t)) })
	t.Run("LargeStreamed", func(t *testing.T) { testLarge(t, newStore(t), LargeSize) })
	t.Run("UnknownSize", func(t *testing.T) { testLarge(t, newStore(t), -1) })
	t.Run("CancelledPut", func(t *testing.T) { testCancelledPut(t, newStore(t)) })
	t.Run("IfAbsent", func(t *testing.T) { testIfAbsent(t, newStore(t)) })
	t.Run("Posture", func(t *testing.T) { testPosture(t, newStore(t)) })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, s backup.ObjectStore, key string, data []byte, opts backup.PutOptions) backup.ObjectInfo {
	t.Helper()
	info, err := s.Put(ctxT(t), key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return info
}

func get(t *testing.T, s backup.ObjectStore, key string) ([]byte, backup.ObjectInfo) {
	t.Helper()
	rc, info, err := s.Get(ctxT(t), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("get %s: read: %v", key, err)
	}
	return b, info
}

func testRoundTrip(t *testing.T, s backup.ObjectStore) {
	data := []byte("atrest round trip\n")
	pi := put(t, s, "rt/a.txt", data, backup.PutOptions{ContentType: "text/plain"})
	if pi.Key != "rt/a.txt" || pi.Size != int64(len(data)) {
		t.Errorf("put returned %+v", pi)
	}
	got, gi := get(t, s, "rt/a.txt")
	if !bytes.Equal(got, data) {
		t.Fatalf("get = %q, want %q", got, data)
	}
	if gi.Size != int64(len(data)) || gi.Key != "rt/a.txt" {
		t.Errorf("get info %+v", gi)
	}
	st, err := s.Stat(ctxT(t), "rt/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if st.Key != "rt/a.txt" || st.Size != int64(len(data)) || st.ETag == "" || st.LastModified.IsZero() {
		t.Errorf("stat = %+v", st)
	}
	if d := time.Since(st.LastModified); d < -time.Hour || d > time.Hour {
		t.Errorf("LastModified %v is not now", st.LastModified)
	}
	if st.ETag != pi.ETag && pi.ETag != "" {
		t.Errorf("stat ETag %q, put ETag %q", st.ETag, pi.ETag)
	}

	// Overwrite, then delete; deleting again is not an error.
	put(t, s, "rt/a.txt", []byte("v2"), backup.PutOptions{})
	if got, _ := get(t, s, "rt/a.txt"); string(got) != "v2" {
		t.Fatalf("after overwrite get = %q", got)
	}
	if err := s.Delete(ctxT(t), "rt/a.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctxT(t), "rt/a.txt"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("stat after delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctxT(t), "rt/a.txt"); err != nil {
		t.Fatalf("delete of a deleted key: %v", err)
	}
}

func testMissing(t *testing.T, s backup.ObjectStore) {
	if _, err := s.Stat(ctxT(t), "no/such.key"); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("stat missing: %v, want ErrNotFound", err)
	}
	rc, _, err := s.Get(ctxT(t), "no/such.key")
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("get missing: %v, want ErrNotFound", err)
	}
	if err != nil && !bytes.Contains([]byte(err.Error()), []byte("no/such.key")) {
		t.Errorf("error %q does not name the key", err)
	}
	for _, e := range []error{backup.ErrNoBucket, backup.ErrAccessDenied, backup.ErrUnreachable} {
		if errors.Is(err, e) {
			t.Errorf("get missing: %v is also %v", err, e)
		}
	}
}

func testList(t *testing.T, s backup.ObjectStore) {
	keys := []string{"l/a/1", "l/a/2", "l/a/b/3", "l/ab", "l/b/4"}
	for i, k := range keys {
		put(t, s, k, bytes.Repeat([]byte{'x'}, i+1), backup.PutOptions{})
	}
	list := func(prefix string) []backup.ObjectInfo {
		var out []backup.ObjectInfo
		for oi, err := range s.List(ctxT(t), prefix) {
			if err != nil {
				t.Fatalf("list %q: %v", prefix, err)
			}
			out = append(out, oi)
		}
		return out
	}
	got := list("l/a/")
	var names []string
	for _, oi := range got {
		names = append(names, oi.Key)
	}
	if want := []string{"l/a/1", "l/a/2", "l/a/b/3"}; !slices.Equal(names, want) {
		t.Fatalf("list l/a/ = %q, want %q (recursive, in key order)", names, want)
	}
	for i, oi := range got {
		if oi.Size != int64(i+1) || oi.LastModified.IsZero() {
			t.Errorf("listed %+v", oi)
		}
	}
	if n := len(list("l/")); n != len(keys) {
		t.Errorf("list l/ gave %d objects, want %d", n, len(keys))
	}
	if n := len(list("nothing/")); n != 0 {
		t.Errorf("list of an empty prefix gave %d objects", n)
	}
	// Breaking off a listing must not hang or leak.
	for range s.List(ctxT(t), "l/") {
		break
	}
	// A cancelled listing ends with an error, not silently empty.
	ctx, cancel := context.WithCancel(ctxT(t))
	cancel()
	var err error
	n := 0
	for _, e := range s.List(ctx, "l/") {
		if e != nil {
			err = e
			break
		}
		n++
	}
	if err == nil {
		t.Errorf("cancelled list gave %d objects and no error", n)
	}
}

func testEmpty(t *testing.T, s backup.ObjectStore) {
	for _, size := range []int64{0, -1} {
		info, err := s.Put(ctxT(t), "empty", bytes.NewReader(nil), size, backup.PutOptions{})
		if err != nil {
			t.Fatalf("put empty (size %d): %v", size, err)
		}
		if info.Size != 0 {
			t.Errorf("put empty: size %d", info.Size)
		}
		if got, _ := get(t, s, "empty"); len(got) != 0 {
			t.Errorf("get empty = %d bytes", len(got))
		}
	}
}

func testChecksum(t *testing.T, s backup.ObjectStore) {
	data := []byte("manifest-sized object with a checksum")
	sum := sha256.Sum256(data)
	want := base64.StdEncoding.EncodeToString(sum[:])
	pi := put(t, s, "ck/small", data, backup.PutOptions{ChecksumSHA256: true})
	st, err := s.Stat(ctxT(t), "ck/small")
	if err != nil {
		t.Fatal(err)
	}
	if st.ChecksumSHA256 != want {
		t.Errorf("stat checksum %q, want SHA-256 %q", st.ChecksumSHA256, want)
	}
	if pi.ChecksumSHA256 != "" && pi.ChecksumSHA256 != want {
		t.Errorf("put checksum %q, want %q", pi.ChecksumSHA256, want)
	}

	// Multipart: a composite checksum, stable between Put and Stat.
	big := make([]byte, 40<<20)
	fill(big, 7)
	pi = put(t, s, "ck/big", big, backup.PutOptions{ChecksumSHA256: true})
	st, err = s.Stat(ctxT(t), "ck/big")
	if err != nil {
		t.Fatal(err)
	}
	if st.ChecksumSHA256 == "" || st.ChecksumSHA256 != pi.ChecksumSHA256 {
		t.Errorf("large object: stat checksum %q, put checksum %q", st.ChecksumSHA256, pi.ChecksumSHA256)
	}
	_, gi := get(t, s, "ck/big")
	if gi.ChecksumSHA256 != st.ChecksumSHA256 {
		t.Errorf("get checksum %q, stat checksum %q", gi.ChecksumSHA256, st.ChecksumSHA256)
	}

	// Without asking, a store may keep another checksum, never a wrong one.
	put(t, s, "ck/none", data, backup.PutOptions{})
	if st, err := s.Stat(ctxT(t), "ck/none"); err != nil {
		t.Fatal(err)
	} else if st.ChecksumSHA256 != "" && st.ChecksumSHA256 != want {
		t.Errorf("unasked checksum %q is wrong", st.ChecksumSHA256)
	}
}

func testSizeMismatch(t *testing.T, s backup.ObjectStore) {
	data := []byte("0123456789")
	if _, err := s.Put(ctxT(t), "sz/short", bytes.NewReader(data), 20, backup.PutOptions{}); err == nil {
		t.Error("put of 10 bytes as 20 succeeded")
	}
	if _, err := s.Put(ctxT(t), "sz/long", bytes.NewReader(data), 5, backup.PutOptions{}); err == nil {
		t.Error("put of 10 bytes as 5 succeeded")
	} else {
		t.Logf("put of 10 bytes as 5: %v", err)
	}
	for _, k := range []string{"sz/short", "sz/long"} {
		if _, err := s.Stat(ctxT(t), k); !errors.Is(err, backup.ErrNotFound) {
			t.Errorf("after a failed put, stat %s: %v, want ErrNotFound", k, err)
		}
	}
}

// gen is a deterministic pseudo-random reader of n bytes that hashes what it
// gives, so a large object needs no memory to make or to check.
type gen struct {
	rng  *mrand.ChaCha8
	left int64
	h    hash.Hash
	// after, once left drops to it, calls hook (once).
	after int64
	hook  func()
}

func newGen(seed byte, n int64) *gen {
	var s [32]byte
	s[0] = seed
	return &gen{rng: mrand.NewChaCha8(s), left: n, h: sha256.New(), after: -1}
}

func (g *gen) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	g.rng.Read(p)
	g.h.Write(p)
	g.left -= int64(len(p))
	if g.hook != nil && g.left <= g.after {
		g.hook()
		g.hook = nil
	}
	return len(p), nil
}

func fill(b []byte, seed byte) {
	g := newGen(seed, int64(len(b)))
	io.ReadFull(g, b)
}

// memoryBounded is implemented by stores that keep objects in memory (Mem),
// for which the memory test means nothing.
type memoryBounded interface{ HoldsObjectsInMemory() }

// heapPeak samples the heap in use until stop is called and returns the
// highest value seen above the starting one.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak {
				peak = ms.HeapInuse - base
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak }
}

func testLarge(t *testing.T, s backup.ObjectStore, size int64) {
	_, inMemory := s.(memoryBounded)
	n := int64(LargeSize)
	g := newGen(1, n)
	stop := heapPeak()
	info, err := s.Put(ctxT(t), "large/obj", g, size, backup.PutOptions{})
	putPeak := stop()
	if err != nil {
		t.Fatalf("put %d bytes (size %d): %v", n, size, err)
	}
	if info.Size != n {
		t.Errorf("put returned size %d, want %d", info.Size, n)
	}
	want := g.h.Sum(nil)

	rc, gi, err := s.Get(ctxT(t), "large/obj")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	stop = heapPeak()
	got, err := io.Copy(h, rc)
	getPeak := stop()
	rc.Close()
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if got != n || gi.Size != n {
		t.Fatalf("read back %d bytes (info %d), want %d", got, gi.Size, n)
	}
	if !bytes.Equal(h.Sum(nil), want) {
		t.Fatal("read back different bytes")
	}
	t.Logf("%d MiB (size %d): heap peak above start: put %.1f MiB, get %.1f MiB",
		n>>20, size, float64(putPeak)/(1<<20), float64(getPeak)/(1<<20))
	if inMemory {
		return
	}
	// Streaming means the heap never holds the object: allow a part of
	// buffering (s3store: 16 MiB), not the object.
	if limit := uint64(n) / 2; putPeak > limit || getPeak > limit {
		t.Errorf("heap grew by %d (put) and %d (get) bytes for a %d-byte object: not streaming", putPeak, getPeak, n)
	}
}

func testCancelledPut(t *testing.T, s backup.ObjectStore) {
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	g := newGen(2, LargeSize)
	// Cancel once a part or so has gone out: the upload has begun.
	g.after, g.hook = LargeSize-20<<20, cancel
	_, err := s.Put(ctx, "cancel/obj", g, LargeSize, backup.PutOptions{})
	if err == nil {
		t.Fatal("cancelled put succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled put: %v, want an error wrapping context.Canceled", err)
	}
	if _, err := s.Stat(ctxT(t), "cancel/obj"); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("after a cancelled put, stat: %v, want ErrNotFound", err)
	}
	ups, err := s.ListIncompleteUploads(ctxT(t), "cancel/")
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 0 {
		t.Errorf("a cancelled put left %d incomplete uploads: %+v", len(ups), ups)
	}
}

func testPosture(t *testing.T, s backup.ObjectStore) {
	p, err := s.Posture(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]backup.Setting{
		"versioning": p.Versioning, "object lock": p.ObjectLock.Setting,
		"encryption": p.Encryption.Setting, "lifecycle": p.Lifecycle.Setting,
	} {
		switch st.State {
		case backup.StateEnabled, backup.StateDisabled, backup.StateUnsupported:
		case backup.StateError:
			t.Errorf("%s: error on a fresh bucket: %s", name, st.Detail)
		default:
			t.Errorf("%s: state %q", name, st.State)
		}
	}
	t.Logf("posture: %+v", p)
}

// testIfAbsent: a create that cannot replace. A second put to a taken key
// fails with ErrExists and leaves the first object as it was, whether it
// goes as one PUT or as a multipart upload of unknown size, and of two
// racing creates exactly one wins, whole.
func testIfAbsent(t *testing.T, s backup.ObjectStore) {
	create := backup.PutOptions{IfAbsent: true, ChecksumSHA256: true}
	first := put(t, s, "ia/a", []byte("first"), create)
	for _, size := range []int64{6, -1} {
		_, err := s.Put(ctxT(t), "ia/a", bytes.NewReader([]byte("second")), size, create)
		if !errors.Is(err, backup.ErrExists) {
			t.Errorf("put (size %d) to a taken key: %v, want ErrExists", size, err)
		}
	}
	if b, info := get(t, s, "ia/a"); string(b) != "first" || info.ETag != first.ETag {
		t.Errorf("after refused creates: %q (etag %s), want the first object (%s)", b, info.ETag, first.ETag)
	}
	if ups, err := s.ListIncompleteUploads(ctxT(t), "ia/"); err == nil && len(ups) != 0 {
		t.Errorf("a refused create left %d incomplete uploads", len(ups))
	}

	// Two at once: one wins, the other is told, and the object is the
	// winner's, whole.
	bodies := [][]byte{bytes.Repeat([]byte("a"), 3<<20), bytes.Repeat([]byte("b"), 3<<20)}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Go(func() {
			_, errs[i] = s.Put(ctxT(t), "ia/race", bytes.NewReader(bodies[i]), -1, create)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won < 0:
			won = i
		case err == nil:
			t.Errorf("both racing creates succeeded")
		case !errors.Is(err, backup.ErrExists):
			t.Errorf("racing create %d: %v, want ErrExists", i, err)
		}
	}
	if won >= 0 {
		if b, _ := get(t, s, "ia/race"); !bytes.Equal(b, bodies[won]) {
			t.Errorf("the object is not the winner's body")
		}
	}
}
