package detect

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// The scan loop: from trigger to trigger, the word or digit group around each
// one, and which rule a word of a given shape goes to (word). The rules
// themselves live in one file per identifier type.

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
	// borrow: a Value that is a slice of buf as written may share buf's
	// memory (FindInBorrowed)
	borrow bool
	// the trigger mask of buf[trigAt:trigAt+61], kept from the last round
	// of the skip loop (0 when there is none)
	trigAt   int
	trigMask uint64
}

func (s *scanner) value(v []byte) string {
	if s.count {
		return ""
	}
	if s.borrow && within(s.buf, v) {
		return unsafe.String(unsafe.SliceData(v), len(v))
	}
	return string(v)
}

// within reports whether v lies inside buf's memory: the value is a slice
// of the text as written (a plain run of digits, the common case), not a
// normalised copy in a scratch buffer.
func within(buf, v []byte) bool {
	if len(v) == 0 || len(v) > len(buf) {
		return false
	}
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return p >= b && p-b <= uintptr(len(buf)-len(v))
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
			// Inline fast path: an ASCII number between ASCII
			// non-alphanumerics. A short one is nothing unless it can
			// start a grouped identifier (86, 3, 4 or 6 digits, a
			// separator, more digits); a long one is a whole word of
			// digits, judged at once without copying it.
			if i == 0 || endsBefore(full, i) {
				j := s.runEnd(i)
				if j == len(full) {
					if j-i < maxGroup {
						i = j
						continue
					}
				} else if nb := full[j]; startsAt(nb) {
					if j-i >= maxGroup {
						next, ok = j, false
						if j-i <= maxWord {
							next, ok = s.word(full[i:j], i, j, true)
						}
						break
					}
					if class[nb]&cSep == 0 || secondGroupShort(full, j) || !mayGroupForm(full, i, j) {
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
// Its switches are viable's first two steps spelt out (viable is not
// inlined, and this runs at every digit run of every line);
// TestMayGroupAgreesWithViable keeps them the same. The scan loop calls its
// two parts itself: the compiler inlines secondGroupShort there, and would
// not inline mayGroup (a function that calls another costs more than its
// budget).
func mayGroup(buf []byte, i, j int) bool {
	return !secondGroupShort(buf, j) && mayGroupForm(buf, i, j)
}

// secondGroupShort reports whether the group after the separator at j is
// ASCII and has fewer than three digits. The second group has three digits
// or more in every form, and most numbers a separator follows (the year of
// a date, an amount) fail here, at its third byte, without a call.
func secondGroupShort(buf []byte, j int) bool {
	return j+3 < len(buf) && buf[j+1] < 0x80 && buf[j+3]-'0' >= 10
}

// mayGroupForm is the rest of mayGroup.
func mayGroupForm(buf []byte, i, j int) bool {
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

// runEnd is digitsEnd for a digit trigger at i, the start of a four-digit
// run: from the kept mask of the last round when the run ends inside it
// (a run of n digits starts n-3 four-digit runs in a row, and the three
// digits after the last one start none), else digitsEnd. Any digit trigger
// that lies in the kept round came from its mask, so bit i is set there; a
// clear bit means there is no mask to read (the 16-byte loop of the last 63
// bytes keeps none).
func (s *scanner) runEnd(i int) int {
	if k := uint(i - s.trigAt); k < 61 {
		if ones := bits.TrailingZeros64(^(s.trigMask >> k)); ones > 0 && int(k)+ones < 61 {
			return i + ones + 3
		}
	}
	return digitsEnd(s.buf, i)
}

// digitsEnd returns the end of the run of ASCII digits that starts at
// buf[i], a digit: eight bytes at a time while they last. (Each load slices
// buf[j:j+8], not buf[j:]: a slice of known length spares the compiler's
// pointer masking for an empty one, which cost more than the test.)
func digitsEnd(buf []byte, i int) int {
	j := i + 1
	for j+8 <= len(buf) {
		d := binary.LittleEndian.Uint64(buf[j:j+8]) ^ 0x30*lsb
		if nd := (((d | msb) - 10*lsb) | d) & msb; nd != 0 { // high bit of each non-digit byte
			return j + bits.TrailingZeros64(nd)>>3
		}
		j += 8
	}
	for j < len(buf) && buf[j]-'0' < 10 {
		j++
	}
	return j
}

// digit handles a digit at p: the word around it, the grouped number it may
// start, or the e-mail address it may belong to.
func (s *scanner) digit(p int) (int, bool) {
	buf := s.buf
	// Fast path: an ASCII digit run with ASCII non-alphanumerics around it.
	ws, we := p, digitsEnd(buf, p)
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
		return s.word(buf[ws:we], ws, we, true)
	} else {
		// General path: letters, full-width forms.
		ws = p
		back := 0
		for ; ws > 0; back++ {
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
		if e := alnumEnd(buf, ws); ws+back == p && (e == len(buf) || startsAt(buf[e])) {
			return s.asciiWord(ws, e)
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
	return s.word(s.w[:nch], ws, we, digits == nch)
}

// asciiWord is digit's general path for a word buf[ws:we] that is all ASCII
// letters and digits (the walk back crossed only ASCII bytes, and a byte
// that ends words stops it): its bounds are known at once, its digits are
// the run at its start, and it is copied only when it goes to word with
// letters in it (word folds those in place).
func (s *scanner) asciiWord(ws, we int) (int, bool) {
	buf := s.buf
	nch := we - ws
	if nch > maxWord {
		return we, false
	}
	lead := 0 // the digits at its start (the run stops at we: buf[we] is no digit)
	if buf[ws]-'0' < 10 {
		lead = digitsEnd(buf, ws) - ws
	}
	allDigit := lead == nch
	x := lead == nch-1 && buf[we-1]|0x20 == 'x' // digits then an X: a group's last form
	if nch <= maxGroup && (allDigit || x && nch > 1) {
		if next, ok := s.groupFrom(ws, we, nch, x); ok || nch < maxGroup {
			return next, ok
		}
	}
	if nch < maxGroup {
		return we, false
	}
	if allDigit {
		return s.word(buf[ws:we], ws, we, true)
	}
	return s.word(s.w[:copy(s.w[:], buf[ws:we])], ws, we, false)
}

// skipWord returns the end of the alphanumeric run that holds p: its ASCII
// stretches eight bytes at a time, the full-width forms between them one by
// one.
func (s *scanner) skipWord(p int) int {
	buf := s.buf
	for {
		p = alnumEnd(buf, p)
		if p == len(buf) || buf[p] < 0x80 {
			return p
		}
		c, n := foldAt(buf, p)
		if class[c]&cAlnum == 0 {
			return p
		}
		p += n
	}
}

// alnumEnd returns the end of the run of ASCII letters and digits that
// starts at buf[i] (i itself if there is none): eight bytes at a time while
// they last.
func alnumEnd(buf []byte, i int) int {
	for i+8 <= len(buf) {
		if na := notAlnum(binary.LittleEndian.Uint64(buf[i : i+8])); na != 0 {
			return i + bits.TrailingZeros64(na)>>3
		}
		i += 8
	}
	for i < len(buf) && class[buf[i]]&cAlnum != 0 {
		i++
	}
	return i
}

// notAlnum sets the high bit of each byte of x that is not an ASCII letter or
// digit, and clears every other bit. It is exact for every byte: each test
// first sets the byte's high bit, so no borrow crosses into the next byte.
func notAlnum(x uint64) uint64 {
	d := x ^ 0x30*lsb
	notDigit := ((d | msb) - 10*lsb) | d // high bit: (x^'0')&0x7F >= 10, or x >= 0x80
	u := x | 0x20*lsb | msb              // letters folded to lower case, high bit set
	notLetter := ^(u - 0x61*lsb) | (u - 0x7B*lsb) | x
	return notDigit & notLetter & msb
}

// word classifies a whole word of 8..19 characters, buf[ws:we] folded into
// w: s.w, or buf[ws:we] itself when that is all ASCII digits (then w is only
// read: upper and the X of an ID change no digit). The word's own form is
// judged first, its context only when it has one: most words are nothing,
// and the context checks cost more than the form.
func (s *scanner) word(w []byte, ws, we int, allDigit bool) (int, bool) {
	nch := len(w)
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
		case s.card(w, ws):
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
		if !allDigit {
			upper(w)
		}
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
	// The bytes either side settle most words without these calls.
	if we < len(s.buf) && mayLocal(s.buf[we]) {
		if a, an := s.atAfter(we); a >= 0 {
			return s.email(a, an)
		}
	}
	if ws > 0 && mayDomain(s.buf[ws-1]) && (s.inDomain(ws) || s.decimalBefore(ws)) {
		return we, false
	}
	m.Value = s.value(w)
	s.m = m
	return we, true
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
