package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
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

// penalties count failed logins per key (an address, a user name) and turn
// them into growing delays, as OpenSSH's PerSourcePenalties do, never into
// a lockout: the first free failures within the window cost nothing; each
// one after sets a penalty of a second, doubling with every further
// failure up to max; a key that fails no more for a window is forgotten.
// An attempt is counted when it is admitted, before its password is
// hashed: while attempts of a key are being checked they count as
// failures, so a burst of concurrent attempts gets no more than the free
// ones through. The map is bounded: when full, keys with nothing in flight
// are forgotten.
type penalties struct {
	free   int
	window time.Duration
	max    time.Duration

	mu sync.Mutex
	m  map[string]*penalty
	// noted is when a key's refusal was last journaled: a refused client
	// then cannot fill the journal, one entry per key and window.
	noted map[string]time.Time
}

type penalty struct {
	fails    int       // failures counted, until forgotten
	inflight int       // attempts admitted and not yet decided
	last     time.Time // the newest failure
	until    time.Time // no attempt before this
}

const limiterKeys = 10000

// pollInterval is how often a delayed attempt looks again while another
// attempt of its key is being checked.
const pollInterval = 100 * time.Millisecond

func newPenalties(free int, window, max time.Duration) *penalties {
	return &penalties{free: free, window: window, max: max, m: map[string]*penalty{}, noted: map[string]time.Time{}}
}

// get returns key's state, forgetting failures a window old; p.mu is held.
func (p *penalties) get(key string, now time.Time) *penalty {
	k := p.m[key]
	if k != nil && k.inflight == 0 && now.Sub(k.last) >= p.window && !now.Before(k.until) {
		delete(p.m, key)
		k = nil
	}
	if k == nil {
		if len(p.m) >= limiterKeys {
			p.evict(now)
		}
		k = &penalty{}
		p.m[key] = k
	}
	return k
}

// evict forgets keys whose failures are a window old, then, under a flood
// of new keys, any with nothing in flight; p.mu is held.
func (p *penalties) evict(now time.Time) {
	for key, k := range p.m {
		if k.inflight == 0 && now.Sub(k.last) >= p.window && !now.Before(k.until) {
			delete(p.m, key)
		}
	}
	for key, k := range p.m {
		if len(p.m) < limiterKeys {
			break
		}
		if k.inflight == 0 {
			delete(p.m, key)
		}
	}
}

// penalized says how long key is still refused for its failures (0:
// not). Every attempt asks first, even one whose credentials verified a
// moment ago: otherwise the quick answer to a remembered password would
// let a refused client test guesses.
func (p *penalties) penalized(key string, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := p.m[key]; k != nil && now.Before(k.until) {
		return k.until.Sub(now)
	}
	return 0
}

// admit lets an attempt of key through now (0: admitted, and in flight
// until release, fail or succeed) or says how long to wait before asking
// again: the key's penalty, or a short poll while an attempt that uses up
// its free ones is being checked.
func (p *penalties) admit(key string, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.get(key, now)
	if now.Before(k.until) {
		return k.until.Sub(now)
	}
	if k.fails+k.inflight >= p.free && k.inflight > 0 {
		return pollInterval
	}
	k.inflight++
	return 0
}

// release ends an admitted attempt without counting it (it was never
// checked, or it succeeded).
func (p *penalties) release(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := p.m[key]; k != nil && k.inflight > 0 {
		k.inflight--
	}
}

// fail ends an admitted attempt as a failure and sets the penalty.
func (p *penalties) fail(key string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.get(key, now)
	if k.inflight > 0 {
		k.inflight--
	}
	k.fails++
	k.last = now
	if over := k.fails - p.free; over >= 0 {
		d := time.Second << min(over, 30)
		k.until = now.Add(min(d, p.max))
	}
}

// succeed ends an admitted attempt that logged in: the key's failures are
// forgotten.
func (p *penalties) succeed(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := p.m[key]; k != nil {
		if k.inflight > 1 {
			k.inflight--
			k.fails, k.until = 0, time.Time{}
			return
		}
		delete(p.m, key)
	}
}

// note reports whether key's refusal should be journaled now: once per
// window.
func (p *penalties) note(key string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.noted[key]; ok && now.Sub(t) < p.window {
		return false
	}
	if len(p.noted) >= limiterKeys {
		for k, t := range p.noted {
			if now.Sub(t) >= p.window {
				delete(p.noted, k)
			}
		}
		if len(p.noted) >= limiterKeys {
			return false
		}
	}
	p.noted[key] = now
	return true
}

// hashGate bounds the memory that password hashing may take at once.
// argon2id takes its memory parameter per hash (64 MiB by default) and,
// with 4 lanes, 4 cores: a second hash at once on a small server adds
// memory, not speed. So hashes take from a budget in KiB (a hash with more
// memory than the budget waits for all of it), at most maxWaiters wait, and
// beyond that an attempt is refused at once (503) rather than queued, as
// OpenSSH's MaxStartups drops unauthenticated connections. Unknown user
// names hash against the dummy hash under the same gate: they cost the
// same time and no more memory.
type hashGate struct {
	budget  int64 // KiB
	sem     *semaphore.Weighted
	waiting atomic.Int32
}

const (
	hashBudgetKiB = 64 << 10 // one hash with the default parameters
	maxWaiters    = 32
)

func newHashGate(budgetKiB int64) *hashGate {
	return &hashGate{budget: budgetKiB, sem: semaphore.NewWeighted(budgetKiB)}
}

// verify checks pw against hash inside the gate. ok reports the password
// matched; busy that the gate refused (too many waiting, or ctx ended).
func (g *hashGate) verify(ctx context.Context, hash, pw string) (ok, busy bool) {
	n := int64(g.budget)
	if p, _, _, err := parseHash(hash); err == nil {
		n = min(int64(p.memory), g.budget)
	}
	if g.waiting.Add(1) > maxWaiters {
		g.waiting.Add(-1)
		return false, true
	}
	err := g.sem.Acquire(ctx, n)
	g.waiting.Add(-1)
	if err != nil {
		return false, true
	}
	defer g.sem.Release(n)
	return VerifyPassword(hash, pw), false
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
