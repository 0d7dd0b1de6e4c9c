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
// The scanner's nextTrigger returns the first trigger at or after i, or
// len(buf), with one of three skip loops: on amd64 a vector loop in assembly,
// AVX2 where the CPU has it, else SSE2, which every x86-64 CPU has
// (trigger_amd64.go); on other architectures and under the build tag noasm
// the portable loop below (trigger_other.go), which also finishes the last
// 63 bytes for the vector loops.

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
