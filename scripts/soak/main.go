// Command soak puts HTTP load on a running `atrest serve` and watches the
// process while it runs: make bench's soak (scripts/soak.sh) starts serve
// with fast schedules and runs this beside it.
//
//	go run ./scripts/soak -url http://127.0.0.1:PORT -pid PID -user NAME \
//	    [-duration 3m] [-concurrency 8] [-rate 40] [-job yb-soak]
//
// The password is read from $SOAK_PASSWORD. It requests, in turn, the
// unauthenticated endpoints (/healthz, /metrics), the API with HTTP Basic
// and the dashboard's pages with a session cookie, at -rate requests per
// second in all from -concurrency clients, and samples the process's
// resident set and open file descriptors every second. It prints, per
// endpoint, the count, the answers that were not 200, and the latency
// median, p99 and maximum; then the RSS and fds at start, at their peak and
// at the end. Nothing here asserts a figure: it prints them.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("url", "", "serve's base URL, http://host:port")
	pid := flag.Int("pid", 0, "serve's process id, to sample its RSS and fds")
	user := flag.String("user", "", "a dashboard user (password in $SOAK_PASSWORD)")
	job := flag.String("job", "", "a backup job, for its page")
	duration := flag.Duration("duration", 3*time.Minute, "how long to load")
	conc := flag.Int("concurrency", 8, "clients at once")
	rate := flag.Float64("rate", 40, "requests per second, all clients together")
	flag.Parse()
	log.SetFlags(0)
	pw := os.Getenv("SOAK_PASSWORD")
	if *base == "" || *pid == 0 || *user == "" || pw == "" {
		log.Fatal("soak: -url, -pid, -user and $SOAK_PASSWORD are required")
	}
	session, err := login(*base, *user, pw)
	if err != nil {
		log.Fatalf("soak: %v", err)
	}
	targets := []target{
		{name: "/healthz", path: "/healthz"},
		{name: "/metrics", path: "/metrics"},
		{name: "/api/checks", path: "/api/checks", basic: true},
		{name: "/api/drills", path: "/api/drills", basic: true},
		{name: "/api/journal", path: "/api/journal?size=50", basic: true},
		{name: "/api/journal?kind", path: "/api/journal?kind=backup.run&size=20", basic: true},
		{name: "/ (overview)", path: "/", page: true},
		{name: "/journal", path: "/journal", page: true},
		{name: "/journal?kind", path: "/journal?kind=drill.run", page: true},
	}
	if *job != "" {
		targets = append(targets, target{name: "/backups/{job}", path: "/backups/" + url.PathEscape(*job), page: true})
	}

	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	w := newWatch(*pid)
	go w.run(ctx)

	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	next := make(chan int)
	go func() {
		defer close(next)
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				select {
				case next <- i % len(targets):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	res := make([]result, len(targets))
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := &http.Client{Timeout: time.Minute}
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := targets[i]
				req, _ := http.NewRequest("GET", *base+t.path, nil)
				if t.basic {
					req.SetBasicAuth(*user, pw)
				}
				if t.page {
					req.AddCookie(session)
				}
				start := time.Now()
				resp, err := client.Do(req)
				code := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				took := time.Since(start)
				mu.Lock()
				res[i].add(took, code)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	w.stop()

	fmt.Printf("  HTTP, %s at %.0f req/s from %d clients:\n", *duration, *rate, *conc)
	fmt.Printf("    %-20s %7s %7s %9s %9s %9s\n", "endpoint", "count", "not200", "p50 ms", "p99 ms", "max ms")
	var all []time.Duration
	for i, t := range targets {
		r := res[i]
		all = append(all, r.lat...)
		fmt.Printf("    %-20s %7d %7d %9.1f %9.1f %9.1f%s\n", t.name, len(r.lat), r.bad,
			ms(quantile(r.lat, 0.5)), ms(quantile(r.lat, 0.99)), ms(quantile(r.lat, 1)), r.codes())
	}
	fmt.Printf("    %-20s %7d %7s %9.1f %9.1f %9.1f\n", "all", len(all), "", ms(quantile(all, 0.5)), ms(quantile(all, 0.99)), ms(quantile(all, 1)))
	w.print()
}

type target struct {
	name, path  string
	basic, page bool
}

type result struct {
	lat  []time.Duration
	bad  int
	code map[int]int
}

func (r *result) add(d time.Duration, code int) {
	r.lat = append(r.lat, d)
	if code != http.StatusOK {
		r.bad++
		if r.code == nil {
			r.code = map[int]int{}
		}
		r.code[code]++
	}
}

func (r *result) codes() string {
	if len(r.code) == 0 {
		return ""
	}
	var parts []string
	for c, n := range r.code {
		parts = append(parts, fmt.Sprintf("%d×%d", n, c))
	}
	slices.Sort(parts)
	return "  (" + strings.Join(parts, ", ") + "; 0 = no answer)"
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs in through the form, as a browser does, and returns the
// session cookie.
func login(base, user, pw string) (*http.Cookie, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("login form: no CSRF token (%d)", resp.StatusCode)
	}
	resp, err = c.PostForm(base+"/login", url.Values{"csrf": {string(m[1])}, "name": {user}, "password": {pw}, "next": {"/"}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "atrest_session" {
			return ck, nil
		}
	}
	return nil, fmt.Errorf("login as %s: %d, no session", user, resp.StatusCode)
}

// watch samples a process's resident set and open descriptors.
type watch struct {
	pid  int
	mu   sync.Mutex
	rss  []int64 // KiB, one a second
	fds  []int
	done chan struct{}
}

func newWatch(pid int) *watch { return &watch{pid: pid, done: make(chan struct{})} }

func (w *watch) run(ctx context.Context) {
	defer close(w.done)
	for {
		w.sample()
		select {
		case <-ctx.Done():
			w.sample()
			return
		case <-time.After(time.Second):
		}
	}
}

func (w *watch) stop() { <-w.done }

func (w *watch) sample() {
	rss := int64(-1)
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.pid)); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				rss, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			}
		}
	}
	fds := -1
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", w.pid)); err == nil {
		fds = len(ents)
	}
	w.mu.Lock()
	w.rss = append(w.rss, rss)
	w.fds = append(w.fds, fds)
	w.mu.Unlock()
}

func (w *watch) print() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.rss) == 0 || w.rss[0] < 0 {
		fmt.Println("  process: could not read /proc for its RSS and fds")
		return
	}
	n := len(w.rss)
	fmt.Printf("  serve's RSS: %d MiB at start, %d MiB at most, %d MiB at the end (%d samples, one a second)\n",
		w.rss[0]>>10, slices.Max(w.rss)>>10, w.rss[n-1]>>10, n)
	fmt.Printf("  serve's open fds: %d at start, %d at most, %d at the end\n", w.fds[0], slices.Max(w.fds), w.fds[n-1])
}
