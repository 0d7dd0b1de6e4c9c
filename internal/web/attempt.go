package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// outcome is what one login attempt (form or HTTP Basic) came to.
type outcome int

const (
	loggedIn outcome = iota
	wrongPassword
	rateLimited // 429: this address failed too often; Retry-After says when to try again
	busy        // 503: too many logins are being checked at once
)

// maxUserWait bounds how long an attempt waits out its user name's delay
// before it is refused with 429 instead.
const maxUserWait = 30 * time.Second

// authenticate checks a user name and password from r's address, for the
// login form and for the API's HTTP Basic alike. The cost of an attempt
// stays bounded whatever clients do:
//
//   - An address under a penalty is refused (429) before anything else,
//     whatever the password: a refused client learns nothing.
//   - Credentials that verified a moment ago (the Basic cache) pass
//     without a hash; the same credentials from the same address while
//     they are being checked wait for that check instead of starting
//     another (a client's burst of identical requests costs one hash).
//   - Otherwise the attempt is admitted by the address (penalties,
//     refusing): counted before its hash, so a burst gets no more than the
//     free failures through, then one attempt per growing penalty.
//   - Then by the user name (penalties, delaying): once it has failed too
//     often, from anywhere, its attempts wait out a delay of up to 10 s,
//     one at a time, instead of being refused: a flood from one address
//     slows the right password from another address by seconds and does
//     not lock it out.
//   - The hash runs inside the hash gate (one default-size argon2id hash
//     at a time, a bounded queue, then 503). A name that is no user is
//     hashed against the dummy hash under the same gate: the same time,
//     no more memory.
//
// Each failure is journaled as login.fail (a name that is no user as "-":
// it may be a password typed into the wrong field), the first refusal of an
// address per window as login.fail with outcome rate_limited.
func (s *Server) authenticate(r *http.Request, name, pw, via string) (User, outcome, time.Duration) {
	ip := clientIP(r)
	u, known, uerr := s.users.lookup(name)
	if uerr != nil {
		s.logf("users file: %s", oneLine(uerr.Error()))
	}
	subject := name
	if !known {
		subject = "-"
		u = User{Name: name, Hash: dummyHash()}
	}
	from := "from " + ip
	if via != "" {
		from = via + ", " + from
	}
	ipKey := "ip " + ip
	if wait := s.ipLimit.penalized(ipKey, s.now()); wait > 0 {
		s.refused(ipKey, subject, from, wait)
		return User{}, rateLimited, wait
	}
	tag := s.basic.tag(u, pw)
	if known && via == "api" && s.basic.ok(tag, s.now()) {
		return u, loggedIn, 0
	}
	ch := s.checking.DoChan(ip+"\x00"+tag, func() (any, error) {
		return s.check(r.Context(), u, known, pw, tag, subject, from, ipKey, via), nil
	})
	select {
	case res := <-ch:
		c := res.Val.(checked)
		if c.outcome == loggedIn {
			return u, loggedIn, 0
		}
		return User{}, c.outcome, c.wait
	case <-r.Context().Done():
		return User{}, busy, time.Second
	}
}

// checked is what one password check came to, for every request that
// waited for it.
type checked struct {
	outcome outcome
	wait    time.Duration
}

// check admits one attempt by the address and the user name and hashes
// the password (see authenticate).
func (s *Server) check(ctx context.Context, u User, known bool, pw, tag, subject, from, ipKey, via string) checked {
	userKey := "user " + u.Name
	if wait := s.ipLimit.admit(ipKey, s.now()); wait > 0 {
		s.refused(ipKey, subject, from, wait)
		return checked{rateLimited, wait}
	}
	if wait, ok := s.waitForUser(ctx, userKey); !ok {
		s.ipLimit.release(ipKey)
		s.logf("login: %s: user name %s still delayed after %s", from, subject, maxUserWait)
		return checked{rateLimited, wait}
	}
	ok, full := s.hashes.verify(ctx, u.Hash, pw)
	if full {
		s.ipLimit.release(ipKey)
		s.userLimit.release(userKey)
		if s.ipLimit.note("busy", s.now()) {
			s.logf("login: %s: refused, %d password checks already waiting", from, maxWaiters)
		}
		return checked{busy, time.Second}
	}
	now := s.now()
	if ok && known {
		s.ipLimit.release(ipKey)
		s.userLimit.succeed(userKey)
		if via == "api" {
			s.basic.put(tag, now)
		}
		return checked{loggedIn, 0}
	}
	s.ipLimit.fail(ipKey, now)
	s.userLimit.fail(userKey, now)
	why := "wrong password"
	if !known {
		why = "unknown user name (not recorded)"
	}
	s.journal(journal.Entry{Kind: "login.fail", Subject: subject, Outcome: "fail",
		Detail: fmt.Sprintf("%s: %s", from, why)})
	s.logf("login: failed %s", from)
	return checked{wrongPassword, 0}
}

// waitForUser waits until the user name admits an attempt, at most
// maxUserWait; it returns false (and how long it would still have had to
// wait) when the wait would run past that or the request ended.
func (s *Server) waitForUser(ctx context.Context, key string) (time.Duration, bool) {
	deadline := s.now().Add(maxUserWait)
	for {
		now := s.now()
		wait := s.userLimit.admit(key, now)
		switch {
		case wait == 0:
			return 0, true
		case now.Add(wait).After(deadline):
			return wait, false
		}
		if err := s.sleep(ctx, min(wait, time.Second)); err != nil {
			return wait, false
		}
	}
}

// refused journals the first refusal of an address in a window
// (login.fail, outcome rate_limited); later ones are only logged, so a
// client that keeps trying cannot fill the journal.
func (s *Server) refused(ipKey, subject, from string, wait time.Duration) {
	s.logf("login: refused %s: rate limited for %s", from, wait.Round(time.Second))
	if !s.ipLimit.note(ipKey, s.now()) {
		return
	}
	s.journal(journal.Entry{Kind: "login.fail", Subject: subject, Outcome: "rate_limited",
		Detail: fmt.Sprintf("%s: more than %d failed logins within %s from this address; its attempts are refused, and not journaled, for a delay that doubles with each further failure (now %s)",
			from, s.o.LoginFailures, s.o.LoginWindow, wait.Round(time.Second))})
}

// retryAfter is a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return fmt.Sprint(max(1, int((d+time.Second-1)/time.Second)))
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
