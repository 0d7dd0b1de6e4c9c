package journal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	checkpointsFile = "checkpoints.jsonl"
	checkpointFile  = "checkpoint"
	lockFile        = "lock"
	tornDir         = "torn"
)

func segName(n int) string { return fmt.Sprintf("segment-%06d.jsonl", n) }

func parseSegName(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "segment-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".jsonl")
	if !ok || len(s) < 6 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0 && segName(n) == name
}

type segFile struct {
	num  int
	name string
	size int64
}

// snapshot is the extent of a journal at one moment: appends only ever add
// bytes, so readers that stop at these sizes see a consistent prefix even
// while a writer goes on.
type snapshot struct {
	segs     []segFile
	ckptSize int64
}

// takeSnapshot reads the extent under a shared lock when the lock file can be
// opened (a reader without write access, or a copied journal, goes without).
func takeSnapshot(dir string) (snapshot, error) {
	if lf, err := os.Open(filepath.Join(dir, lockFile)); err == nil {
		defer lf.Close()
		if err := flock(lf, false); err != nil {
			return snapshot{}, err
		}
		defer funlock(lf)
	}
	return takeSnapshotLocked(dir)
}

func takeSnapshotLocked(dir string) (snapshot, error) {
	var sn snapshot
	ents, err := os.ReadDir(dir)
	if err != nil {
		return sn, fmt.Errorf("journal: %w", err)
	}
	for _, de := range ents {
		n, ok := parseSegName(de.Name())
		if !ok || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			return sn, fmt.Errorf("journal: %w", err)
		}
		sn.segs = append(sn.segs, segFile{num: n, name: de.Name(), size: fi.Size()})
	}
	sort.Slice(sn.segs, func(i, j int) bool { return sn.segs[i].num < sn.segs[j].num })
	if fi, err := os.Stat(filepath.Join(dir, checkpointsFile)); err == nil {
		sn.ckptSize = fi.Size()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return sn, fmt.Errorf("journal: %w", err)
	}
	return sn, nil
}

// lineReader yields lines (without their newline) from a reader. A final
// fragment without a newline comes back with complete == false.
type lineReader struct {
	r    *bufio.Reader
	long []byte
	off  int64 // bytes consumed so far
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// next returns io.EOF when no bytes are left. A line longer than
// MaxLineBytes is returned cut at that length, complete, so callers report
// it as malformed rather than reading without bound.
func (lr *lineReader) next() (line []byte, complete bool, err error) {
	b, err := lr.r.ReadSlice('\n')
	if err == nil {
		lr.off += int64(len(b))
		return b[:len(b)-1], true, nil
	}
	if err != bufio.ErrBufferFull {
		if err == io.EOF && len(b) > 0 {
			lr.off += int64(len(b))
			return b, false, nil
		}
		return nil, false, err
	}
	lr.long = append(lr.long[:0], b...)
	for {
		b, err = lr.r.ReadSlice('\n')
		lr.long = append(lr.long, b...)
		switch {
		case err == nil:
			lr.off += int64(len(lr.long))
			return lr.long[:len(lr.long)-1], true, nil
		case err == io.EOF:
			lr.off += int64(len(lr.long))
			return lr.long, false, nil
		case err != bufio.ErrBufferFull:
			return nil, false, err
		}
		if len(lr.long) > MaxLineBytes {
			// Skip to the end of the monster line.
			for err == bufio.ErrBufferFull {
				b, err = lr.r.ReadSlice('\n')
				lr.off += int64(len(b))
			}
			lr.off += int64(len(lr.long))
			return lr.long[:MaxLineBytes], err == nil, nil
		}
	}
}

// openAt opens a file for reading bytes [off, end).
func openAt(path string, off, end int64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, end-off), f}, nil
}

// firstLine returns the first line of a file, without its newline.
func firstLine(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, complete, err := newLineReader(f).next()
	if err == io.EOF || (err == nil && !complete) {
		return nil, errors.New("no complete first line")
	}
	return line, err
}

// lastLine returns the last newline-terminated line of a file (without the
// newline) and the bytes after it that lack a newline (a torn fragment).
// lineOff is where the line starts, -1 when the file has no newline at all,
// so lineOff+len(line)+1 is always where the fragment starts.
func lastLine(path string) (line, fragment []byte, lineOff int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, 0, err
	}
	size := fi.Size()
	chunk := int64(64 << 10)
	for {
		start := max(size-chunk, 0)
		buf := make([]byte, size-start)
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return nil, nil, 0, err
		}
		end := bytes.LastIndexByte(buf, '\n')
		if end < 0 {
			if start == 0 {
				return nil, buf, -1, nil
			}
			chunk *= 2
			continue
		}
		fragment = buf[end+1:]
		i := bytes.LastIndexByte(buf[:end], '\n')
		if i < 0 && start > 0 && chunk < 2*MaxLineBytes+4 {
			chunk *= 2
			continue
		}
		return buf[i+1 : end], fragment, start + int64(i) + 1, nil
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
