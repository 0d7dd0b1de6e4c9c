package fslock

import (
	"path/filepath"
	"testing"
)

func TestTryOpenSeesAHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	held, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := TryOpen(p); err != nil || f != nil {
		t.Fatalf("TryOpen while held: %v, %v; want nil, nil", f, err)
	}
	held.Close()
	f, err := TryOpen(p)
	if err != nil || f == nil {
		t.Fatalf("TryOpen after release: %v, %v", f, err)
	}
	f.Close()
}
