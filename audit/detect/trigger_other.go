//go:build !amd64 || noavx2

package detect

// useAVX2 is false where the AVX2 loop is not built: other architectures, and
// the noavx2 build tag, which tests and benchmarks of the portable loop use.
const useAVX2 = false

func (s *scanner) nextTrigger(i int) int { return nextTriggerSWAR(s.buf, i) }
