package detect

import (
	"encoding/binary"
	"math/bits"
)

// Triggers. Every identifier holds a trigger: a run of four ASCII digits
// (seven digits in a row at least, or a group of four in a grouped number),
// an '@', or the lead byte 0xEF of a full-width form. The scanner looks only
// at triggers; everything between them is skipped as fast as the machine
// allows. Stopping at more places than these is safe, only slower: near the
// end of the buffer the skip loops stop at any single digit.
//
// The scanner's nextTrigger (below) returns the first trigger at or after i,
// or len(buf). It calls one of three round loops, which look at 64 bytes a
// round and keep the mask of the triggers in its first 61: on amd64 a vector
// loop in assembly, AVX2 where the CPU has it, else SSE2, which every x86-64
// CPU has (trigger_amd64.go); on other architectures and under the build tag
// noasm the portable triggerRound (trigger_other.go). The 16-byte portable
// loop nextTriggerSWAR finishes the last 63 bytes for all of them.

// nextTriggerSWAR is the portable skip loop: sixteen bytes at a time in two
// uint64 words, the windows thirteen bytes apart. A four-digit run needs the
// three bytes after its start, so a window decides the runs that start in
// its first thirteen bytes (those that start in its last three read as none,
// zeros shifting in from above) and the next window begins there: no state
// is carried from one window to the next, which keeps the loop's values in
// registers. The two words share one test for "nothing here", the common
// case. The lowest flag of each kind is exact ('@' and 0xEF are exact in
// every byte, and a run that starts in the last three bytes could only hold
// them, not precede them).
func nextTriggerSWAR(buf []byte, i int) int {
	if uint(i) >= uint(len(buf)) {
		return i
	}
	for ; i <= len(buf)-16; i += 13 {
		w := buf[i : i+16]
		x0 := binary.LittleEndian.Uint64(w)
		x1 := binary.LittleEndian.Uint64(w[8:])
		// Only the high bit of each byte counts until the final & msb:
		// the shifts below move whole bytes, so the low bits never reach
		// a high bit, and masking once saves the compiler's many masks.
		d0, d1 := digitFlags(x0), digitFlags(x1)
		// runs of two digits from each byte, then of four
		p0 := d0 & (d0>>8 | d1<<56)
		p1 := d1 & (d1 >> 8)
		m0 := (p0&(p0>>16|p1<<48) | atOrEF(x0)) & msb
		m1 := (p1&(p1>>16) | atOrEF(x1)) & msb
		if m0|m1 != 0 {
			if m0 != 0 {
				return i + bits.TrailingZeros64(m0)>>3
			}
			return i + 8 + bits.TrailingZeros64(m1)>>3
		}
	}
	return nextTriggerBytes(buf, i) // the last 15 bytes or fewer
}

// digitFlags sets the high bit of each ASCII digit byte of x; the low seven
// bits of each byte are left over from the test.
func digitFlags(x uint64) uint64 {
	d := x ^ 0x30*lsb
	return ^(((d | msb) - 10*lsb) | d)
}

// atOrEF sets the high bit of each '@' and 0xEF byte of x (above the lowest
// such byte a borrow may set more); the low seven bits of each byte are left
// over from the test.
func atOrEF(x uint64) uint64 {
	a := x ^ 0x40*lsb
	e := x ^ 0xEF*lsb
	return (a-lsb)&^a | (e-lsb)&^e
}

// nextTriggerBytes is the byte-at-a-time tail: any digit, '@' or 0xEF
// (a single digit too: stopping early is safe, and this is only the end of
// the buffer).
func nextTriggerBytes(buf []byte, i int) int {
	for i < len(buf) && class[buf[i]]&cTrig == 0 {
		i++
	}
	return i
}

// nextTrigger returns the first trigger at or after i, or len(s.buf): from
// the kept mask of the last round (the next trigger is often in the same 61
// bytes), else the next round that holds one (nextRound: the AVX2 or SSE2
// loop on amd64, triggerRound elsewhere; all keep the same mask), else the
// portable loop for the last 63 bytes. (Inlining the kept-mask test into the
// scan loop was tried: the loop's registers spilled, and it cost more than
// the call.)
func (s *scanner) nextTrigger(i int) int {
	// Go shifts by 64 or more give 0, and an i before trigAt wraps round to
	// such a shift: no other test is needed.
	if m := s.trigMask >> uint(i-s.trigAt); m != 0 {
		return i + bits.TrailingZeros64(m)
	}
	if uint(i-s.trigAt) < 61 && s.trigMask != 0 {
		i = s.trigAt + 61 // i was in the kept round, past its last trigger
	}
	if i+64 <= len(s.buf) {
		at, m := nextRound(s.buf, i)
		if m != 0 {
			s.trigAt, s.trigMask = at, m
			return at + bits.TrailingZeros64(m)
		}
		i = at
	}
	return nextTriggerSWAR(s.buf, i)
}

