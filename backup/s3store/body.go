package s3store

import (
	"errors"
	"fmt"
	"io"
)

// exactReader passes through exactly left bytes of r and fails if r holds
// fewer (io.ErrUnexpectedEOF) or more. It looks for extra bytes before it
// hands over the last ones, and withholds them if there are: a single PUT
// stops reading at the Content-Length, so an error after the last byte
// would come too late to stop the server storing the object.
type exactReader struct {
	r    io.Reader
	left int64
	err  error
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.left == 0 {
		e.err = e.probe()
		return 0, e.err
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case err == io.EOF && e.left > 0:
		e.err = fmt.Errorf("source ended %d bytes short of the size given: %w", e.left, io.ErrUnexpectedEOF)
		return n, e.err
	case err != nil && err != io.EOF:
		e.err = err
		return n, err
	case e.left == 0:
		if e.err = e.probe(); e.err != io.EOF {
			return 0, e.err
		}
	}
	return n, nil
}

// probe returns io.EOF if r is at its end, an error otherwise.
func (e *exactReader) probe() error {
	var one [1]byte
	m, err := io.ReadFull(e.r, one[:])
	switch {
	case m > 0:
		return errors.New("source holds more bytes than the size given")
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return io.EOF
	}
	return err
}

// sizedBody counts the bytes of a GET body and fails at EOF unless they are
// the bytes the server announced. Go's HTTP client already fails a body that
// ends before its Content-Length; this also covers chunked responses and
// says which object was short, and it words transport errors like the
// store's other errors.
type sizedBody struct {
	rc   io.ReadCloser
	want int64
	got  int64
	s    *Store
	key  string
	err  error
}

func (b *sizedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	b.got += int64(n)
	switch {
	case err == io.EOF:
		if b.want >= 0 && b.got != b.want {
			b.err = b.s.fail("get", b.key, fmt.Errorf("body ended after %d of %d bytes: %w", b.got, b.want, io.ErrUnexpectedEOF))
			return n, b.err
		}
		b.err = io.EOF
	case err != nil:
		switch {
		case err == io.ErrUnexpectedEOF:
			err = fmt.Errorf("body ended after %d of %d bytes: %w", b.got, b.want, err)
		case errors.Is(err, io.ErrUnexpectedEOF) || b.want >= 0 && b.got < b.want:
			err = fmt.Errorf("body broken after %d of %d bytes: %w (%w)", b.got, b.want, io.ErrUnexpectedEOF, err)
		}
		b.err = b.s.fail("get", b.key, err)
		return n, b.err
	case b.want >= 0 && b.got > b.want:
		b.err = b.s.fail("get", b.key, fmt.Errorf("body longer than the %d bytes announced", b.want))
		return n, b.err
	}
	return n, err
}

func (b *sizedBody) Close() error { return b.rc.Close() }
