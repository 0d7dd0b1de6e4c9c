//go:build !(goexperiment.simd && amd64)

package detect

func (s *scanner) nextTrigger(i int) int { return nextTriggerSWAR(s.buf, i) }
