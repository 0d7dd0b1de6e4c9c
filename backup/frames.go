package backup

import (
	"errors"
	"hash"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// frameSize is the SQL in one zstd frame. Frames are compressed
// independently, on all cores, and concatenated in order: a stream of
// frames is one zstd stream to every decoder (zstd -d included). A frame
// sees no history before it; the zstd CLI's level 3 keeps a 2 MiB window
// too, so the size hardly changes (+0.0% on the bench's SQL). In memory a
// frame costs about three times this per core.
const frameSize = 2 << 20

// frameWriter compresses what is written to it in frames of size bytes,
// on up to workers goroutines at once, and writes the frames to dst in
// order from a goroutine of its own, hashing the plaintext of each into
// plain as it does. Neither the writer nor the compressors wait for dst
// until workers+1 frames are ahead of it.
type frameWriter struct {
	enc   *zstd.Encoder
	dst   io.Writer
	plain hash.Hash
	size  int

	cur    *frameJob      // the frame being filled
	frames int            // frames submitted
	jobs   chan *frameJob // to the compressors
	order  chan *frameJob // to the emitter, in order
	free   chan *frameJob // spent jobs, their buffers for reuse
	wg     sync.WaitGroup // the compressors
	done   chan struct{}  // the emitter has finished

	mu     sync.Mutex
	err    error // the first write error of the emitter
	closed bool
}

type frameJob struct {
	src, out []byte
	done     chan struct{}
}

func newFrameWriter(dst io.Writer, plain hash.Hash, size, workers int) (*frameWriter, error) {
	workers = max(1, min(workers, 8))
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(ZstdLevel)),
		zstd.WithEncoderConcurrency(workers), zstd.WithZeroFrames(true), zstd.WithWindowSize(size))
	if err != nil {
		return nil, err
	}
	f := &frameWriter{enc: enc, dst: dst, plain: plain, size: size,
		jobs: make(chan *frameJob, workers), order: make(chan *frameJob, workers+1),
		free: make(chan *frameJob, workers+3), done: make(chan struct{})}
	for range workers {
		f.wg.Add(1)
		go f.compress()
	}
	go f.emit()
	return f, nil
}

func (f *frameWriter) compress() {
	defer f.wg.Done()
	for j := range f.jobs {
		j.out = f.enc.EncodeAll(j.src, j.out[:0])
		close(j.done)
	}
}

func (f *frameWriter) emit() {
	defer close(f.done)
	for j := range f.order {
		<-j.done
		if f.failed() == nil {
			f.plain.Write(j.src)
			if _, err := f.dst.Write(j.out); err != nil {
				f.mu.Lock()
				if f.err == nil {
					f.err = err
				}
				f.mu.Unlock()
			}
		}
		select {
		case f.free <- j:
		default:
		}
	}
}

func (f *frameWriter) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *frameWriter) Write(p []byte) (int, error) {
	if err := f.failed(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		if f.cur == nil {
			f.cur = f.job()
		}
		k := min(len(p), f.size-len(f.cur.src))
		f.cur.src = append(f.cur.src, p[:k]...)
		p, n = p[k:], n+k
		if len(f.cur.src) == f.size {
			f.submit()
		}
	}
	return n, nil
}

// job is a spent job to fill again, or a new one.
func (f *frameWriter) job() *frameJob {
	select {
	case j := <-f.free:
		j.src = j.src[:0]
		return j
	default:
		return &frameJob{src: make([]byte, 0, f.size)}
	}
}

// submit hands the frame being filled to the compressors and the emitter.
func (f *frameWriter) submit() {
	j := f.cur
	f.cur = nil
	j.done = make(chan struct{})
	f.frames++
	f.order <- j // waits while workers+1 frames are ahead of the emitter
	f.jobs <- j
}

// Close compresses the last frame and waits for every frame to be written.
func (f *frameWriter) Close() error {
	if f.closed {
		return f.failed()
	}
	f.closed = true
	if f.cur != nil || f.frames == 0 {
		if f.cur == nil {
			f.cur = f.job()
		}
		f.submit()
	}
	f.stop()
	return f.failed()
}

// abort stops the goroutines; frames in flight are dropped.
func (f *frameWriter) abort() {
	if f.closed {
		return
	}
	f.closed = true
	f.mu.Lock()
	if f.err == nil {
		f.err = errAborted
	}
	f.mu.Unlock()
	f.stop()
}

var errAborted = errors.New("aborted")

func (f *frameWriter) stop() {
	close(f.jobs)
	close(f.order)
	f.wg.Wait()
	<-f.done
	f.enc.Close()
}