// triggerRound is the vector loops' round (trigger_amd64.go) in portable Go:
// from i on, in rounds 61 bytes apart that have 64 bytes, the first round
// start that holds a trigger among its first 61 bytes, with their mask (bit
// k for the byte at+k); else, with mask 0, the first round start with fewer
// than 64 bytes left. Each of the round's eight words gives a byte of flags
// for its non-digits, gathered from the high bits, and the runs of four
// digits are found in the round's 64-bit mask at once. '@' and 0xEF are rare:
// atOrEF, exact in whether a word holds one, says whether to gather their
// exact flags (roundMarks). Against the 16-byte loop, the kept mask spares a
// dense log a call for most triggers: 11% fewer instructions in BenchmarkFind.
func triggerRound(buf []byte, i int) (at int, mask uint64) {
	for ; i >= 0 && i+64 <= len(buf); i += 61 { // i >= 0 and a known capacity
		w := buf[i : i+64 : i+64] // spare the loads' bounds checks
		// The eight words written out: as a loop, the shifts by a variable
		// cost 4% more instructions in BenchmarkFind.
		x := binary.LittleEndian.Uint64(w[0:8])
		other, anyMark := gather(^digitFlags(x)&msb), atOrEF(x)
		x = binary.LittleEndian.Uint64(w[8:16])
		other, anyMark = other|gather(^digitFlags(x)&msb)<<8, anyMark|atOrEF(x)
		x = binary.LittleEndian.Uint64(w[16:24])
		other, anyMark = other|gather(^digitFlags(x)&msb)<<16, anyMark|atOrEF(x)
		x = binary.LittleEndian.Uint64(w[24:32])
		other, anyMark = other|gather(^digitFlags(x)&msb)<<24, anyMark|atOrEF(x)
		x = binary.LittleEndian.Uint64(w[32:40])
		other, anyMark = other|gather(^digitFlags(x)&msb)<<32, anyMark|atOrEF(x)
		x = binary.LittleEndian.Uint64(w[40:48])
		other, anyMark = other|gather(^digitFlags(x)&msb)<<40, anyMark|atOrEF(x)
		x = binary.LittleEndian.Uint64(w[48:56])
		other, anyMark = other|gather(^digitFlags(x)&msb)<<48, anyMark|atOrEF(x)
		x = binary.LittleEndian.Uint64(w[56:64])
		other, anyMark = other|gather(^digitFlags(x)&msb)<<56, anyMark|atOrEF(x)
		digits := ^other
		runs := digits & (digits >> 1)
		runs &= runs >> 2
		if anyMark&msb != 0 { // '@' and 0xEF are rare: gather them only here
			runs |= roundMarks(w)
		}
		if m := runs & (1<<61 - 1); m != 0 {
			return i, m
		}
	}
	return i, 0
}

// roundMarks returns the marks of the 64 bytes w, bit k for byte k.
func roundMarks(w []byte) uint64 {
	var marks uint64
	for k := 0; k+8 <= len(w); k += 8 {
		marks |= gather(exactMarks(binary.LittleEndian.Uint64(w[k:k+8]))) << k
	}
	return marks
}

// exactMarks sets the high bit of each byte of x that is '@' or 0xEF, and no
// other bit (atOrEF is exact only in its lowest byte).
func exactMarks(x uint64) uint64 {
	const low7 = ^uint64(msb)
	a, e := x^0x40*lsb, x^0xEF*lsb
	// the high bit of (t&low7)+low7 | t is set where the byte of t is not 0
	return ^(((a & low7) + low7 | a) & ((e & low7) + low7 | e)) & msb
}

// gather moves the high bit of each byte of f (all other bits 0) to bit k
// for byte k: each lands in the top byte of the product, and no two partial
// products share a bit, so nothing carries.
func gather(f uint64) uint64 { return f * 0x0002040810204081 >> 56 }
