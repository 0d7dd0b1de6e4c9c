package journal

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNothingTorn is returned by Recover when the journal ends cleanly.
var ErrNothingTorn = errors.New("journal: nothing to recover: the last lines are whole")

// Recover is the operator's answer to ErrTorn, after a crash cut the last
// line of the newest segment or of checkpoints.jsonl. It moves the torn
// bytes (only bytes after the last newline, or a last line that is not
// JSON) to torn/<file>.<offset>.partial, keeping them as evidence, and
// appends a journal.recover entry per fragment saying what it moved and why.
// Lines that parse are never touched: an edited entry is tampering, not a
// torn write, and stays for Verify to report.
func Recover(dir string, key crypto.Signer, opts Options, reason string) ([]Entry, error) {
	moved, err := moveTorn(dir)
	if err != nil {
		return nil, err
	}
	if len(moved) == 0 {
		return nil, ErrNothingTorn
	}
	j, err := Open(dir, key, opts)
	if err != nil {
		return nil, err
	}
	var batch []Entry
	for _, m := range moved {
		batch = append(batch, Entry{Kind: "journal.recover", Subject: m.file, Outcome: "ok",
			Figures: map[string]any{"torn_bytes": m.n, "torn_offset": m.off},
			Detail:  fmt.Sprintf("torn last line of %s moved to %s: %s", m.file, m.to, reason)})
	}
	out, err := j.AppendBatch(batch)
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return out, err
}

type movedFragment struct {
	file, to string
	off, n   int64
}

func moveTorn(dir string) ([]movedFragment, error) {
	lf, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer lf.Close()
	if err := flock(lf, true); err != nil {
		return nil, err
	}
	defer funlock(lf)
	sn, err := takeSnapshotLocked(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	if len(sn.segs) > 0 {
		files = append(files, sn.segs[len(sn.segs)-1].name)
	}
	files = append(files, checkpointsFile)
	var moved []movedFragment
	for _, name := range files {
		m, err := moveFragment(dir, name)
		if err != nil {
			return moved, err
		}
		if m != nil {
			moved = append(moved, *m)
		}
	}
	return moved, nil
}

func moveFragment(dir, name string) (*movedFragment, error) {
	path := filepath.Join(dir, name)
	line, frag, lineOff, err := lastLine(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	off := lineOff + int64(len(line)) + 1
	data := frag
	if len(frag) == 0 && len(line) > 0 && !json.Valid(line) {
		off, data = lineOff, append(append([]byte{}, line...), '\n')
	}
	if len(data) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Join(dir, tornDir), 0o750); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	to := filepath.Join(tornDir, fmt.Sprintf("%s.%d.partial", name, off))
	f, err := os.OpenFile(filepath.Join(dir, to), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("journal: keep torn bytes: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Join(dir, tornDir))
	}
	if err == nil {
		err = os.Truncate(path, off)
	}
	if err == nil {
		err = syncFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("journal: recover %s: %w", name, err)
	}
	return &movedFragment{file: name, to: filepath.ToSlash(to), off: off, n: int64(len(data))}, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
