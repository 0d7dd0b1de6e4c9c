//go:build unix

package filesrc

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestFIFO: opening a fifo would block the worker forever.
func TestFIFO(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.txt", []byte("x\n"))
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	w := walkDir(t, dir, Options{Workers: 1})
	if r := w.rec(t, "pipe", ""); r.State != "skipped" || r.Reason != "not a regular file (fifo)" {
		t.Errorf("fifo = %+v", r)
	}
}
