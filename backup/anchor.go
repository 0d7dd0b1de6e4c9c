package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxAnchorBytes bounds one checkpoint copy read back; a signed note is a few
// hundred bytes.
const maxAnchorBytes = 64 << 10

// JournalAnchor keeps copies of the journal's signed checkpoints in object
// storage (it satisfies audit/journal's Anchor), so that cutting the tail off
// the local journal, checkpoints included, still shows. On a bucket with object
// lock, the bucket's default retention protects each copy; like a locked
// object, a copy is never replaced with different content.
type JournalAnchor struct {
	Store ObjectStore
	// Prefix keeps installations apart in a shared bucket, e.g.
	// "journal/<host>/".
	Prefix string
}

// Put stores name once; storing the same bytes again is a no-op.
func (a JournalAnchor) Put(ctx context.Context, name string, data []byte) error {
	key := a.Prefix + name
	old, err := a.Get(ctx, name)
	switch {
	case err == nil && bytes.Equal(old, data):
		return nil
	case err == nil:
		return fmt.Errorf("anchor %s exists with other content: refusing to replace it", key)
	case !errors.Is(err, ErrNotFound):
		return err
	}
	_, err = a.Store.Put(ctx, key, bytes.NewReader(data), int64(len(data)),
		PutOptions{ContentType: "text/plain; charset=utf-8", ChecksumSHA256: true})
	return err
}

// Get reads name back.
func (a JournalAnchor) Get(ctx context.Context, name string) ([]byte, error) {
	rc, _, err := a.Store.Get(ctx, a.Prefix+name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxAnchorBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxAnchorBytes {
		return nil, fmt.Errorf("anchor %s%s is over %d bytes: not a checkpoint", a.Prefix, name, maxAnchorBytes)
	}
	return data, nil
}

// List returns the names under prefix, without the anchor's own Prefix.
func (a JournalAnchor) List(ctx context.Context, prefix string) ([]string, error) {
	var names []string
	for info, err := range a.Store.List(ctx, a.Prefix+prefix) {
		if err != nil {
			return nil, err
		}
		names = append(names, strings.TrimPrefix(info.Key, a.Prefix))
	}
	return names, nil
}
