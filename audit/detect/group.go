package detect

import "bytes"

// Digit grouping: numbers written in short groups joined by one space or '-'
// (a mobile as 3-4-4, a card as 4-4-4-4-3, an ID as 6-8-4), tried from the
// first group of the run, and the whole run must be the identifier.

// groupAt parses the word at i as a digit group: 1..maxGroup digits, the last
// of which may be X. It returns the end, the digit count and whether it ends in X.
func (s *scanner) groupAt(i int) (end, n int, x, ok bool) {
	buf := s.buf
	for {
		c, k := charAt(buf, i)
		switch {
		case class[c]&cDigit != 0:
			if x {
				return 0, 0, false, false
			}
		case c|0x20 == 'x' && n > 0 && !x:
			x = true
		case class[c]&cAlnum != 0:
			return 0, 0, false, false
		default:
			return i, n, x, n > 0
		}
		n++
		if n > maxGroup {
			return 0, 0, false, false
		}
		i += k
	}
}

// chainStart reports that the group at ws does not continue a run of groups.
func (s *scanner) chainStart(ws int) bool {
	buf := s.buf
	c, n := charBefore(buf, ws)
	if !isSep(c) {
		return true
	}
	k := ws - n
	last, digits := true, 0
	for nch := 0; ; nch++ {
		c, n := charBefore(buf, k)
		switch {
		case class[c]&cDigit != 0:
			digits++
		case c|0x20 == 'x' && last:
		case class[c]&cAlnum != 0:
			return true // a word with letters: no group
		default:
			// a group (digits, perhaps a final X) ends right before the separator
			return digits == 0
		}
		if nch >= maxGroup {
			return true
		}
		last = false
		k -= n
	}
}

// chained reports a word that is joined to a digit group by one separator.
func (s *scanner) chained(ws, we int) bool {
	if !s.chainStart(ws) {
		return true
	}
	c, n := charAt(s.buf, we)
	if !isSep(c) {
		return false
	}
	_, _, _, ok := s.groupAt(we + n)
	return ok
}

// groupFrom handles a digit group at [ws,we): the run of groups it belongs
// to is tried from its first group (which, being short, may not have been a
// trigger). It returns the end of the run on a match, else we.
func (s *scanner) groupFrom(ws, we, n int, x bool) (int, bool) {
	if s.chainStart(ws) {
		return s.group(ws, we, n, x)
	}
	fs := ws
	for steps := 0; ; steps++ {
		if steps == 5 {
			return we, false // longer than any grouped form
		}
		_, cn := charBefore(s.buf, fs)
		k := fs - cn
		for {
			c, cn := charBefore(s.buf, k)
			if class[c]&cAlnum == 0 {
				break
			}
			k -= cn
		}
		fs = k
		if s.chainStart(fs) {
			break
		}
	}
	fe, fn, fx, ok := s.groupAt(fs)
	if !ok {
		return we, false
	}
	if next, ok := s.group(fs, fe, fn, fx); ok {
		return next, true
	}
	return we, false
}

type group struct {
	s, e, n int
	x       bool
}

// group handles a digit group at [ws,we) with n characters: when it starts a
// run of groups that forms a grouped identifier, the match; else the word end.
func (s *scanner) group(ws, we, n int, x bool) (int, bool) {
	fail := we
	if !viable(n, 0, 0) {
		return fail, false
	}
	if n == 2 {
		if c, cn := charAt(s.buf, ws); c != '8' {
			return fail, false
		} else if c, _ = charAt(s.buf, ws+cn); c != '6' {
			return fail, false
		}
	}
	var g [5]group
	var sep [5]byte
	g[0] = group{ws, we, n, x}
	k := 1
	e := we
	for {
		c, cn := charAt(s.buf, e)
		if !isSep(c) {
			break
		}
		ge, gn, gx, ok := s.groupAt(e + cn)
		if !ok {
			break
		}
		if k == len(g) || !viable(g[0].n, k, gn) {
			return fail, false // no grouped form goes on like this
		}
		sep[k-1] = c
		g[k] = group{e + cn, ge, gn, gx}
		k++
		e = ge
	}
	if k < 2 {
		return fail, false
	}
	same := func(from int) bool {
		for i := from + 1; i < k-1; i++ {
			if sep[i] != sep[from] {
				return false
			}
		}
		return true
	}
	noX := func(upto int) bool {
		for i := 0; i < upto; i++ {
			if g[i].x {
				return false
			}
		}
		return true
	}
	lens := func(want ...int) bool {
		if len(want) != k {
			return false
		}
		for i, l := range want {
			if g[i].n != l {
				return false
			}
		}
		return true
	}
	var d [maxWord + 4]byte
	nd := 0
	digitsOf := func(from int) []byte {
		nd = 0
		for i := from; i < k; i++ {
			for j := g[i].s; j < g[i].e; {
				c, cn := charAt(s.buf, j)
				if nd < len(d) {
					d[nd] = c
				}
				nd++
				j += cn
			}
		}
		return d[:nd]
	}
	start := ws
	var t Type
	var v []byte
	switch {
	case lens(3, 4, 4) && same(0) && noX(k):
		if v = digitsOf(0); validMobile(v) {
			t = Mobile
		}
	case k == 4 && g[1].n == 3 && g[2].n == 4 && g[3].n == 4 && same(1) && noX(k) &&
		(g[0].n == 2 || g[0].n == 4):
		pre := digitsOf(0)
		if bytes.HasPrefix(pre, []byte("86")) && g[0].n == 2 || bytes.HasPrefix(pre, []byte("0086")) && g[0].n == 4 {
			if v = pre[g[0].n:]; validMobile(v) {
				t = Mobile
				start = s.plusBefore(ws)
			}
		}
	case (lens(4, 4, 4, 4) || k == 5 && g[4].n <= 3 && lens(4, 4, 4, 4, g[4].n)) && same(0) && noX(k):
		if v = digitsOf(0); s.card(v, ws) {
			t = BankCard
		}
	case lens(4, 6, 5) && same(0) && noX(k):
		if v = digitsOf(0); validCard(v, false) {
			t = BankCard
		}
	case lens(6, 8, 4) && same(0) && noX(2):
		if v = digitsOf(0); validID18(v) {
			if v[17] == 'x' {
				v[17] = 'X'
			}
			t = ResidentID
		}
	}
	if t == "" {
		return fail, false
	}
	if s.inDomain(start) || s.decimalBefore(start) {
		return fail, false
	}
	if a, _ := s.atAfter(g[k-1].e); a >= 0 {
		return fail, false // the last group is an address's local part
	}
	if !s.chainStart(ws) {
		return fail, false
	}
	s.m = Match{Type: t, Start: start, End: e, Value: s.value(v)}
	return e, true
}

// viable reports whether a run of groups whose first group has n0 digits
// can still form a grouped identifier when its group k has n digits:
// 3-4-4 mobile, 86/0086 + 3-4-4, 4-4-4-4(-1..3) card, 4-6-5 Amex, 6-8-4 ID.
func viable(n0, k, n int) bool {
	switch k {
	case 0:
		return n0 == 2 || n0 == 3 || n0 == 4 || n0 == 6
	case 1:
		switch n0 {
		case 2:
			return n == 3
		case 3:
			return n == 4
		case 4:
			return n == 3 || n == 4 || n == 6
		case 6:
			return n == 8
		}
	case 2:
		return n == 4 || n == 5
	case 3:
		return n == 4
	case 4:
		return n0 == 4 && n <= 3
	}
	return false
}
