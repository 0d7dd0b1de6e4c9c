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
// The scanner's nextTrigger (trigger_amd64.go, trigger_other.go) returns the first trigger
// at or after i, or len(buf).

// nextTriggerSWAR is nextTrigger eight bytes at a time in a uint64. A run that
// starts in the last three bytes of a window is found in the next one, from
// the digit flags carried over. The lowest flag of each kind is exact.
func nextTriggerSWAR(buf []byte, i int) int {
	var carry uint64
	for uint(i) <= uint(len(buf)-8) && i+8 <= len(buf) {
		x := binary.LittleEndian.Uint64(buf[i : i+8])
		d := x ^ 0x30*lsb
		dg := ^(((d | msb) - 10*lsb) | d) & msb // high bit of each digit byte
		if carry != 0 {
			u := carry | dg<<24
			u &= u >> 8
			if rs := u & (u >> 16) & 0x808080; rs != 0 {
				return i + bits.TrailingZeros64(rs)>>3 - 3
			}
		}
		r := dg & (dg >> 8)
		r &= r >> 16
		a := x ^ 0x40*lsb
		e := x ^ 0xEF*lsb
		if m := r | ((a-lsb)&^a|(e-lsb)&^e)&msb; m != 0 {
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
