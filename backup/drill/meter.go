package drill

import (
	"encoding/hex"
	"hash"
	"io"
	"time"
)

// meter counts, optionally hashes, and times what is read through it, and
// keeps the first error (EOF included) its source gave.
type meter struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	dur time.Duration
	err error
}

func (m *meter) Read(p []byte) (int, error) {
	if m.err != nil && m.err != io.EOF {
		return 0, m.err
	}
	t := time.Now()
	n, err := m.r.Read(p)
	m.dur += time.Since(t)
	m.n += int64(n)
	if m.h != nil {
		m.h.Write(p[:n])
	}
	if err != nil && m.err == nil {
		m.err = err
	}
	return n, err
}

func (m *meter) sum() string { return hex.EncodeToString(m.h.Sum(nil)) }
