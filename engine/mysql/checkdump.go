package mysql

import (
	"fmt"
	"io"
	"strings"

	"github.com/atrest/atrest/engine"
)

// DumpTrailer is the last line mysqldump and mariadb-dump write (and
// atrest's dumps): its absence means the dump stopped early.
const DumpTrailer = "-- Dump completed"

// CheckDump reads a mysqldump to its end and looks for its trailer as the
// last line that says anything.
func (Engine) CheckDump(r io.Reader) (string, error) {
	t := engine.Tail{Max: 4 << 10}
	if _, err := io.Copy(&t, r); err != nil {
		return "", err
	}
	s := strings.TrimRight(string(t.Bytes()), " \t\r\n")
	last := strings.TrimSpace(s[strings.LastIndexByte(s, '\n')+1:])
	if !strings.HasPrefix(last, DumpTrailer) {
		return "", fmt.Errorf("%w: the last lines hold no %q: the dump stopped early", engine.ErrTruncated, DumpTrailer)
	}
	return fmt.Sprintf("ending in %q", last), nil
}
