package detect

import "unsafe"

// email: an address around an '@', and the context rules that keep the words
// of an address (its local part, its domain) from being reported on their own.

// ValidEmail reports whether s is exactly one e-mail address.
func ValidEmail(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	for i := 0; i < len(b); i++ {
		if b[i] == '@' {
			sc := scanner{buf: b}
			_, ok := sc.email(i, 1)
			return ok && sc.m.Start == 0 && sc.m.End == len(b)
		}
	}
	return false
}

// email validates the address around the '@' at a (an bytes): a local part of
// [A-Za-z0-9._%+-] not starting or ending with '.', and a domain of at least
// two labels ending in an alphabetic TLD. It returns the match, or a+an.
func (s *scanner) email(a, an int) (int, bool) {
	buf := s.buf
	fail := a + an
	ls, nch := a, 0
	for ls > 0 {
		c, n := buf[ls-1], 1
		if c >= 0x80 {
			c, n = foldBefore(buf, ls)
		}
		if class[c]&cLocal == 0 {
			break
		}
		if nch >= maxLocal && (c != '.' || nch >= 2*maxLocal) {
			return fail, false // too long, unless leading dots (not part of it) make it so
		}
		ls -= n
		nch++
	}
	if c, _ := charBefore(buf, ls); c == '@' {
		return fail, false // x@y@z: the local part is another address's domain
	}
	for ls < a { // a local part does not start with '.': the address starts after
		c, n := charAt(buf, ls)
		if c != '.' {
			break
		}
		ls += n
	}
	prev := byte(0)
	for i := ls; i < a; {
		c, n := buf[i], 1
		if c >= 0x80 {
			c, n = foldAt(buf, i)
		}
		if c == '.' && prev == '.' {
			return fail, false
		}
		prev = c
		i += n
	}
	if ls >= a || prev == '.' {
		return fail, false
	}
	ds := a + an
	de := ds
	for de < len(buf) {
		c, n := buf[de], 1
		if c >= 0x80 {
			c, n = foldAt(buf, de)
		}
		if class[c]&cDomain == 0 {
			break
		}
		de += n
		if de-ds > maxDom {
			return fail, false
		}
	}
	for de > ds {
		c, n := charBefore(buf, de)
		if c != '.' && c != '-' {
			break
		}
		de -= n
	}
	labels, ll, alpha := 0, 0, true
	var pc byte = '.'
	for i := ds; i < de; {
		c, n := buf[i], 1
		if c >= 0x80 {
			c, n = foldAt(buf, i)
		}
		if c == '.' {
			if ll == 0 || pc == '-' {
				return fail, false
			}
			labels++
			ll, alpha = 0, true
		} else {
			if ll == 0 && c == '-' {
				return fail, false
			}
			ll++
			if ll > 63 {
				return fail, false
			}
			if class[c]&cAlpha == 0 {
				alpha = false
			}
		}
		pc = c
		i += n
	}
	if labels < 1 || ll < 2 || !alpha {
		return fail, false
	}
	if s.count {
		s.m = Match{Type: Email, Start: ls, End: de}
		return de, true
	}
	var vb [3*maxLocal + maxDom + 8]byte
	v := vb[:0]
	for i := ls; i < de; {
		c, n := charAt(buf, i)
		if class[c]&cUpper != 0 {
			c += 32
		}
		v = append(v, c)
		i += n
	}
	s.m = Match{Type: Email, Start: ls, End: de, Value: string(v)}
	return de, true
}

// atAfter reports the '@' that the local-part run starting at i leads to
// (position and size), or -1. A word followed by one belongs to an address.
func (s *scanner) atAfter(i int) (int, int) {
	buf := s.buf
	end := i + lookAt
	for i < len(buf) && i <= end {
		c, n := buf[i], 1
		if c >= 0x80 {
			c, n = foldAt(buf, i)
		}
		if c == '@' {
			return i, n
		}
		if class[c]&cLocal == 0 {
			return -1, 0
		}
		i += n
	}
	return -1, 0
}

// mayLocal reports a raw byte that may start a local-part run or be an '@':
// an ASCII local-part character, '@', or any non-ASCII byte (a full-width
// form is decoded by atAfter). Other bytes after a word need no atAfter.
func mayLocal(c byte) bool { return c >= 0x80 || c == '@' || class[c]&cLocal != 0 }

// mayDomain is mayLocal for the byte before a word and inDomain (and
// decimalBefore: '.' is a domain character).
func mayDomain(c byte) bool { return c >= 0x80 || c == '@' || class[c]&cDomain != 0 }

// inDomain reports whether the domain-like run ending at i follows an '@'.
func (s *scanner) inDomain(i int) bool {
	buf := s.buf
	end := i - maxDom - 3
	for i > 0 && i >= end {
		c, n := buf[i-1], 1
		if c >= 0x80 {
			c, n = foldBefore(buf, i)
		}
		if c == '@' {
			return true
		}
		if class[c]&cDomain == 0 {
			return false
		}
		i -= n
	}
	return false
}
