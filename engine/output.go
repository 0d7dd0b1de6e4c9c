package engine

import (
	"bufio"
	"fmt"
	"io"
	"sync"
)

// Output serialises whole blocks (statements, COPY blocks) from the
// several connections of a dump onto one writer, counts the bytes, and
// keeps the first write error, after which every Put fails.
type Output struct {
	mu  sync.Mutex
	w   *bufio.Writer
	n   int64
	err error
}

// NewOutput buffers w.
func NewOutput(w io.Writer) *Output { return &Output{w: bufio.NewWriterSize(w, 64<<10)} }

// Put writes p whole, after what was put before it.
func (o *Output) Put(p []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	n, err := o.w.Write(p)
	o.n += int64(n)
	if err != nil {
		o.err = fmt.Errorf("write: %w", err)
	}
	return o.err
}

// Printf puts a formatted block.
func (o *Output) Printf(format string, args ...any) {
	o.Put(fmt.Appendf(nil, format, args...))
}

// Flush writes out what is buffered.
func (o *Output) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		o.err = o.w.Flush()
	}
	return o.err
}

// Err is the first write error.
func (o *Output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Bytes counts what was put.
func (o *Output) Bytes() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n
}
