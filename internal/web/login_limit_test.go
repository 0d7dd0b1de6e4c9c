package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is the server's clock in the limit tests: it moves only when
// the server sleeps (a delayed login) or the test moves it, so no test
// depends on how fast the machine is.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (e *env) fakeClock() *testClock {
	c := &testClock{now: time.Now()}
	e.s.now = c.Now
	e.s.sleep = func(ctx context.Context, d time.Duration) error {
		c.advance(d)
		return ctx.Err()
	}
	return c
}

func TestLoginRateLimitGrowsAndNeverLocksOut(t *testing.T) {
	e := newEnv(t)
	clk := e.fakeClock()
	ip := "198.51.100.7:5555"
	for i := 1; i <= 5; i++ {
		if rec := e.postLogin(ip, "li.wei", "guess-"+fmt.Sprint(i)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, rec.Code)
		}
	}
	// Past the free failures the address is refused, the right password
	// too, for a second; another name from it too, and the API.
	rec := e.postLogin(ip, "li.wei", auditorPW)
	if rec.Code != http.StatusTooManyRequests || cookie(rec, sessionCookie) != nil || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("6th attempt: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := e.postLogin(ip, "root.admin", adminPW); rec.Code != http.StatusTooManyRequests {
		t.Errorf("another user from the same address: %d", rec.Code)
	}
	if rec := e.do(request{path: "/api/drills", remote: ip, user: "li.wei", pw: auditorPW}); rec.Code != http.StatusTooManyRequests {
		t.Errorf("API from the refused address: %d", rec.Code)
	}
	// Each further failure doubles the address's penalty: 2 s, 4 s, 8 s.
	for _, want := range []string{"2", "4", "8"} {
		clk.advance(time.Hour / 4 / 60) // 15 s: the penalty is over
		if rec := e.postLogin(ip, "li.wei", "again wrong"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt after the penalty: %d", rec.Code)
		}
		if rec := e.postLogin(ip, "li.wei", auditorPW); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != want {
			t.Errorf("penalty: %d, Retry-After %q, want %s", rec.Code, rec.Header().Get("Retry-After"), want)
		}
	}
	// The user name's failures delay its next attempt from anywhere (up to
	// 10 s), without refusing it: its owner, elsewhere, logs in.
	before := clk.Now()
	if rec := e.postLogin("203.0.113.9:1", "li.wei", auditorPW); rec.Code != http.StatusSeeOther {
		t.Errorf("the right password from another address: %d", rec.Code)
	}
	if waited := clk.Now().Sub(before); waited < time.Second || waited > userMaxDelay {
		t.Errorf("the user's delay: %s", waited)
	}
	// Others are unaffected.
	if rec := e.postLogin("203.0.113.10:1", "root.admin", adminPW); rec.Code != http.StatusSeeOther {
		t.Errorf("another user from another address: %d", rec.Code)
	}

	var failed, limited int
	for _, f := range e.entries("login.fail") {
		switch f.Outcome {
		case "fail":
			failed++
			if f.Subject != "li.wei" || !strings.Contains(f.Detail, "198.51.100.7") {
				t.Errorf("login.fail: %+v", f)
			}
		case "rate_limited":
			limited++
		}
		for _, pw := range []string{"guess-", auditorPW, adminPW, "again wrong"} {
			if strings.Contains(f.Detail+f.Subject, pw) {
				t.Errorf("a password in the journal: %+v", f)
			}
		}
	}
	if failed != 8 {
		t.Errorf("login.fail outcome fail: %d, want 8", failed)
	}
	// One refusal entry per address and window, not one per attempt.
	if limited != 1 {
		t.Errorf("login.fail outcome rate_limited: %d, want 1", limited)
	}
	// The penalty never outlasts the window, and then the address starts
	// afresh: the right password works from it again.
	clk.advance(16 * time.Minute)
	if rec := e.postLogin(ip, "li.wei", auditorPW); rec.Code != http.StatusSeeOther {
		t.Errorf("after the window: %d", rec.Code)
	}
}

