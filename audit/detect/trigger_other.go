//go:build !amd64 || noasm

package detect

// Where there is no vector loop (other architectures, and the build tag noasm,
// which tests and benchmarks of this path use on amd64) the portable loop is
// the skip loop, and the kept mask of the scanner stays 0.
func (s *scanner) nextTrigger(i int) int { return nextTriggerSWAR(s.buf, i) }
