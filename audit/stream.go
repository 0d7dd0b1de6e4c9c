package audit

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"

	"github.com/atrest/atrest/audit/detect"
)

// chunkSize is how many bytes of the stream each detector call reports on.
// Tests shrink it to put chunk borders everywhere.
var chunkSize = 1 << 20

// ScanText reads UTF-8 text from r and calls emit for every identifier with
// its 1-based line number, in stream order. Start and End of each Match are
// byte offsets in the stream; Value is a copy that outlives the call.
//
// The stream is cut into chunks (chunkSize bytes) that each carry
// detect.Overlap bytes of the neighbouring chunks as context, so an identifier
// on a chunk border is found exactly once, and line numbers stay exact. With
// workers > 1 chunks are matched in parallel and emitted in order; at most
// workers+2 chunks are in memory at once, whatever the size of r. emit is
// called from the calling goroutine only.
func ScanText(ctx context.Context, r io.Reader, workers int, emit func(m detect.Match, line int)) error {
	prepare := func(m detect.Match, line int) hit {
		m.Value = strings.Clone(m.Value) // the caller's emit may keep it
		return hit{m, line}
	}
	return ScanTextPrepared(ctx, r, workers,
		func() func(detect.Match, int) hit { return prepare },
		func(h hit) { emit(h.m, h.line) })
}

// ScanTextPrepared is ScanText with the per-identifier work split in two:
// prepare runs in the worker that matched the chunk (so, with workers > 1,
// concurrently with other chunks' prepare calls, in no particular order
// between chunks), and emit gets what prepare returned, on the calling
// goroutine, in stream order. Each worker gets its own prepare from
// newPrepare, called once on that worker: a prepare may keep state that
// is not safe for concurrent use (a fingerprint's hash). Work that does not depend on order (masking,
// fingerprinting) belongs in prepare, so that it spreads across cores.
// m.Value may share the chunk's buffer (detect.FindInBorrowed), which is
// refilled once emit has had every hit of the chunk: a T may carry m.Value
// to emit, but whatever keeps it past emit must hold a copy (strings.Clone).
func ScanTextPrepared[T any](ctx context.Context, r io.Reader, workers int,
	newPrepare func() func(m detect.Match, line int) T, emit func(T)) error {
	if workers < 1 {
		workers = 1
	}
	rd := &chunker{r: r, cs: max(1, chunkSize), ov: detect.Overlap, line: 1}
	if workers == 1 {
		return scanSerial(ctx, rd, newPrepare, emit)
	}
	return scanParallel(ctx, rd, workers, newPrepare, emit)
}

type hit struct {
	m    detect.Match
	line int
}

// chunk is one piece of the stream: buf holds the core buf[lo:hi] with up to
// Overlap bytes of context on each side; base is the stream offset of buf[0].
type chunkBuf struct {
	buf    []byte
	base   int
	lo, hi int
	line   int // line number at buf[lo]
}

type chunk[T any] struct {
	chunkBuf
	hits []T
	done chan struct{}
}

// match runs the detectors over the chunk's core and records what prepare
// makes of each hit, with stream offsets and line numbers.
func (c *chunk[T]) match(prepare func(detect.Match, int) T) {
	clear(c.hits) // let go of the previous chunk's values
	c.hits = c.hits[:0]
	cur, line := c.lo, c.line
	detect.FindInBorrowed(c.buf, c.lo, c.hi, func(m detect.Match) {
		line += bytes.Count(c.buf[cur:m.Start], []byte{'\n'})
		cur = m.Start
		m.Start += c.base
		m.End += c.base
		c.hits = append(c.hits, prepare(m, line))
	})
}

// chunker cuts a reader into chunks. carry holds the bytes of the stream from
// carryBase on that the next chunk needs again: the context before its core
// and whatever was read past the previous core.
type chunker struct {
	r         io.Reader
	cs, ov    int
	carry     []byte
	carryBase int
	core      int // stream offset where the next core starts
	line      int // line number at core
	eof       bool
}

// next fills c (reusing c.buf) with the next chunk; ok is false at the end.
func (k *chunker) next(c *chunkBuf) (bool, error) {
	if k.eof && k.core >= k.carryBase+len(k.carry) {
		return false, nil
	}
	pre := k.core - k.carryBase
	want := pre + k.cs + k.ov
	if cap(c.buf) < want {
		c.buf = make([]byte, 0, want)
	}
	buf := append(c.buf[:0], k.carry...)
	if !k.eof && len(buf) < want {
		n, err := io.ReadFull(k.r, buf[len(buf):want])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			k.eof = true
		case err != nil:
			return false, err
		}
	}
	hi := min(pre+k.cs, len(buf)) // not at EOF, Overlap bytes follow hi
	c.buf, c.base, c.lo, c.hi, c.line = buf, k.carryBase, pre, hi, k.line
	// The next core starts at hi; keep Overlap bytes before it and all read after.
	from := max(0, hi-k.ov)
	k.carry = append(k.carry[:0], buf[from:]...)
	k.carryBase += from
	k.core = c.base + hi
	k.line += bytes.Count(buf[pre:hi], []byte{'\n'})
	return true, nil
}

func scanSerial[T any](ctx context.Context, rd *chunker, newPrepare func() func(detect.Match, int) T, emit func(T)) error {
	var c chunk[T]
	prepare := newPrepare()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ok, err := rd.next(&c.chunkBuf)
		if err != nil || !ok {
			return err
		}
		c.match(prepare)
		for _, h := range c.hits {
			emit(h)
		}
	}
}

func scanParallel[T any](ctx context.Context, rd *chunker, workers int, newPrepare func() func(detect.Match, int) T, emit func(T)) error {
	inFlight := workers + 2
	free := make(chan *chunk[T], inFlight)
	for i := 0; i < inFlight; i++ {
		free <- &chunk[T]{}
	}
	order := make(chan *chunk[T], inFlight) // chunks in stream order, to the emitter
	jobs := make(chan *chunk[T], inFlight)  // chunks to match, to the workers
	stop := make(chan struct{})             // the emitter gave up
	var readErr error
	var wg sync.WaitGroup

	wg.Add(1)
	go func() { // reader
		defer wg.Done()
		defer close(jobs)
		defer close(order)
		for {
			var c *chunk[T]
			select {
			case c = <-free:
			case <-stop:
				return
			}
			if err := ctx.Err(); err != nil {
				readErr = err
				return
			}
			ok, err := rd.next(&c.chunkBuf)
			if err != nil || !ok {
				readErr = err
				return
			}
			c.done = make(chan struct{})
			order <- c // never blocks: at most inFlight chunks exist
			jobs <- c
		}
	}()
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prepare := newPrepare()
			for c := range jobs {
				c.match(prepare)
				close(c.done)
			}
		}()
	}

	var err error
	stopped := false
	for c := range order {
		<-c.done
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			for _, h := range c.hits {
				emit(h)
			}
		} else if !stopped {
			close(stop)
			stopped = true
		}
		free <- c
	}
	wg.Wait()
	if err != nil {
		return err
	}
	return readErr
}
