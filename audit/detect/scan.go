package detect

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Character classes of folded (ASCII) characters, and the raw-byte trigger.
const (
	cDigit  uint8 = 1 << iota
	cUpper        // A-Z
	cLower        // a-z
	cLocal        // e-mail local part: alnum . _ % + -
	cDomain       // e-mail domain: alnum . -
	cSep          // group separator: ' ' '-' (U+3000 and '－' fold to them)
	cTrig         // raw byte that can start a candidate: digit, '@', 0xEF (full-width)

	cAlpha = cUpper | cLower
	cAlnum = cDigit | cAlpha
)

var class = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit | cLocal | cDomain | cTrig
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = cUpper | cLocal | cDomain
		t[c+32] = cLower | cLocal | cDomain
	}
	for _, c := range "._%+-" {
		t[c] |= cLocal
	}
	t['.'] |= cDomain
	t['-'] |= cDomain | cSep
	t[' '] |= cSep
	t['@'] |= cTrig
	t[0xEF] |= cTrig
	return
}()

// other is what a non-ASCII character that does not fold reads as: no class.
const other = 0x80

// charAt decodes the character at buf[i]: ASCII as is, full-width forms
// U+FF01–U+FF5E and the ideographic space U+3000 folded to ASCII (3 bytes), any
// other byte as `other` (1 byte, so that invalid UTF-8 never misaligns). At the
// end of buf it returns (0, 0).
//
// The compiler does not inline it (the call to foldAt costs too much), so the
// hottest loops spell its ASCII case out and call foldAt only for bytes >= 0x80:
//
//	c, n := buf[i], 1
//	if c >= 0x80 {
//		c, n = foldAt(buf, i)
//	}
func charAt(buf []byte, i int) (byte, int) {
	if i >= len(buf) {
		return 0, 0
	}
	b := buf[i]
	if b < 0x80 {
		return b, 1
	}
	return foldAt(buf, i)
}

func foldAt(buf []byte, i int) (byte, int) {
	if i+2 < len(buf) {
		switch buf[i] {
		case 0xEF:
			b1, b2 := buf[i+1], buf[i+2]
			if b1 == 0xBC && b2 > 0x80 && b2 <= 0xBF {
				return 0x20 + (b2 - 0x80), 3 // U+FF01..FF3F
			}
			if b1 == 0xBD && b2 >= 0x80 && b2 <= 0x9E {
				return 0x60 + (b2 - 0x80), 3 // U+FF40..FF5E
			}
		case 0xE3:
			if buf[i+1] == 0x80 && buf[i+2] == 0x80 {
				return ' ', 3
			}
		}
	}
	return other, 1
}

// endsBefore reports that the character ending at buf[i] (i > 0) is not
// alphanumeric, looking at raw bytes only: an ASCII non-alphanumeric, or a
// non-ASCII byte that cannot end a folding sequence (none starts at i-3).
// When it reports false the character may still be a non-alphanumeric;
// callers then decode it.
func endsBefore(buf []byte, i int) bool {
	b := buf[i-1]
	if b < 0x80 {
		return class[b]&cAlnum == 0
	}
	return i < 3 || buf[i-3] != 0xEF && buf[i-3] != 0xE3
}

// startsAt is endsBefore for the character that starts at buf[i] (i <
// len(buf)): only 0xEF and 0xE3 start folding sequences.
func startsAt(b byte) bool {
	if b < 0x80 {
		return class[b]&cAlnum == 0
	}
	return b != 0xEF && b != 0xE3
}

// charBefore decodes the character that ends at buf[i] (i > 0); (0, 0) at the
// start. A folding sequence cannot overlap another (its lead bytes are never
// continuation bytes), so this agrees with charAt. Hot loops spell out its
// ASCII case as they do charAt's, with foldBefore for the rest.
func charBefore(buf []byte, i int) (byte, int) {
	if i <= 0 {
		return 0, 0
	}
	b := buf[i-1]
	if b < 0x80 {
		return b, 1
	}
	return foldBefore(buf, i)
}