// Issue 22: 64 concurrent wrong passwords with real argon2id parameters
// (64 MiB a hash) keep the process small, and all but the free ones are
// refused before hashing, while the right password from another address
// logs in. Memory is read from /proc (resident set) and runtime/metrics
// (heap in use), sampled while the flood runs; the figures are logged.
func TestLoginFloodBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 64 MiB argon2id keys")
	}
	e := newEnv(t)
	saved := hashParams
	hashParams = argonParams{memory: 64 * 1024, passes: 3, lanes: 4} // the production parameters
	err := AddUser(e.users, "ops.admin", RoleAdmin, "the right password, long", time.Now())
	hashParams = saved
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	base := rssKiB(t)

	var peakRSS, peakHeap atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			if r := rssKiB(t); r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			metrics.Read(sample)
			if h := int64(sample[0].Value.Uint64()); h > peakHeap.Load() {
				peakHeap.Store(h)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()

	const flood = 64
	codes := make(chan int, flood)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rec := e.do(request{path: "/api/checks", remote: "198.51.100.66:4000", user: "ops.admin", pw: fmt.Sprint("wrong guess ", i)})
			codes <- rec.Code
		}()
	}
	close(start)
	// The owner, from elsewhere, while the flood is on.
	time.Sleep(20 * time.Millisecond)
	owner := e.do(request{path: "/api/checks", remote: "203.0.113.50:4000", user: "ops.admin", pw: "the right password, long"})
	wg.Wait()
	close(stop)
	<-sampled
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	t.Logf("64 concurrent wrong passwords: %v; the owner from another address: %d; RSS %d MiB before, peak %d MiB; heap objects peak %d MiB",
		count, owner.Code, base/1024, peakRSS.Load()/1024, peakHeap.Load()>>20)
	if count[http.StatusUnauthorized] != 5 || count[http.StatusTooManyRequests] != flood-5 {
		t.Errorf("flood answers %v: want 5 × 401 (the free failures, hashed) and the rest 429 before hashing", count)
	}
	if owner.Code != http.StatusOK {
		t.Errorf("the right password from another address: %d %s", owner.Code, owner.Body)
	}
	if p := peakRSS.Load(); p >= 256*1024 {
		t.Errorf("peak RSS %d MiB, want under 256 MiB", p/1024)
	}
	if h := peakHeap.Load(); h >= 256<<20 {
		t.Errorf("peak heap %d MiB, want under 256 MiB", h>>20)
	}
	if n := len(e.entries("login.fail")); n != 6 { // 5 failures and one rate_limited note
		t.Errorf("%d login.fail entries", n)
	}
}

// rssKiB is this process's resident set size.
func rssKiB(t *testing.T) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: cannot measure RSS here")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// A client that sends the right credentials in a burst before any of them
// has been verified (an API poller starting up) is not taken for a flood:
// identical credentials from one address wait for one check.
func TestBurstOfTheRightPasswordIsOneCheck(t *testing.T) {
	e := newEnv(t)
	// Hold the hash gate, so the burst piles up behind its first check.
	if err := e.s.hashes.sem.Acquire(context.Background(), e.s.hashes.budget); err != nil {
		t.Fatal(err)
	}
	const burst = 12
	codes := make(chan int, burst)
	var wg sync.WaitGroup
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- e.do(request{path: "/api/drills", remote: "192.0.2.77:1", user: "li.wei", pw: auditorPW}).Code
		}()
	}
	for e.s.hashes.waiting.Load() == 0 { // the first check reached the gate
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the others joined it (or, wrongly, were refused)
	e.s.hashes.sem.Release(e.s.hashes.budget)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a request of the burst: %d", c)
		}
	}
	if n := len(e.entries("login.fail")); n != 0 {
		t.Errorf("%d login.fail entries", n)
	}
}
