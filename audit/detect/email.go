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
//
// It looks at each character once: one pass back over the local part, one
// forward over the domain. (Every rule fails the same way, so the order in
// which they are checked does not matter.) Both passes read the raw byte's
// class first and decode a full-width form only when the byte has none of
// the classes wanted, that is when it is not ASCII.
func (s *scanner) email(a, an int) (int, bool) {
	buf := s.buf
	fail := a + an

	// The local part. Leading dots are not part of it ("...x1@qq.com" is
	// x1@qq.com): the address starts at the leftmost other character. Any
	// other '.' needs another character on each side, so a dot run ending at
	// a character other than '.' is judged there, and a dot before the '@'
	// there too (nothing on its right).
	ls, start := a, a // where the run ends on the left; where the address starts
	nch, dots := 0, 0 // characters walked; dots walked since the last other one
	for ls > 0 {
		c, n := buf[ls-1], 1
		if class[c]&cLocal == 0 {
			if c < 0x80 {
				if c == '@' {
					return fail, false // x@y@z: the local part is another address's domain
				}
				break
			}
			if c, n = foldBefore(buf, ls); class[c]&cLocal == 0 {
				if c == '@' {
					return fail, false
				}
				break
			}
		}
		if nch >= maxLocal && (c != '.' || nch >= 2*maxLocal) {
			return fail, false // too long, unless leading dots (not part of it) make it so
		}
		ls -= n
		nch++
		if c == '.' {
			dots++
			continue
		}
		if dots != 0 {
			if dots > 1 || start == a {
				return fail, false // "..", or a '.' just before the '@'
			}
			dots = 0
		}
		start = ls
	}
	if start == a {
		return fail, false // no local part, or only dots
	}

	// The domain. A '.' or '-' that ends the run of domain characters is
	// punctuation after the address ("写信给 a_b@c-d.com."), not part of it,
	// so what a '.' or '-' does to the labels is settled at the letter or
	// digit after it; a run that none follows changes nothing.
	ds := a + an
	de := ds // after the last letter or digit: the end of the domain
	labels, ll := 0, 0
	alpha := true      // the label has letters only
	var pk byte = '.'  // the previous character, as '.', '-' or 'a' (letter or digit)
	hyph := 0          // '-' since the last letter or digit
	misplaced := false // since the last letter or digit: a label starting or ending with '-', or empty
	for i := ds; i < len(buf); {
		c, n := buf[i], 1
		k := class[c]
		if k&cDomain == 0 {
			if c < 0x80 {
				break
			}
			if c, n = foldAt(buf, i); class[c]&cDomain == 0 {
				break
			}
			k = class[c]
		}
		i += n
		if i-ds > maxDom {
			return fail, false
		}
		switch {
		case k&cAlnum != 0:
			if pk != 'a' {
				if misplaced {
					return fail, false
				}
				if pk == '.' { // a new label (the first one starts here too)
					labels++
					ll, alpha = 0, true
				} else {
					ll += hyph
					alpha = false
				}
				hyph, pk = 0, 'a'
			}
			ll++
			if ll > 63 {
				return fail, false
			}
			if k&cDigit != 0 {
				alpha = false
			}
			de = i
		case c == '.':
			misplaced = misplaced || pk != 'a'
			pk = '.'
		default: // '-'
			misplaced = misplaced || pk == '.'
			pk = '-'
			hyph++
		}
	}
	if labels < 2 || ll < 2 || !alpha {
		return fail, false
	}
	if s.count {
		s.m = Match{Type: Email, Start: start, End: de}
		return de, true
	}
	var vb [3*maxLocal + maxDom + 8]byte
	v := vb[:0]
	for i := start; i < de; {
		c, n := charAt(buf, i)
		if class[c]&cUpper != 0 {
			c += 32
		}
		v = append(v, c)
		i += n
	}
	s.m = Match{Type: Email, Start: start, End: de, Value: string(v)}
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
