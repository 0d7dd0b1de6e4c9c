//go:build goexperiment.simd && amd64

package detect

import (
	"math/bits"
	"simd/archsimd"
)

// hasAVX2 selects the vector skip loop; without AVX2 the SWAR one runs.
// (AVX-512's 64-byte compares measured no faster here.)
var hasAVX2 = archsimd.X86.AVX2()

// nextTrigger looks at 64 bytes a round as two 32-byte vectors, turned into
// bit masks (bit k for byte at+k). A four-digit run needs the three bytes
// after its start, so only starts in the first 61 bytes are decided and the
// next round begins there. The last round's mask is kept: the next trigger
// is often in the same 61 bytes.
func (s *scanner) nextTrigger(i int) int {
	buf := s.buf
	if !hasAVX2 {
		return nextTriggerSWAR(buf, i)
	}
	if i >= s.trigAt && i < s.trigEnd {
		if m := s.trigMask >> (i - s.trigAt); m != 0 {
			return i + bits.TrailingZeros64(m)
		}
		i = s.trigEnd
	}
	zero, nine := archsimd.BroadcastUint8x32('0'), archsimd.BroadcastUint8x32(9)
	at, ef := archsimd.BroadcastUint8x32('@'), archsimd.BroadcastUint8x32(0xEF)
	for i+64 <= len(buf) {
		lo := archsimd.LoadUint8x32Slice(buf[i : i+32])
		hi := archsimd.LoadUint8x32Slice(buf[i+32 : i+64])
		// x-'0' <= 9 as min(x-'0', 9) == x-'0': AVX2 has no unsigned compare
		dlo, dhi := lo.Sub(zero), hi.Sub(zero)
		digits := uint64(dlo.Min(nine).Equal(dlo).ToBits()) | uint64(dhi.Min(nine).Equal(dhi).ToBits())<<32
		special := uint64(lo.Equal(at).Or(lo.Equal(ef)).ToBits()) | uint64(hi.Equal(at).Or(hi.Equal(ef)).ToBits())<<32
		runs := digits & (digits >> 1) & (digits >> 2) & (digits >> 3)
		if t := (runs | special) & (1<<61 - 1); t != 0 {
			s.trigAt, s.trigEnd, s.trigMask = i, i+61, t
			return i + bits.TrailingZeros64(t)
		}
		i += 61
	}
	return nextTriggerSWAR(buf, i)
}
