package drill

import (
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"sync"
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

// readAhead decodes ahead of the loader on a goroutine of its own, in a
// fixed set of buffers, so that download, decryption and decompression
// overlap the server's work instead of waiting for it.
type readAhead struct {
	src    io.Reader
	full   chan []byte
	free   chan []byte
	done   chan struct{}
	exited chan struct{}
	once   sync.Once
	err    error // the producer's last error; read after full is closed

	cur, buf []byte
	n        int64 // bytes handed to the loader
	failed   error // the error handed to the loader, if not EOF
}

var errReadAheadClosed = errors.New("read-ahead closed")

func newReadAhead(src io.Reader) *readAhead {
	ra := &readAhead{src: src, full: make(chan []byte, readAheadBufs), free: make(chan []byte, readAheadBufs+1),
		done: make(chan struct{}), exited: make(chan struct{})}
	for range readAheadBufs + 1 {
		ra.free <- make([]byte, readAheadSize)
	}
	go ra.produce()
	return ra
}

func (ra *readAhead) produce() {
	defer close(ra.exited)
	defer close(ra.full)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.done:
			ra.err = errReadAheadClosed
			return
		}
		// Hand over a quarter buffer at a time: the loader starts on the
		// first statements while the rest is still on its way.
		n := 0
		var err error
		for n < len(buf)/4 && err == nil {
			var k int
			k, err = ra.src.Read(buf[n:])
			n += k
		}
		if n > 0 {
			select {
			case ra.full <- buf[:n]:
			case <-ra.done:
				ra.err = errReadAheadClosed
				return
			}
		}
		if err != nil {
			ra.err = err
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.buf != nil {
			ra.free <- ra.buf[:cap(ra.buf)]
			ra.buf = nil
		}
		b, ok := <-ra.full
		if !ok {
			if ra.err != io.EOF && ra.failed == nil {
				ra.failed = ra.err
			}
			return 0, ra.err
		}
		ra.buf, ra.cur = b, b
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	ra.n += int64(n)
	return n, nil
}

// close stops the producer and waits for it; a producer blocked in a read
// of the object needs the body closed first.
func (ra *readAhead) close() {
	ra.once.Do(func() { close(ra.done) })
	<-ra.exited
}
