package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/atrest/atrest/audit/detect"
)

func setChunkSize(t testing.TB, n int) {
	old := chunkSize
	chunkSize = n
	t.Cleanup(func() { chunkSize = old })
}

type streamHit struct {
	m    detect.Match
	line int
}

func scanAll(t testing.TB, data []byte, workers int) []streamHit {
	t.Helper()
	var out []streamHit
	err := ScanText(context.Background(), bytes.NewReader(data), workers, func(m detect.Match, line int) {
		out = append(out, streamHit{m, line})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reference: the detector over the whole buffer at once, lines counted apart.
func reference(data []byte) []streamHit {
	var out []streamHit
	for _, m := range detect.Find(data) {
		out = append(out, streamHit{m, 1 + bytes.Count(data[:m.Start], []byte{'\n'})})
	}
	return out
}

func diffHits(t *testing.T, what string, got, want []streamHit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d hits, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: hit %d = %s [%d,%d) line %d, want %s [%d,%d) line %d", what, i,
				got[i].m.Type, got[i].m.Start, got[i].m.End, got[i].line,
				want[i].m.Type, want[i].m.Start, want[i].m.End, want[i].line)
		}
	}
}

// Identifiers (valid under SPEC §1) in their written forms, and decoys.
var streamIDs = []string{
	"11010519491231002X", "440306199611286309", "13812345678", "+86 19067916011",
	"6214831231007722", "6225 8840 0390 2660 564", "91210106UHUXQEEG57",
	"hatlltoes496@hospital.org.cn", "１１０１０５１９４９１２３１００２Ｘ", "138-1234-5678",
}
var streamDecoys = []string{
	"1706800914516", "1686681908806184911", "010-21146569", "138****5678",
	"3f252edc87ff4adfa36d0840164709ab7f3f386d0cd566647b5aa666347428c3", "110105194912310021",
}

// textWithIDs puts an identifier at every offset from 0 to n-1 after some
// padding, one per line, and returns the text and how many it holds.
func textWithIDs(n int) ([]byte, int) {
	var b bytes.Buffer
	for k := 0; k < n; k++ {
		b.WriteString(strings.Repeat("日志x", k%13))
		b.WriteString(strings.Repeat("-", k%5))
		fmt.Fprintf(&b, " 参保人 %s 备注 %s\n", streamIDs[k%len(streamIDs)], streamDecoys[k%len(streamDecoys)])
	}
	return b.Bytes(), n
}

func TestStreamChunkBorders(t *testing.T) {
	data, n := textWithIDs(400)
	want := reference(data)
	if len(want) != n {
		t.Fatalf("reference finds %d identifiers, the text holds %d", len(want), n)
	}
	for _, cs := range []int{1, 3, 16, 61, 64, 100, 257, 1000, 4096, 1 << 20} {
		setChunkSize(t, cs)
		for _, w := range []int{1, 4} {
			diffHits(t, fmt.Sprintf("chunk %d workers %d", cs, w), scanAll(t, data, w), want)
		}
	}
}

// TestStreamExactBorders puts one identifier so that every chunk border
// falls at each byte of it in turn (and just before and after it).
func TestStreamExactBorders(t *testing.T) {
	const cs = 64
	setChunkSize(t, cs)
	for _, id := range streamIDs {
		for off := cs - len(id) - 2; off <= cs+2; off++ {
			if off < 0 {
				continue
			}
			// two lines before, so line numbers are checked too
			pre := "a\nb\n" + strings.Repeat(".", max(0, off-4))
			data := []byte(pre + id + "\n" + strings.Repeat("z", 100) + " " + id + "\n")
			want := reference(data)
			if len(want) != 2 || want[0].line != 3 || want[1].line != 4 {
				t.Fatalf("%q: reference %v", id, want)
			}
			for _, w := range []int{1, 4} {
				diffHits(t, fmt.Sprintf("%q at %d, workers %d", id, len(pre), w), scanAll(t, data, w), want)
			}
		}
	}
}

func TestStreamWorkersSame(t *testing.T) {
	setChunkSize(t, 4096)
	data := denseText(2<<20, 5)
	want := reference(data)
	one := scanAll(t, data, 1)
	diffHits(t, "workers 1", one, want)
	for _, w := range []int{2, 4, 8} {
		diffHits(t, fmt.Sprintf("workers %d", w), scanAll(t, data, w), one)
	}
}

