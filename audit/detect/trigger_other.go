//go:build !amd64 || noasm

package detect

// Where there is no vector loop (other architectures, and the build tag noasm,
// which tests and benchmarks of this path use on amd64) nextTrigger's round is
// the portable one.
func nextRound(buf []byte, i int) (at int, mask uint64) { return triggerRound(buf, i) }
