package engine

// Tail keeps the last Max bytes written to it and counts them all: how a
// dump's trailer is found without holding the dump.
type Tail struct {
	Max int
	N   int64
	buf []byte
}

func (t *Tail) Write(p []byte) (int, error) {
	n := len(p)
	t.N += int64(n)
	if n >= t.Max {
		t.buf = append(t.buf[:0], p[n-t.Max:]...)
		return n, nil
	}
	if over := len(t.buf) + n - t.Max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// Bytes are the last bytes written.
func (t *Tail) Bytes() []byte { return t.buf }
