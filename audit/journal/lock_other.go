//go:build !unix

package journal

import (
	"errors"
	"os"
)

func flock(f *os.File, exclusive bool) error {
	return errors.New("journal: appends need flock(2), which this system lacks")
}

func funlock(f *os.File) error { return nil }
