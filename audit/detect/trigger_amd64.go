//go:build !noasm

package detect

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

// nextRound is the round nextTrigger calls (trigger.go): triggerAVX2 if
// useAVX2, else triggerSSE2, picked in assembly by a branch the CPU always
// predicts. Tests switch useAVX2 to run the SSE2 loop through it on a CPU
// with AVX2.
//
//go:noescape
func nextRound(buf []byte, i int) (at int, mask uint64)