// foldBefore is charBefore for a non-ASCII byte at buf[i-1].
func foldBefore(buf []byte, i int) (byte, int) {
	if i >= 3 {
		if c, n := foldAt(buf, i-3); n == 3 {
			return c, 3
		}
	}
	return other, 1
}

const (
	maxWord  = 19  // longest identifier word in characters
	maxGroup = 8   // longest digit group of a grouped number
	maxLocal = 64  // longest e-mail local part in characters
	maxDom   = 255 // longest e-mail domain in bytes
	lookAt   = 3 * maxLocal
	// lag is how far past hi a trigger can lie whose identifier starts before hi
	// (an e-mail's '@' after a local part of maxLocal full-width characters).
	lag = lookAt + 8
	// keyword windows: a keyword must end at most this many bytes before the
	// identifier, with no ASCII digit in between.
	kwGapDoc  = 32
	kwGapCard = 16
)

type scanner struct {
	buf  []byte
	hint Type
	w    [maxWord + 1]byte // the current word, folded
	m    Match             // the last match found
	// count: the caller only counts, so matches carry no Value and run
	// adds them up in found instead of calling back
	count bool
	found int
	// the trigger mask of buf[trigAt:trigEnd], kept by the vector skip loop
	trigAt, trigEnd int
	trigMask        uint64
}

func (s *scanner) value(v []byte) string {
	if s.count {
		return ""
	}
	return string(v)
}

func (s *scanner) run(lo, hi int, fn func(Match)) {
	limit := hi + lag
	if limit > len(s.buf) {
		limit = len(s.buf)
	}
	buf := s.buf[:limit]
	full := s.buf
	i := lo
	for {
		i = s.nextTrigger(i)
		if i >= len(buf) {
			return
		}
		b := buf[i]
		var next int
		var ok bool
		switch {
		case b-'0' < 10:
			// Inline fast path: a short ASCII number between ASCII
			// non-alphanumerics is nothing unless it can start a grouped
			// identifier (86, 3, 4 or 6 digits, a separator, more digits).
			if i == 0 || endsBefore(full, i) {
				j := i + 1
				if i+8 <= len(full) {
					d := binary.LittleEndian.Uint64(full[i:]) ^ 0x30*lsb
					nd := (((d | msb) - 10*lsb) | d) & msb // exact: high bit of each non-digit byte
					j = i + bits.TrailingZeros64(nd)>>3    // 8 when all are digits
				} else {
					for j < len(full) && full[j]-'0' < 10 {
						j++
					}
				}
				if j-i < maxGroup {
					if j == len(full) {
						i = j
						continue
					}
					if nb := full[j]; startsAt(nb) && (class[nb]&cSep == 0 || !mayGroup(full, i, j)) {
						i = j
						continue
					}
				}
			}
			next, ok = s.digit(i)
		case b == '@':
			next, ok = s.email(i, 1)
		default: // 0xEF
			c, n := foldAt(full, i)
			switch {
			case n == 3 && c-'0' < 10:
				next, ok = s.digit(i)
			case n == 3 && c == '@':
				next, ok = s.email(i, 3)
			default:
				next = i + n
			}
		}
		if ok && s.m.Start >= lo && s.m.Start < hi {
			if s.count {
				s.found++
			} else {
				fn(s.m)
			}
		}
		if next <= i {
			next = i + 1
		}
		i = next
	}
}

