package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// newToken returns 32 random bytes, URL-safe base64: session ids and CSRF
// tokens.
func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokensEqual(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// session is a logged-in browser. Only its id travels, in the cookie; the
// rest stays on the server.
type session struct {
	id      string
	user    string
	role    Role
	csrf    string // per-session token every POST form must carry
	created time.Time
	seen    time.Time
}

// sessions is the server-side session map. A session ends after idle time
// without a request, after max time whatever happens, at logout, and when
// its user is deleted or changes role. The map is bounded: when full, the
// session seen longest ago goes.
type sessions struct {
	idle, max time.Duration
	limit     int

	mu sync.Mutex
	m  map[string]*session
}

func newSessions(idle, max time.Duration, limit int) *sessions {
	return &sessions{idle: idle, max: max, limit: limit, m: map[string]*session{}}
}

func (s *sessions) create(user string, role Role, now time.Time) session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.limit {
		s.purge(now)
	}
	for len(s.m) >= s.limit {
		var oldest *session
		for _, v := range s.m {
			if oldest == nil || v.seen.Before(oldest.seen) {
				oldest = v
			}
		}
		delete(s.m, oldest.id)
	}
	ss := &session{id: newToken(), user: user, role: role, csrf: newToken(), created: now, seen: now}
	s.m[ss.id] = ss
	return *ss
}

// get returns the live session with id and marks it seen.
func (s *sessions) get(id string, now time.Time) (session, bool) {
	if id == "" {
		return session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if !ok {
		return session{}, false
	}
	if s.expired(ss, now) {
		delete(s.m, id)
		return session{}, false
	}
	ss.seen = now
	return *ss, true
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.seen) > s.idle || now.Sub(ss.created) > s.max
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

func (s *sessions) purge(now time.Time) {
	for id, ss := range s.m {
		if s.expired(ss, now) {
			delete(s.m, id)
		}
	}
}

// limiter counts failed logins per key (an IP address, a user name) in a
// sliding window: after max failures within window, the key is blocked
// until the oldest of them leaves the window. The map is bounded: keys
// whose failures all left the window are dropped when it grows.
type limiter struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	fails map[string][]time.Time
	// noted is when a key's block was last journaled: a blocked client can
	// then not fill the journal, one login.fail per key and window.
	noted map[string]time.Time
}

const limiterKeys = 10000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}, noted: map[string]time.Time{}}
}

// blocked reports whether key has max failures within the window.
func (l *limiter) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key, now)) >= l.max
}

// fail records a failure of key.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= limiterKeys {
		for k := range l.fails {
			l.recent(k, now)
		}
		for len(l.fails) >= limiterKeys { // a flood of fresh keys: forget some
			for k := range l.fails {
				delete(l.fails, k)
				break
			}
		}
	}
	r := append(l.recent(key, now), now)
	if len(r) > l.max {
		r = r[len(r)-l.max:]
	}
	l.fails[key] = r
}

// recent drops key's failures older than the window and returns the rest.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	r := l.fails[key]
	i := 0
	for i < len(r) && now.Sub(r[i]) >= l.window {
		i++
	}
	r = r[i:]
	if len(r) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = r
	return r
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	delete(l.fails, key)
	l.mu.Unlock()
}

// note reports whether key's block should be journaled now: once per window.
func (l *limiter) note(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.noted[key]; ok && now.Sub(t) < l.window {
		return false
	}
	if len(l.noted) >= limiterKeys {
		for k, t := range l.noted {
			if now.Sub(t) >= l.window {
				delete(l.noted, k)
			}
		}
		if len(l.noted) >= limiterKeys {
			return false
		}
	}
	l.noted[key] = now
	return true
}

// basicCache remembers Basic credentials that verified, for a while, so an
// API client does not pay an argon2id hash per request. It holds an HMAC
// under a key that lives only in this process, never the password.
type basicCache struct {
	key []byte
	ttl time.Duration

	mu sync.Mutex
	m  map[string]time.Time
}

func newBasicCache(ttl time.Duration) *basicCache {
	k := make([]byte, 32)
	rand.Read(k)
	return &basicCache{key: k, ttl: ttl, m: map[string]time.Time{}}
}

// tag binds the password to the user's stored hash: a new password (or
// role change, via the hash) makes the old tag useless.
func (c *basicCache) tag(u User, pw string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(u.Name + "\x00" + u.Hash + "\x00" + pw))
	return string(m.Sum(nil))
}

func (c *basicCache) ok(tag string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[tag]
	if ok && now.Sub(t) < c.ttl {
		return true
	}
	delete(c.m, tag)
	return false
}

func (c *basicCache) put(tag string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= 1000 {
		clear(c.m)
	}
	c.m[tag] = now
}
