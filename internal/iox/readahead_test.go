package iox

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadAheadPassesBytesAndErrors(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	ra := NewReadAhead(iotest.HalfReader(bytes.NewReader(data)), 4096, 3)
	got, err := io.ReadAll(ra)
	ra.Close()
	if err != nil || !bytes.Equal(got, data) || ra.N() != int64(len(data)) || ra.Failed() != nil {
		t.Fatalf("read %d of %d bytes, N %d, err %v, failed %v", len(got), len(data), ra.N(), err, ra.Failed())
	}

	// The source's error arrives after the bytes before it, and is kept.
	boom := errors.New("boom")
	ra = NewReadAhead(io.MultiReader(bytes.NewReader(data[:5000]), iotest.ErrReader(boom)), 4096, 3)
	got, err = io.ReadAll(ra)
	ra.Close()
	if !errors.Is(err, boom) || len(got) != 5000 || !errors.Is(ra.Failed(), boom) {
		t.Fatalf("error case: %d bytes, err %v, failed %v", len(got), err, ra.Failed())
	}

	// Close before the end stops the producer (no goroutine left waiting).
	ra = NewReadAhead(bytes.NewReader(data), 1024, 2)
	io.ReadFull(ra, make([]byte, 10))
	ra.Close()
}

// errWriter takes limit bytes, then fails.
type errWriter struct {
	buf   bytes.Buffer
	limit int
}

var errFull = errors.New("writer full")

func (w *errWriter) Write(p []byte) (int, error) {
	if room := w.limit - w.buf.Len(); len(p) > room {
		w.buf.Write(p[:room])
		return room, errFull
	}
	return w.buf.Write(p)
}

func TestReadAheadWriteTo(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100_000)

	// After a Read, WriteTo hands over the rest, what Read left of the
	// current buffer first.
	ra := NewReadAhead(iotest.HalfReader(bytes.NewReader(data)), 4096, 3)
	head := make([]byte, 1500)
	if _, err := io.ReadFull(ra, head); err != nil {
		t.Fatal(err)
	}
	var rest bytes.Buffer
	n, err := io.Copy(&rest, ra) // io.Copy takes ReadAhead's WriteTo
	ra.Close()
	if err != nil || n != int64(len(data)-1500) || !bytes.Equal(append(head, rest.Bytes()...), data) || ra.N() != int64(len(data)) {
		t.Fatalf("WriteTo after Read: %d bytes, err %v, N %d", n, err, ra.N())
	}

	// The source's error comes after the bytes before it, and is kept.
	boom := errors.New("boom")
	ra = NewReadAhead(io.MultiReader(bytes.NewReader(data[:5000]), iotest.ErrReader(boom)), 4096, 3)
	rest.Reset()
	n, err = ra.WriteTo(&rest)
	ra.Close()
	if !errors.Is(err, boom) || n != 5000 || !errors.Is(ra.Failed(), boom) {
		t.Fatalf("source error: %d bytes, err %v, failed %v", n, err, ra.Failed())
	}

	// The writer's error stops it, counting only what the writer took.
	ra = NewReadAhead(bytes.NewReader(data), 4096, 3)
	w := &errWriter{limit: 10_000}
	n, err = ra.WriteTo(w)
	ra.Close()
	if !errors.Is(err, errFull) || n != 10_000 || ra.N() != 10_000 || !bytes.Equal(w.buf.Bytes(), data[:10_000]) {
		t.Fatalf("writer error: %d bytes, err %v, N %d", n, err, ra.N())
	}
}
