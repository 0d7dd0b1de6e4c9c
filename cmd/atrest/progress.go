package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// startProgress redraws one status line on w every 200 ms while a long run is
// under way, only when w is a terminal (never into a pipe or a log). The
// returned func clears the line and stops.
func startProgress(w io.Writer, status func() string) (stop func()) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(f, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(f, "\r\033[K%s  %s", status(), time.Since(start).Truncate(time.Second))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
