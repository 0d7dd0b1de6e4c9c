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
