package backup

import (
	"io"
	"sync"
)

// The spool between the encoders and the upload: one part's worth, in
// buffers of spoolBufSize.
const (
	spoolBufSize = 1 << 20
	spoolBytes   = 8 << 20
)

// spool is a pipe with a bounded buffer: writes return once their bytes
// are copied into it, and block only while it is full. Closing the reading
// end with an error fails every write after it, as with io.Pipe.
type spool struct {
	mu       sync.Mutex
	readable sync.Cond
	writable sync.Cond
	full     [][]byte // filled buffers, oldest first
	fill     []byte   // the buffer being filled
	free     [][]byte
	bufs     int // buffers allocated so far
	maxBufs  int
	bufSize  int
	werr     error // the writing end's close: io.EOF or the cause
	rerr     error // the reading end's close

	cur, curBuf []byte // the reader's, outside the lock
}

type spoolReader struct{ s *spool }
type spoolWriter struct{ s *spool }

func newSpool(bufSize, maxBufs int) (*spoolReader, *spoolWriter) {
	s := &spool{bufSize: bufSize, maxBufs: max(1, maxBufs)}
	s.readable.L, s.writable.L = &s.mu, &s.mu
	return &spoolReader{s}, &spoolWriter{s}
}

func (w *spoolWriter) Write(p []byte) (int, error) {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for len(p) > 0 {
		switch {
		case s.rerr != nil:
			return n, s.rerr
		case s.werr != nil:
			return n, io.ErrClosedPipe
		}
		if s.fill == nil {
			switch {
			case len(s.free) > 0:
				s.fill = s.free[len(s.free)-1][:0]
				s.free = s.free[:len(s.free)-1]
			case s.bufs < s.maxBufs:
				s.fill = make([]byte, 0, s.bufSize)
				s.bufs++
			default:
				s.writable.Wait()
				continue
			}
		}
		k := copy(s.fill[len(s.fill):cap(s.fill)], p)
		s.fill = s.fill[:len(s.fill)+k]
		p, n = p[k:], n+k
		if len(s.fill) == cap(s.fill) {
			s.full = append(s.full, s.fill)
			s.fill = nil
			s.readable.Signal()
		}
	}
	return n, nil
}

// Close ends the stream: the reader gets what is spooled, then EOF.
func (w *spoolWriter) Close() error { return w.CloseWithError(nil) }

// CloseWithError ends the stream: the reader gets what is spooled, then
// err (io.EOF if nil).
func (w *spoolWriter) CloseWithError(err error) error {
	if err == nil {
		err = io.EOF
	}
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.werr == nil {
		s.werr = err
		if len(s.fill) > 0 {
			s.full = append(s.full, s.fill)
		}
		s.fill = nil
	}
	s.readable.Broadcast()
	return nil
}

func (r *spoolReader) Read(p []byte) (int, error) {
	s := r.s
	if len(s.cur) == 0 {
		s.mu.Lock()
		if s.curBuf != nil {
			s.free = append(s.free, s.curBuf[:0])
			s.curBuf = nil
			s.writable.Signal()
		}
		for len(s.full) == 0 && s.werr == nil && s.rerr == nil {
			s.readable.Wait()
		}
		switch {
		case s.rerr != nil:
			s.mu.Unlock()
			return 0, io.ErrClosedPipe
		case len(s.full) == 0:
			err := s.werr
			s.mu.Unlock()
			return 0, err
		}
		s.curBuf = s.full[0]
		s.cur = s.curBuf
		s.full[0] = nil
		s.full = s.full[1:]
		s.mu.Unlock()
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}

// CloseWithError closes the reading end: writes fail with err (or
// io.ErrClosedPipe), now and from then on.
func (r *spoolReader) CloseWithError(err error) error {
	if err == nil {
		err = io.ErrClosedPipe
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rerr == nil {
		s.rerr = err
	}
	s.full, s.fill, s.free = nil, nil, nil
	s.writable.Broadcast()
	s.readable.Broadcast()
	return nil
}
