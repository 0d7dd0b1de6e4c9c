//go:build !amd64 || noasm

package detect

// scannerLoops is the scanner's nextTrigger, on the portable round here.
func scannerLoops(buf []byte) map[string]func(int) int {
	s := &scanner{buf: buf}
	return map[string]func(int) int{"round": s.nextTrigger}
}

// vectorRounds: no vector loop is built here.
func vectorRounds() map[string]func([]byte, int) (int, uint64) {
	return map[string]func([]byte, int) (int, uint64){}
}
