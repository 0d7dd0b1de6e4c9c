//go:build !noavx2

package detect

import (
	"math/bits"

	"golang.org/x/sys/cpu"
)

// useAVX2 picks the skip loop when the program starts: the AVX2 one
// (trigger_amd64.s) where the CPU and the OS support it, the portable one
// (nextTriggerSWAR) elsewhere. One binary serves every x86-64 server; the
// build tag noavx2 leaves the assembly out, for tests and benchmarks of the
// portable loop. (Not purego: the standard library's crypto reads that tag
// too, and a benchmark of the whole scan would time a slower SHA-256.)
var useAVX2 = cpu.X86.HasAVX2

// triggerAVX2 looks at buf from i on, 64 bytes a round as two 32-byte
// vectors turned into bit masks (bit k for the byte at+k). A four-digit run
// needs the three bytes after its start, so only starts in the first 61
// bytes of a round are decided and the next round begins 61 bytes on. It
// returns the first round start at that holds a trigger, with the mask of
// its 61 decided bytes; or, with mask 0, the first at that has fewer than 64
// bytes left. It ends in VZEROUPPER: a 256-bit register left dirty makes
// every later SSE instruction (SHA-256, memmove, the JSON encoder) pay a
// transition penalty on Intel CPUs, which cost the whole scan a factor of 3.
//
//go:noescape
func triggerAVX2(buf []byte, i int) (at int, mask uint64)

// dirtyUpper leaves a 256-bit register's upper half dirty (benchmarks only).
func dirtyUpper()

// nextTrigger returns the first trigger at or after i, or len(s.buf). The
// last round's mask is kept: the next trigger is often in the same 61 bytes.
func (s *scanner) nextTrigger(i int) int {
	if !useAVX2 {
		return nextTriggerSWAR(s.buf, i)
	}
	if i >= s.trigAt && i < s.trigEnd {
		if m := s.trigMask >> (i - s.trigAt); m != 0 {
			return i + bits.TrailingZeros64(m)
		}
		i = s.trigEnd
	}
	if i+64 <= len(s.buf) {
		at, m := triggerAVX2(s.buf, i)
		if m != 0 {
			s.trigAt, s.trigEnd, s.trigMask = at, at+61, m
			return at + bits.TrailingZeros64(m)
		}
		i = at
	}
	return nextTriggerSWAR(s.buf, i)
}