// mayGroup reports whether the ASCII digits buf[i:j], followed by an ASCII
// non-alphanumeric, can start a grouped identifier: a separator and another
// group must follow, and the first two groups must fit one of the forms.
func mayGroup(buf []byte, i, j int) bool {
	if j+1 >= len(buf) {
		return false
	}
	if buf[j+1] >= 0x80 {
		return true // full-width digits: let the general path decide
	}
	if buf[j+1]-'0' >= 10 {
		return false
	}
	switch j - i {
	case 2, 3, 4, 6:
	default:
		return false
	}
	k := j + 1
	for k < len(buf) && buf[k]-'0' < 10 {
		k++
	}
	switch n := k - j - 1; j - i {
	case 2:
		return buf[i] == '8' && buf[i+1] == '6' && n == 3
	case 3:
		return n == 4
	case 4:
		return n == 3 || n == 4 || n == 6
	case 6:
		return n == 8
	}
	return false
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// digit handles a digit at p: the word around it, the grouped number it may
// start, or the e-mail address it may belong to.
func (s *scanner) digit(p int) (int, bool) {
	buf := s.buf
	// Fast path: an ASCII digit run with ASCII non-alphanumerics around it.
	ws, we := p, p+1
	for we+8 <= len(buf) {
		d := binary.LittleEndian.Uint64(buf[we:]) ^ 0x30*lsb
		if nd := (((d | msb) - 10*lsb) | d) & msb; nd != 0 {
			we += bits.TrailingZeros64(nd) >> 3
			goto end
		}
		we += 8
	}
	for we < len(buf) && buf[we]-'0' < 10 {
		we++
	}
end:
	var nch, digits int
	if buf[p]-'0' < 10 && (p == 0 || endsBefore(buf, p)) && (we == len(buf) || startsAt(buf[we])) {
		nch = we - p
		digits = nch
		if nch < maxGroup {
			// Short: only a grouped number can start here.
			if we+1 < len(buf) && class[buf[we]]&cSep != 0 && (buf[we+1]-'0' < 10 || buf[we+1] >= 0x80) ||
				ws > 1 && class[buf[ws-1]]&cSep != 0 {
				return s.groupFrom(ws, we, nch, false)
			}
			return we, false
		}
		if nch > maxWord {
			return we, false
		}
		copy(s.w[:], buf[ws:we])
	} else {
		// General path: letters, full-width forms.
		ws = p
		for back := 0; ws > 0; back++ {
			c, n := buf[ws-1], 1
			if c >= 0x80 {
				c, n = foldBefore(buf, ws)
			}
			if class[c]&cAlnum == 0 {
				break
			}
			if back >= maxWord {
				return s.skipWord(p), false
			}
			ws -= n
		}
		i := ws
		for i < len(buf) {
			c, n := buf[i], 1
			if c >= 0x80 {
				c, n = foldAt(buf, i)
			}
			if class[c]&cAlnum == 0 {
				break
			}
			if nch == maxWord {
				return s.skipWord(i), false // longer than any identifier
			}
			s.w[nch] = c
			nch++
			if class[c]&cDigit != 0 {
				digits++
			}
			i += n
		}
		we = i
		if nch <= maxGroup {
			x := digits == nch-1 && s.w[nch-1]|0x20 == 'x'
			if digits == nch || x && nch > 1 {
				if next, ok := s.groupFrom(ws, we, nch, x); ok || nch < maxGroup {
					return next, ok
				}
			}
		}
		if nch < maxGroup {
			return we, false
		}
	}
	return s.word(ws, we, nch, digits == nch)
}

// skipWord returns the end of the alphanumeric run that holds p.
func (s *scanner) skipWord(p int) int {
	buf := s.buf
	for p < len(buf) {
		c, n := buf[p], 1
		if c >= 0x80 {
			c, n = foldAt(buf, p)
		}
		if class[c]&cAlnum == 0 {
			break
		}
		p += n
	}
	return p
}

// word classifies a whole word of 8..19 characters held folded in s.w.
// The word's own form is judged first, its context only when it has one: most
// words are nothing, and the context checks cost more than the form.
func (s *scanner) word(ws, we, nch int, allDigit bool) (int, bool) {
	w := s.w[:nch]
	m := Match{Start: ws, End: we}
	switch nch {
	case 18:
		// the first 17 are digits: all are, or the last is an X
		shape := (allDigit || w[17]|0x20 == 'x' && allDigits(w[:17])) && idDateOK(w)
		switch {
		case shape && idCheckOK(w): // validID18
			if w[17] == 'x' {
				w[17] = 'X'
			}
			m.Type = ResidentID
		case validUSCC(w):
			m.Type = USCC
		case allDigit && !shape && s.card(w, ws):
			m.Type = BankCard
		}
	case 15:
		switch {
		case !allDigit:
		case id15OK(w) && !imei(w):
			m.Type = ResidentID
		case cardOK(w, false):
			m.Type = BankCard
		case w[0] == '0' && w[1] == '0' && w[2] == '8' && w[3] == '6' && mobileOK(w[4:]):
			m.Type, w = Mobile, w[4:]
			m.Start = s.plusBefore(ws)
		}
	case 16, 17, 19:
		if allDigit && s.card(w, ws) {
			m.Type = BankCard
		}
	case 11:
		if allDigit && mobileOK(w) {
			m.Type = Mobile
			m.Start = s.mobilePrefix(ws)
		}
	case 13:
		if allDigit && w[0] == '8' && w[1] == '6' && mobileOK(w[2:]) {
			m.Type, w = Mobile, w[2:]
			m.Start = s.plusBefore(ws)
		}
	}
	if m.Type == "" && nch <= 11 {
		upper(w)
		switch {
		case passportShape(w) && s.keyword(ws, passportKw, kwGapDoc, Passport):
			m.Type = Passport
		case permitShape(w, allDigit) && !(allDigit && s.chained(ws, we)) &&
			s.keyword(ws, permitKwFor(allDigit), kwGapDoc, HMTPermit):
			m.Type = HMTPermit
		}
	}
	if m.Type == "" {
		return we, false
	}
	// A word that leads to an '@' is an address's local part; a word without
	// a type gets there too, from the '@' itself.
	if a, an := s.atAfter(we); a >= 0 {
		return s.email(a, an)
	}
	if s.inDomain(ws) || s.decimalBefore(ws) {
		return we, false
	}
	m.Value = s.value(w)
	s.m = m
	return we, true
}

func upper(w []byte) {
	for i, c := range w {
		if class[c]&cLower != 0 {
			w[i] = c - 32
		}
	}
}

func isSep(c byte) bool { return class[c]&cSep != 0 }

// plusBefore extends a joined +86 number to its '+'.
func (s *scanner) plusBefore(ws int) int {
	if c, n := charBefore(s.buf, ws); c == '+' {
		return ws - n
	}
	return ws
}

// mobilePrefix returns where a mobile number at ws starts when a separate
// country code ("86", "+86", "0086") stands before it, one separator apart.
func (s *scanner) mobilePrefix(ws int) int {
	buf := s.buf
	c, n := charBefore(buf, ws)
	if !isSep(c) {
		return ws
	}
	j := ws - n
	k, nd := j, 0
	var d [5]byte
	for nd < 5 {
		c, n := charBefore(buf, k)
		if class[c]&cDigit == 0 {
			break
		}
		d[4-nd] = c
		k -= n
		nd++
	}
	if !(nd == 2 && d[3] == '8' && d[4] == '6' || nd == 4 && d[1] == '0' && d[2] == '0' && d[3] == '8' && d[4] == '6') {
		return ws
	}
	c, n = charBefore(buf, k)
	switch {
	case c == '+':
		return k - n
	case class[c]&cAlnum != 0:
		return ws
	case isSep(c):
		// "2024 86 138…": the 86 continues a run of numbers, it is no prefix.
		if c2, _ := charBefore(buf, k-n); class[c2]&cDigit != 0 {
			return ws
		}
	}
	return k
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

// decimalBefore: digits after "<digit>." are the fraction of a decimal number
// ("0.13812345678"). The integer part of one is kept: a CSV column of phone
// numbers read as floats is written "13812345678.0".
func (s *scanner) decimalBefore(ws int) bool {
	c, n := charBefore(s.buf, ws)
	if c != '.' {
		return false
	}
	c, _ = charBefore(s.buf, ws-n)
	return class[c]&cDigit != 0
}

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

var (
	passportKw = []string{"护照", "passport"}
	permitKw   = []string{"通行证", "回乡证", "台胞证", "港澳", "往来", "台湾", "香港", "澳门"}
	// a bare 8-digit number is a permit only after one of these
	bareKw = []string{"台胞证", "通行证", "台湾居民"}
	cardKw = []string{"卡号", "银行卡", "信用卡", "借记卡", "储蓄卡", "card", "账号", "帐号"}
)

func permitKwFor(bare bool) []string {
	if bare {
		return bareKw
	}
	return permitKw
}

// keyword reports one of kws ending at most gap bytes before ws with no ASCII
// digit in between, or a column hint of type hint.
func (s *scanner) keyword(ws int, kws []string, gap int, hint Type) bool {
	if s.hint != "" {
		return s.hint == hint
	}
	lo := ws - gap - 12
	if lo < 0 {
		lo = 0
	}
	var low [kwGapDoc + 12]byte
	win := low[:0]
	for i := lo; i < ws; i++ {
		c := s.buf[i]
		if c-'0' < 10 {
			win = win[:0]
			lo = i + 1
			continue
		}
		if class[c]&cUpper != 0 {
			c += 32
		}
		win = append(win, c)
	}
	for _, kw := range kws {
		// the keyword must end at or after ws-gap: search only where it can start
		from := ws - gap - len(kw) - lo
		if from < 0 {
			from = 0
		}
		if from < len(win) && bytes.Contains(win[from:], []byte(kw)) {
			return true
		}
	}
	return false
}

// card validates a card number at ws; the keyword is looked up only for the
// prefixes that need one.
func (s *scanner) card(v []byte, ws int) bool {
	// v is all digits: a digit word, or the groups of a grouped number
	if v[0] == '2' || v[0] == '9' {
		return cardOK(v, true) && s.keyword(ws, cardKw, kwGapCard, BankCard)
	}
	return cardOK(v, false)
}

func digitsFrom(w []byte, i int) bool {
	return i < len(w) && allDigits(w[i:])
}

// passportShape: E/G + 8 digits, E + letter + 7 digits, DE/SE/PE + 7 digits,
// older D/S/P + 7 or 8 digits, 1990s 14/15 + 7 digits.
func passportShape(w []byte) bool {
	switch len(w) {
	case 9:
		switch w[0] {
		case 'E':
			return digitsFrom(w, 1) || class[w[1]]&cUpper != 0 && digitsFrom(w, 2)
		case 'G':
			return digitsFrom(w, 1)
		case 'D', 'S', 'P':
			return digitsFrom(w, 1) || w[1] == 'E' && digitsFrom(w, 2)
		case '1':
			return (w[1] == '4' || w[1] == '5') && digitsFrom(w, 0)
		}
	case 8:
		switch w[0] {
		case 'D', 'S', 'P':
			return digitsFrom(w, 1)
		}
	}
	return false
}

// permitShape: 往来港澳通行证 C/W + 8 digits or C + letter + 7 digits;
// 往来台湾通行证 L/T + 8 digits; 台胞证 8 digits (the caller rejects one that
// is joined to other numbers);
// 回乡证 H/M + 8–10 digits.
func permitShape(w []byte, allDigit bool) bool {
	switch n := len(w); {
	case n == 8 && allDigit:
		return true
	case n == 9 && (w[0] == 'C' || w[0] == 'W' || w[0] == 'L' || w[0] == 'T' || w[0] == 'H' || w[0] == 'M'):
		return digitsFrom(w, 1) || w[0] == 'C' && class[w[1]]&cUpper != 0 && digitsFrom(w, 2)
	case (n == 10 || n == 11) && (w[0] == 'H' || w[0] == 'M'):
		return digitsFrom(w, 1)
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
