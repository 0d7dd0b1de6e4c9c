package backup

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// The frames the writer makes in parallel decode, as one stream, to the
// bytes written, whatever the sizes of the writes; the plaintext hash is
// taken in order.
func TestFrameWriterRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 3*4096 + 17} {
		src := make([]byte, n)
		rand.Read(src[:n/2]) // half noise, half zeros
		var out bytes.Buffer
		h := sha256.New()
		f, err := newFrameWriter(&out, h, 4096, 3)
		if err != nil {
			t.Fatal(err)
		}
		for p := src; len(p) > 0; {
			k := min(len(p), 1+len(p)%1500)
			if _, err := f.Write(p[:k]); err != nil {
				t.Fatal(err)
			}
			p = p[k:]
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if out.Len() == 0 {
			t.Fatalf("%d bytes: no frame at all", n)
		}
		zr, err := zstd.NewReader(&out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		zr.Close()
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("%d bytes: decoded %d bytes, err %v", n, len(got), err)
		}
		if want := sha256.Sum256(src); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("%d bytes: plaintext hash differs", n)
		}
	}
}

type failWriter struct{ after int }

var errBroken = errors.New("broken")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errBroken
	}
	w.after--
	return len(p), nil
}

// A failing destination fails later writes and Close; abort returns
// without writing what is in flight.
func TestFrameWriterFailure(t *testing.T) {
	f, err := newFrameWriter(&failWriter{after: 1}, sha256.New(), 1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1000)
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		_, werr = f.Write(buf)
	}
	if cerr := f.Close(); !errors.Is(cerr, errBroken) {
		t.Fatalf("close: %v (write: %v)", cerr, werr)
	}
	g, _ := newFrameWriter(io.Discard, sha256.New(), 1024, 2)
	g.Write(make([]byte, 5000))
	g.abort()
	if _, err := g.Write(buf); err == nil {
		t.Fatal("write after abort succeeded")
	}
}

// The spool passes bytes in order, EOF or the writer's error at the end;
// a closed reading end fails writes blocked on a full spool.
func TestSpool(t *testing.T) {
	r, w := newSpool(7, 3)
	src := make([]byte, 1000)
	rand.Read(src)
	go func() {
		for p := src; len(p) > 0; p = p[min(len(p), 5):] {
			w.Write(p[:min(len(p), 5)])
		}
		w.Close()
	}()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}

	r, w = newSpool(4, 2)
	go func() { w.Write([]byte("abc")); w.CloseWithError(errBroken) }()
	got, err = io.ReadAll(r)
	if string(got) != "abc" || !errors.Is(err, errBroken) {
		t.Fatalf("got %q, %v", got, err)
	}

	r, w = newSpool(4, 2)
	done := make(chan error)
	go func() { _, err := w.Write(make([]byte, 100)); done <- err }()
	r.CloseWithError(errBroken)
	if err := <-done; !errors.Is(err, errBroken) {
		t.Fatalf("blocked write: %v", err)
	}
}
