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
// It looks at each character once: one pass back over the local part
// (localStart), one forward over the domain (domainEnd). Each is a function
// of its own so that its loop keeps its state in registers.
func (s *scanner) email(a, an int) (int, bool) {
	buf := s.buf
	start, ok := localStart(buf, a)
	if !ok {
		return a + an, false
	}
	de, ok := domainEnd(buf, a+an)
	if !ok {
		return a + an, false
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

// localStart returns where the local part that ends at the '@' at a starts,
// and whether it is one. Leading dots are not part of it ("...x1@qq.com" is
// x1@qq.com): it starts at the leftmost other character. Any other '.' needs
// another character on each side, so a run of dots is judged at the
// character on its left, and a dot just before the '@' there too (it has
// nothing on its right). Every rule fails the same way, so the order in
// which they are checked does not matter. The raw byte's class is read
// first: only a byte without the local-part class can start a full-width form.
func localStart(buf []byte, a int) (int, bool) {
	ls, start := a, a // where the run ends on the left; where the address starts
	nch, dots := 0, 0 // characters walked; dots walked since the last other one
	for ls > 0 {
		c, n := buf[ls-1], 1
		if class[c]&cLocal == 0 {
			if c < 0x80 {
				if c == '@' {
					return 0, false // x@y@z: the local part is another address's domain
				}
				break
			}
			if c, n = foldBefore(buf, ls); class[c]&cLocal == 0 {
				if c == '@' {
					return 0, false
				}
				break
			}
		}
		if nch >= maxLocal && (c != '.' || nch >= 2*maxLocal) {
			return 0, false // too long, unless leading dots (not part of it) make it so
		}
		ls -= n
		nch++
		if c == '.' {
			dots++
			continue
		}
		if dots != 0 {
			if dots > 1 || start == a {
				return 0, false // "..", or a '.' just before the '@'
			}
			dots = 0
		}
		// Letters and digits before it are the bulk of a local part: take
		// their ASCII run at once, as far as the length limit lets a
		// character other than '.' lie (one more shows the part too long).
		j, lo := ls, ls-(maxLocal+1-nch)
		if lo < 0 {
			lo = 0
		}
		for j > lo && class[buf[j-1]]&cAlnum != 0 {
			j--
		}
		if nch += ls - j; nch > maxLocal {
			return 0, false
		}
		ls, start = j, j
	}
	return start, start < a // start == a: no local part, or only dots
}

// domainEnd returns where the domain that starts at ds ends, and whether it
// is one. A '.' or '-' that ends the run of domain characters is punctuation
// after the address ("写信给 a_b@c-d.com."), not part of it, so the labels a
// '.' or '-' belongs to are judged at the next letter or digit, from the
// state of the run since the last one: a label that starts or ends with '-',
// or an empty one, is wrong only if one follows.
func domainEnd(buf []byte, ds int) (int, bool) {
	const (
		inLabel   = iota // after a letter or digit
		newLabel         // at the domain's start or after a '.' (behind a letter or digit)
		hyphen           // after '-'s inside a label
		misplaced        // after a '.' or '-' where the label cannot have one
	)
	de, last := ds, ds // after the last letter or digit; where the last label starts
	ll, tld := 0, 0    // characters of the label so far; of the last label, up to de
	alpha := false     // the label has letters only
	st := newLabel
	// No domain character can start more than maxDom bytes on (one that
	// starts maxDom bytes on already ends past the limit): the walk needs
	// no byte after that, and the runs of letters and digits stop there.
	w := buf[:min(len(buf), ds+maxDom+1)]
	for i := ds; i < len(w); {
		c, n := w[i], 1
		k := class[c]
		if k&cDomain == 0 { // only such a byte can start a full-width form
			if c < 0x80 {
				break
			}
			if c, n = foldAt(buf, i); class[c]&cDomain == 0 {
				break
			}
			k = class[c]
		}
		if k&cAlnum != 0 {
			if st != inLabel {
				if st == misplaced {
					return 0, false
				}
				if st == newLabel {
					last, ll, alpha = i, 0, true
				} else {
					alpha = false // after '-'
				}
				st = inLabel
			}
			// Letters and digits after it are the bulk of a label: take
			// their ASCII run at once.
			j := i + n
			for j < len(w) {
				t := class[w[j]]
				if t&cAlnum == 0 {
					break
				}
				k |= t
				j++
			}
			if k&cDigit != 0 {
				alpha = false
			}
			ll += 1 + j - (i + n)
			i, de, tld = j, j, ll
			if i-ds > maxDom {
				return 0, false
			}
			continue
		}
		i += n
		if i-ds > maxDom {
			return 0, false
		}
		if c == '.' {
			if st != inLabel {
				st = misplaced
			} else if ll > 63 { // the label before is whole: it ends in a letter or digit
				return 0, false
			} else {
				st = newLabel
			}
			continue
		}
		ll++ // '-'
		if st == newLabel {
			st = misplaced
		} else if st == inLabel {
			st = hyphen
		}
	}
	// At least two labels; the last one, the top-level domain, of letters.
	return de, last > ds && alpha && tld >= 2 && tld <= 63
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
