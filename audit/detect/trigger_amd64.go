//go:build !noasm

package detect

import "math/bits"

// The vector skip loops of amd64 (trigger_amd64.s), one picked when the
// program starts by useAVX2 (trigger_avx2_amd64.go): the AVX2 loop where the
// CPU and the OS support it, else the SSE2 one, which every x86-64 CPU runs.
// One binary serves every x86-64 server. Build tags, for tests and benchmarks
// of each path: noavx2 never picks the AVX2 loop (the build runs what a CPU
// without AVX2 runs, the SSE2 loop); noasm leaves all assembly out (the
// portable loop of trigger.go, what arm64 runs). (Not purego: the standard
// library's crypto reads that tag too, and a benchmark of the whole scan
// would time a slower SHA-256.)

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

// triggerSSE2 is triggerAVX2 in SSE2, four 16-byte vectors a round, with the
// same results. It leaves no 256-bit register dirty.
//
//go:noescape
func triggerSSE2(buf []byte, i int) (at int, mask uint64)

// dirtyUpper leaves a 256-bit register's upper half dirty (benchmarks only).
func dirtyUpper()

// nextTrigger returns the first trigger at or after i, or len(s.buf): from
// the kept mask of the last vector round (the next trigger is often in the
// same 61 bytes), else the next round of the vector loop that holds one, else
// the portable loop for the last 63 bytes. The AVX2 and SSE2 loops keep the
// same mask, so one body serves both, picked by a branch the CPU always
// predicts (a call through a func value would go through an ABI wrapper, and
// passing the choice in as an argument cost five instructions a call). Tests
// switch useAVX2 to run the SSE2 loop through it on a CPU with AVX2.
// (Inlining the kept-mask test into the scan loop was tried: the loop's
// registers spilled, and it cost more than the call.)
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
		var at int
		var m uint64
		if useAVX2 {
			at, m = triggerAVX2(s.buf, i)
		} else {
			at, m = triggerSSE2(s.buf, i)
		}
		if m != 0 {
			s.trigAt, s.trigMask = at, m
			return at + bits.TrailingZeros64(m)
		}
		i = at
	}
	return nextTriggerSWAR(s.buf, i)
}
