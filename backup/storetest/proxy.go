package storetest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Proxy is an HTTP proxy in front of a real S3 server that injects faults
// on the wire, where a real network or a misbehaving server would: a store
// pointed at Proxy.Endpoint sees responses cut short, connections reset
// mid-body and "200 OK" answers carrying an S3 <Error>. This tests the
// store's own handling (s3store), where Faulty tests the code above it.
//
// Requests are forwarded with the Host header the client signed, so
// Signature V4 still verifies at the server.
type Proxy struct {
	// Endpoint is the proxy's host:port, to use in place of the server's.
	Endpoint string

	target string
	tr     *http.Transport
	mu     sync.Mutex
	rules  []*Rule
}

// Rule injects one fault into the requests it matches.
type Rule struct {
	// Match selects requests; nil matches all. See IsGetObject and friends.
	Match func(*http.Request) bool
	// Fault is Truncate (the response body ends, connection closed, after
	// After bytes: fewer than its Content-Length), Drop (the connection is
	// reset after After bytes of the request body, or of the response body
	// for a request without one), ErrorIn200 (the request is not
	// forwarded; the answer is 200 OK with an InternalError document),
	// Status (not forwarded; the answer is StatusCode with an S3 error
	// document of code Code: 500 InternalError, 503 SlowDown …), LieSize
	// (forwarded; a HEAD's answer gives Content-Length After, not the
	// object's size), Stall (forwarded; the response body stops after
	// After bytes until OnAnswer returns), or 0 (forwarded untouched, for
	// the hooks alone).
	Fault      Fault
	After      int64
	StatusCode int
	Code       string
	// Times limits the rule to its first Times matches (0 = all).
	Times int
	// OnRequest runs when the rule matches, before anything is forwarded,
	// and may block: a test holds a request there while it kills the
	// client. If it returns false the request never reaches the server
	// and the client's connection is reset. OnAnswer runs once the server
	// has answered, before the client hears anything: the server did the
	// work, the client may never know.
	OnRequest func(*http.Request) (forward bool)
	OnAnswer  func(*http.Request)

	hits int
}

// NewProxy starts a proxy to the S3 server at target (host:port, plain
// http) and stops it at the end of the test.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{target: target, tr: &http.Transport{DisableCompression: true}}
	srv := httptest.NewServer(p)
	t.Cleanup(func() { srv.Close(); p.tr.CloseIdleConnections() })
	p.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// Add installs a rule; the first rule that matches a request applies.
func (p *Proxy) Add(r *Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, r)
}

// Clear removes all rules.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Hits reports how many requests r has hit.
func (p *Proxy) Hits(r *Rule) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return r.hits
}

func (p *Proxy) rule(req *http.Request) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.rules {
		if (r.Match == nil || r.Match(req)) && (r.Times == 0 || r.hits < r.Times) {
			r.hits++
			return r
		}
	}
	return nil
}

// IsGetObject matches an object download.
func IsGetObject(r *http.Request) bool {
	return r.Method == http.MethodGet && objectPath(r) && len(r.URL.Query()) == 0
}

// IsPutPart matches an object upload: a part of a multipart upload or a
// single PUT.
func IsPutPart(r *http.Request) bool {
	q := r.URL.Query()
	return r.Method == http.MethodPut && objectPath(r) && r.Header.Get("X-Amz-Copy-Source") == "" &&
		(len(q) == 0 || q.Has("partNumber"))
}

// IsCompleteUpload matches CompleteMultipartUpload.
func IsCompleteUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("uploadId")
}

// IsListObjects matches a bucket listing.
func IsListObjects(r *http.Request) bool {
	q := r.URL.Query()
	return r.Method == http.MethodGet && !objectPath(r) &&
		(q.Has("list-type") || q.Has("prefix") || q.Has("delimiter") || len(q) == 0)
}

// objectPath reports whether a path-style URL names an object, not a bucket.
func objectPath(r *http.Request) bool {
	p := strings.Trim(r.URL.Path, "/")
	return strings.Contains(p, "/")
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rule := p.rule(req)
	if rule != nil && rule.OnRequest != nil && !rule.OnRequest(req) {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			resetConn(c)
		}
		return
	}
	if rule != nil && rule.Fault == Status {
		io.Copy(io.Discard, req.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(rule.StatusCode)
		io.WriteString(w, ErrorDocument(rule.Code, "injected by storetest.Proxy", req.URL.Path))
		return
	}
	if rule != nil && rule.Fault == ErrorIn200 {
		io.Copy(io.Discard, req.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, ErrorDocument("InternalError", "We encountered an internal error. Please try again.", req.URL.Path))
		return
	}
	out := req.Clone(req.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = "http", p.target
	out.Host = req.Host // as signed
	out.Header.Del("Connection")
	if req.ContentLength == 0 {
		out.Body = nil
	}
	var conn net.Conn
	if rule != nil && rule.Fault == Drop && req.ContentLength != 0 {
		// Reset the client's connection once After bytes of its upload
		// have gone through: the server sees the upload end early too.
		out.Body = &dropAfter{r: req.Body, left: rule.After, drop: func() {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn = c
				resetConn(c)
			}
		}}
	}
	resp, err := p.tr.RoundTrip(out)
	if conn != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if rule != nil && rule.OnAnswer != nil && rule.Fault != Stall {
		rule.OnAnswer(req)
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	if resp.ContentLength >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	if rule != nil && rule.Fault == LieSize && req.Method == http.MethodHead {
		w.Header().Set("Content-Length", strconv.FormatInt(rule.After, 10))
	}
	w.WriteHeader(resp.StatusCode)
	if rule != nil && rule.Fault == Stall {
		io.CopyN(w, resp.Body, rule.After)
		http.NewResponseController(w).Flush()
		if rule.OnAnswer != nil {
			rule.OnAnswer(req)
		}
		io.Copy(w, resp.Body)
		return
	}
	if rule == nil || rule.Fault != Truncate && rule.Fault != Drop || req.Method == http.MethodHead {
		io.Copy(w, resp.Body)
		return
	}
	io.CopyN(w, resp.Body, rule.After)
	http.NewResponseController(w).Flush()
	if rule.Fault == Drop {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			resetConn(c)
			return
		}
	}
	// Abort the response: net/http closes the connection without
	// finishing the body.
	panic(http.ErrAbortHandler)
}

// resetConn closes c with a TCP RST rather than a FIN, as a crashed peer or
// a middlebox does.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// dropAfter passes left bytes of an upload, then calls drop and fails.
type dropAfter struct {
	r    io.Reader
	left int64
	drop func()
	done bool
}

func (d *dropAfter) Read(p []byte) (int, error) {
	if d.left <= 0 {
		if !d.done {
			d.done = true
			d.drop()
		}
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.r.Read(p)
	d.left -= int64(n)
	return n, err
}

func (d *dropAfter) Close() error { return nil }
