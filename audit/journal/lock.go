package journal

import (
	"fmt"
	"os"

	"github.com/atrest/atrest/internal/fslock"
)

// flock takes an flock(2) lock on the journal's lock file, waiting for it.
func flock(f *os.File, exclusive bool) error {
	if err := fslock.Lock(f, exclusive); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

func funlock(f *os.File) error { return fslock.Unlock(f) }
