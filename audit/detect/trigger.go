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

// nextTriggerSWAR is the portable skip loop, sixteen bytes at a time in two
// uint64 words. The buffer is sliced once and walked by an index the compiler can
// prove in bounds, and the two words share one test for "nothing here", the
// common case. A run that starts in the last three bytes of a step is found
// in the next one, from the digit flags carried over. The lowest flag of each
// kind is exact.
func nextTriggerSWAR(buf []byte, i int) int {
	if uint(i) >= uint(len(buf)) {
		return i
	}
	var carry uint64
	for ; i <= len(buf)-16; i += 16 {
		w := buf[i : i+16]
		x0 := binary.LittleEndian.Uint64(w)
		x1 := binary.LittleEndian.Uint64(w[8:])
		// Only the high bit of each byte counts until the final & msb:
		// the shifts below move whole bytes, so the low bits never reach
		// a high bit, and masking once saves the compiler's many masks.
		d0, d1 := digitFlags(x0), digitFlags(x1)
		// runs of two digits from each byte, then of four: exact for
		// starts 0-12; starts 13-15 read as none (zeros shift in from
		// above) and are found from carry in the next step
		p0 := d0 & (d0>>8 | d1<<56)
		p1 := d1 & (d1 >> 8)
		m0 := (p0&(p0>>16|p1<<48) | atOrEF(x0)) & msb
		m1 := (p1&(p1>>16) | atOrEF(x1)) & msb
		if carry|m0|m1 != 0 {
			if carry != 0 {
				u := carry | d0<<24
				u &= u >> 8
				if rs := u & (u >> 16) & 0x808080; rs != 0 {
					return i + bits.TrailingZeros64(rs)>>3 - 3
				}
			}
			if m0 != 0 {
				return i + bits.TrailingZeros64(m0)>>3
			}
			if m1 != 0 {
				return i + 8 + bits.TrailingZeros64(m1)>>3
			}
		}
		carry = d1 >> 40 & 0x808080
	}
	return nextTrigger8(buf, i, carry)
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

// nextTrigger8 is the tail of nextTriggerSWAR: one word of eight bytes while
// there is one, so that what is left to the byte loop (which stops at any
// digit) is at most ten bytes; carry holds the digit flags of the three
// bytes before i.
func nextTrigger8(buf []byte, i int, carry uint64) int {
	for uint(i) <= uint(len(buf)-8) && i+8 <= len(buf) {
		x := binary.LittleEndian.Uint64(buf[i : i+8])
		dg := digitFlags(x) & msb
		if carry != 0 {
			u := carry | dg<<24
			u &= u >> 8
			if rs := u & (u >> 16) & 0x808080; rs != 0 {
				return i + bits.TrailingZeros64(rs)>>3 - 3
			}
		}
		r := dg & (dg >> 8)
		r &= r >> 16
		if m := r | atOrEF(x)&msb; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		carry = dg >> 40
		i += 8
	}
	if carry != 0 {
		// runs that start in the last three bytes of the last window
		for k := 3; k > 0; k-- {
			if i-k >= 0 && buf[i-k]-'0' < 10 {
				i -= k
				break
			}
		}
	}
	return nextTriggerBytes(buf, i)
}

// nextTriggerBytes is the byte-at-a-time tail: any digit, '@' or 0xEF.
func nextTriggerBytes(buf []byte, i int) int {
	for i < len(buf) && class[buf[i]]&cTrig == 0 {
		i++
	}
	return i
}