// TestStreamPrepared: prepare sees every hit once, in the worker, and emit
// gets what it made in stream order, whatever the chunking and worker count.
// m.Value may share the chunk's buffer, so this prepare, whose hits are kept
// past emit, copies it; the values must still be right after later chunks
// reused the buffers.
func TestStreamPrepared(t *testing.T) {
	data := denseText(1<<20, 9)
	want := reference(data)
	for _, cs := range []int{61, 4096, 1 << 20} {
		setChunkSize(t, cs)
		for _, w := range []int{1, 2, 4} {
			var prepared, made atomic.Int64
			var got []streamHit
			err := ScanTextPrepared(context.Background(), bytes.NewReader(data), w,
				func() func(detect.Match, int) streamHit {
					made.Add(1)
					var busy atomic.Bool // a prepare is one worker's: never in two calls at once
					return func(m detect.Match, line int) streamHit {
						if !busy.CompareAndSwap(false, true) {
							t.Error("one prepare ran on two goroutines at once")
						}
						defer busy.Store(false)
						prepared.Add(1)
						m.Value = strings.Clone(m.Value)
						return streamHit{m, line}
					}
				},
				func(h streamHit) { got = append(got, h) })
			if err != nil {
				t.Fatal(err)
			}
			diffHits(t, fmt.Sprintf("chunk %d workers %d", cs, w), got, want)
			if n := made.Load(); n < 1 || n > int64(w) {
				t.Fatalf("chunk %d workers %d: newPrepare called %d times, want one per worker", cs, w, n)
			}
			if n := prepared.Load(); n != int64(len(want)) {
				t.Fatalf("chunk %d workers %d: prepare called %d times, want %d", cs, w, n, len(want))
			}
		}
	}
}

func TestStreamMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB stream")
	}
	setChunkSize(t, 4096)
	const size = 64 << 20
	for _, w := range []int{1, 4} {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		peak := base
		gen := &genReader{left: size}
		hits, lastLine := 0, 0
		err := ScanText(context.Background(), gen, w, func(m detect.Match, line int) {
			hits++
			if line < lastLine {
				t.Fatalf("line %d after %d", line, lastLine)
			}
			lastLine = line
			if hits%20000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if hits != gen.ids || lastLine != gen.lines {
			t.Errorf("workers %d: %d hits up to line %d, stream holds %d on %d lines", w, hits, lastLine, gen.ids, gen.lines)
		}
		growth := int64(peak) - int64(base)
		t.Logf("workers %d: %d hits, heap in use grew by at most %d KiB over a %d MiB stream", w, hits, growth>>10, size>>20)
		if growth > 16<<20 {
			t.Errorf("workers %d: heap in use grew by %d MiB scanning a %d MiB stream", w, growth>>20, size>>20)
		}
	}
}

// genReader produces size bytes of log lines, each with one identifier,
// without holding them.
type genReader struct {
	left, n, ids, lines int
	pending             []byte
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.left > 0 {
		if len(g.pending) == 0 {
			g.n++
			g.pending = fmt.Appendf(g.pending[:0], "2026-11-25 10:%02d:%02d INFO 处理 %d 参保人 %s 流水号 %s\n",
				g.n%60, g.n%59, g.n, streamIDs[g.n%len(streamIDs)], streamDecoys[g.n%len(streamDecoys)])
			if len(g.pending) > g.left {
				// the stream ends here: pad instead of cutting an identifier
				g.pending = append(g.pending[:0], strings.Repeat("-", g.left)...)
			} else {
				g.ids++
				g.lines++
			}
		}
		c := copy(p[n:], g.pending)
		g.pending = g.pending[c:]
		n += c
		g.left -= c
	}
	return n, nil
}

func TestStreamCancel(t *testing.T) {
	setChunkSize(t, 1024)
	data := denseText(1<<20, 6)
	for _, w := range []int{1, 4} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := ScanText(ctx, bytes.NewReader(data), w, func(detect.Match, int) {}); !errors.Is(err, context.Canceled) {
			t.Errorf("workers %d: canceled before start: %v", w, err)
		}
		ctx, cancel = context.WithCancel(context.Background())
		n := 0
		err := ScanText(ctx, bytes.NewReader(data), w, func(detect.Match, int) {
			n++
			if n == 10 {
				cancel()
			}
		})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("workers %d: canceled while emitting: %v", w, err)
		}
	}
}

type failingReader struct {
	r io.Reader
	n int
}

var errBroken = errors.New("disk on fire")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBroken
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

func TestStreamReadError(t *testing.T) {
	setChunkSize(t, 4096)
	data := denseText(1<<20, 7)
	for _, w := range []int{1, 4} {
		err := ScanText(context.Background(), &failingReader{bytes.NewReader(data), 100000}, w, func(detect.Match, int) {})
		if !errors.Is(err, errBroken) {
			t.Errorf("workers %d: %v, want the reader's error", w, err)
		}
	}
}

// denseText is log text with an identifier or a decoy on every line.
func denseText(size int, seed int) []byte {
	var b bytes.Buffer
	for i := seed; b.Len() < size; i++ {
		fmt.Fprintf(&b, "2026-%02d-%02d %02d:%02d:%02d INFO svc 记录%d %s 金额%d.%02d元 ref=%s\n", 1+i%12, 1+i%28, i%24, i%60, i%59, i,
			streamIDs[i%len(streamIDs)], i%3000, i%100, streamDecoys[i%len(streamDecoys)])
	}
	return b.Bytes()
}

func BenchmarkScanText(b *testing.B) {
	data := denseText(32<<20, 1)
	for _, w := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				n := 0
				if err := ScanText(context.Background(), bytes.NewReader(data), w, func(detect.Match, int) { n++ }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
