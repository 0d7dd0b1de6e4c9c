package iox

import (
	"errors"
	"io"
	"sync"
)

// ReadAhead reads its source ahead of its reader, on a goroutine of its
// own, into a fixed set of buffers: the stages on either side (download,
// decryption and decompression on one, a loader or a hash on the other)
// then run at once instead of taking turns. Memory stays at bufs+1
// buffers of size bytes.
type ReadAhead struct {
	src    io.Reader
	full   chan []byte
	free   chan []byte
	done   chan struct{}
	exited chan struct{}
	once   sync.Once
	err    error // the producer's last error; read after full is closed

	cur, buf []byte
	n        int64 // bytes handed to the reader
	failed   error // the error handed to the reader, if not EOF
}

// ErrReadAheadClosed is what the producer stops with after Close.
var ErrReadAheadClosed = errors.New("read-ahead closed")

// NewReadAhead starts reading src ahead in bufs buffers of size bytes.
// Close must be called.
func NewReadAhead(src io.Reader, size, bufs int) *ReadAhead {
	ra := &ReadAhead{src: src, full: make(chan []byte, bufs), free: make(chan []byte, bufs+1),
		done: make(chan struct{}), exited: make(chan struct{})}
	for range bufs + 1 {
		ra.free <- make([]byte, size)
	}
	go ra.produce()
	return ra
}

func (ra *ReadAhead) produce() {
	defer close(ra.exited)
	defer close(ra.full)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.done:
			ra.err = ErrReadAheadClosed
			return
		}
		// Hand over a quarter buffer at a time: the reader starts on the
		// first bytes while the rest is still on its way.
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
				ra.err = ErrReadAheadClosed
				return
			}
		}
		if err != nil {
			ra.err = err
			return
		}
	}
}

// Read hands over what the producer read, then the source's error
// (io.EOF at the end).
func (ra *ReadAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if err := ra.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	ra.n += int64(n)
	return n, nil
}

// WriteTo hands what the producer read straight from its buffers to w,
// without the copy that Read makes: io.Copy into a hash then moves no
// bytes but the hash's own.
func (ra *ReadAhead) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(ra.cur) > 0 {
			n, err := w.Write(ra.cur)
			ra.cur = ra.cur[n:]
			ra.n += int64(n)
			total += int64(n)
			if err != nil {
				return total, err
			}
		}
		if err := ra.next(); err != nil {
			if err == io.EOF {
				return total, nil
			}
			return total, err
		}
	}
}

// next gives the current buffer back to the producer and makes the next
// full one current; at the end it returns the source's error (io.EOF, or
// the failure, which it keeps for Failed).
func (ra *ReadAhead) next() error {
	if ra.buf != nil {
		ra.free <- ra.buf[:cap(ra.buf)]
		ra.buf = nil
	}
	b, ok := <-ra.full
	if !ok {
		if ra.err != io.EOF && ra.failed == nil {
			ra.failed = ra.err
		}
		return ra.err
	}
	ra.buf, ra.cur = b, b
	return nil
}

// N is the number of bytes handed to the reader so far.
func (ra *ReadAhead) N() int64 { return ra.n }

// Failed is the source's error that Read handed over, if it was not io.EOF.
func (ra *ReadAhead) Failed() error { return ra.failed }

// Close stops the producer and waits for it; a producer blocked in a read
// of its source returns only when that read does (close the source first
// if it may never).
func (ra *ReadAhead) Close() {
	ra.once.Do(func() { close(ra.done) })
	<-ra.exited
}
