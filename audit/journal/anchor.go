package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Anchor is a store outside the journal's host (object storage with object
// lock, in production) that keeps a copy of every checkpoint, so that cutting
// the tail off the local journal, checkpoints included, still shows.
// Names are slash-separated ("checkpoints/000000001000.note").
type Anchor interface {
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string) ([]byte, error)
	List(ctx context.Context, prefix string) ([]string, error)
}

// ErrAnchor marks an error from the anchor: the local append it came with
// succeeded and is durable.
var ErrAnchor = errors.New("journal: anchor")

const anchorPrefix = "checkpoints/"

func anchorName(size int) string { return fmt.Sprintf("%s%016d.note", anchorPrefix, size) }

func parseAnchorName(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, anchorPrefix)
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".note")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return int(n), err == nil && n > 0
}

// DirAnchor is an Anchor in a local directory, for tests and for a mounted
// write-once share. Like a bucket under object lock, it never replaces an
// object with different content.
type DirAnchor struct {
	Dir string
}

func (a DirAnchor) file(name string) (string, error) {
	clean := path.Clean(name)
	if name == "" || clean != name || path.IsAbs(name) || strings.HasPrefix(clean, "../") || clean == ".." {
		return "", fmt.Errorf("anchor: bad name %q", name)
	}
	return filepath.Join(a.Dir, filepath.FromSlash(name)), nil
}

// Put writes data under name once; an existing object with the same content
// is accepted, one with other content is refused.
func (a DirAnchor) Put(ctx context.Context, name string, data []byte) error {
	p, err := a.file(name)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(p); err == nil {
		if bytes.Equal(old, data) {
			return nil
		}
		return fmt.Errorf("anchor %s: %s exists with other content", a.Dir, name)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("anchor: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("anchor: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("anchor: %w", err)
	}
	// Link, not rename: it fails when the name exists, so a racing writer
	// cannot replace an object.
	if err := os.Link(tmp.Name(), p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			if old, rerr := os.ReadFile(p); rerr == nil && bytes.Equal(old, data) {
				return nil
			}
		}
		return fmt.Errorf("anchor: %w", err)
	}
	return nil
}

// Get returns the object's content; a missing object gives an error
// matching fs.ErrNotExist.
func (a DirAnchor) Get(ctx context.Context, name string) ([]byte, error) {
	p, err := a.file(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("anchor: %w", err)
	}
	return b, nil
}

// List returns the names that start with prefix, sorted.
func (a DirAnchor) List(ctx context.Context, prefix string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(a.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == a.Dir {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".put-") {
			return nil
		}
		rel, err := filepath.Rel(a.Dir, p)
		if err != nil {
			return err
		}
		if name := filepath.ToSlash(rel); strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("anchor: %w", err)
	}
	sort.Strings(names)
	return names, nil
}
