//go:build !amd64 || noavx2

package detect

// useAVX2 is false where the AVX2 loop is not built: other architectures, and
// the noavx2 build tag, which tests and benchmarks of the portable loop use.
const useAVX2 = false

// kept is the vector loop's kept mask (trigger_amd64.go): there is none.
func (s *scanner) kept(i int) uint64 { return 0 }

func (s *scanner) nextTrigger(i int) int { return nextTriggerSWAR(s.buf, i) }
