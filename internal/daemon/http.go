package daemon

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (d *Daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", d.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{}))
	if d.o.Web != nil {
		mux.Handle("/", d.o.Web)
	}
	return plainHeaders(mux)
}

// plainHeaders gives /healthz and /metrics the headers the dashboard sets on
// its own responses (it sets them again, to its policy): plain text that no
// page may frame, sniff into HTML or run.
func plainHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// healthz answers 200 "ok" with the scheduler's last tick while the daemon
// can do its job, and 503 with the reason when it cannot: the journal refused
// the last append or ends in a torn line (every run would go unrecorded), or
// the scheduler has stopped ticking.
func (d *Daemon) healthz(w http.ResponseWriter, r *http.Request) {
	if err := d.sync(); err != nil { // notice a torn journal even while idle
		d.logf("journal: %s", oneLine(err.Error()))
	}
	d.mu.Lock()
	tick, appendErr, torn := d.lastTick, d.appendErr, d.torn
	d.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var problem string
	switch {
	case torn:
		problem = "journal: ends in a torn line, appends are refused (run atrest audit verify)"
	case appendErr != nil:
		problem = "journal: cannot append: " + oneLine(appendErr.Error())
	case d.clock.Now().Sub(tick) > 3*d.o.Heartbeat:
		problem = "scheduler: no tick since " + tick.UTC().Format(time.RFC3339)
	}
	if problem != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, problem)
		return
	}
	fmt.Fprintf(w, "ok\nlast tick: %s\n", tick.UTC().Format(time.RFC3339Nano))
}
