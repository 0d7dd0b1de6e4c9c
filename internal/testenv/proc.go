package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a server process this test binary started. A nil *proc is a
// server given by environment variable: alive, and never stopped.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// startProc starts cmd with its output in log, which it closes when the
// process ends. The process is killed if the test binary dies without
// running cleanups (a -timeout panic, say), so no server outlives its
// tests.
func startProc(cmd *exec.Cmd, log *os.File, name string) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Pdeathsig = true, syscall.SIGKILL
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); log.Close(); close(p.done) }()
	return p, nil
}

// ready waits up to 60 s for ping to succeed, and kills the process if it
// does not; log says what the server wrote, for the error.
func (p *proc) ready(name string, port int, ping func() error, log func() string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		if !p.alive() {
			return fmt.Errorf("%s exited at startup: %s", name, log())
		}
		err := ping()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("%s did not answer on port %d within 60s: %v: %s", name, port, err, log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *proc) alive() bool {
	if p == nil {
		return true
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop asks the process to end with quit, and kills it if it has not
// ended 30 s later.
func (p *proc) stop(quit func()) {
	if !p.alive() {
		return
	}
	quit()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
	}
}

// kill ends the process at once, as a crash would, and waits until it has
// exited.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// killFor is a server's Kill: tests use it to see a server go away mid-run.
func (p *proc) killFor(t testing.TB) {
	t.Helper()
	if p == nil {
		t.Fatal("testenv: Kill on a server this process did not start")
	}
	p.kill()
}

// server is what a shared registry keeps.
type server interface {
	alive() bool
	Stop()
}

// sharedServers keeps one running server per key for the tests of this
// binary: Main stops them all at the end; without Main a server is stopped
// at the end of the test that started it.
type sharedServers[K comparable, S server] struct {
	mu sync.Mutex
	m  map[K]S
}

// get returns the server for key, starting one with start if there is
// none or it has died; unavailable says why there is none.
func (r *sharedServers[K, S]) get(t testing.TB, key K, start func() (S, error), unavailable func(testing.TB, error)) S {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.m[key]; ok && s.alive() {
		return s
	}
	s, err := start()
	if err != nil {
		unavailable(t, err)
	}
	if r.m == nil {
		r.m = map[K]S{}
	}
	r.m[key] = s
	sharedMu.Lock()
	main := mainActive
	sharedMu.Unlock()
	if !main {
		t.Cleanup(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if cur, ok := r.m[key]; ok && any(cur) == any(s) {
				delete(r.m, key)
			}
			s.Stop()
		})
	}
	return s
}

// stopAll stops every server (Main, at the end).
func (r *sharedServers[K, S]) stopAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, s := range r.m {
		s.Stop()
		delete(r.m, k)
	}
}
