package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Behind a reverse proxy that terminates TLS, every request comes from the
// proxy's address over plain HTTP: the per-address login limit would treat
// all clients as one, and cookies would lose their Secure flag. The proxy
// says who the client was (X-Forwarded-For) and how it came
// (X-Forwarded-Proto), but any client can send those headers too, so they
// are believed only from a peer in http.trusted_proxies.

// peer is the request's TCP peer address.
func peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// trusted reports whether addr is one of the trusted proxies.
func trusted(proxies []netip.Prefix, addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address the login limit counts and the journal names:
// the peer, or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one (each proxy appends the address it got
// the request from, so the list is read from the right; what lies left of
// the first untrusted hop is whatever the client chose to send).
func (s *Server) clientIP(r *http.Request) string {
	ip := peer(r)
	proxies := s.settings().TrustedProxies
	if !trusted(proxies, ip) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(h)
		if err != nil {
			break // garbage: the request is the last good hop's
		}
		ip = a.Unmap().String()
		if !trusted(proxies, ip) {
			break
		}
	}
	return ip
}

// secure reports whether the client's connection is TLS: this server's own,
// or a trusted proxy's that says so in X-Forwarded-Proto (the first value,
// the one the client-facing proxy set).
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !trusted(s.settings().TrustedProxies, peer(r)) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}
