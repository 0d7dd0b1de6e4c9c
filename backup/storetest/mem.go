package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atrest/atrest/backup"
)

// Mem is an in-memory backup.ObjectStore (and backup.Retainer) for unit
// tests of the code above the store: it keeps whole objects in memory, so
// it is for small test data only. Its Posture is whatever the test sets, to
// test posture checks for pass and fail, which real test servers cannot
// show (versitygw answers 501 to encryption and lifecycle).
type Mem struct {
	mu      sync.Mutex
	objects map[string]*memObject
	uploads []backup.Upload
	posture backup.Posture
	now     func() time.Time
	seq     int
}

type memObject struct {
	data      []byte
	info      backup.ObjectInfo
	retention backup.Retention
}

var (
	_ backup.ObjectStore = (*Mem)(nil)
	_ backup.Retainer    = (*Mem)(nil)
)

// NewMem returns an empty store whose posture is all disabled.
func NewMem() *Mem {
	off := backup.Setting{State: backup.StateDisabled}
	return &Mem{
		objects: map[string]*memObject{},
		posture: backup.Posture{Versioning: off, ObjectLock: backup.ObjectLock{Setting: off},
			Encryption: backup.Encryption{Setting: off}, Lifecycle: backup.Lifecycle{Setting: off}},
		now: time.Now,
	}
}

// HoldsObjectsInMemory tells Run to skip its memory-bound test.
func (m *Mem) HoldsObjectsInMemory() {}

// SetPosture sets what Posture returns.
func (m *Mem) SetPosture(p backup.Posture) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.posture = p
}

// SetClock sets the time stamped on new objects (LastModified), so
// freshness checks can be tested with objects of any age.
func (m *Mem) SetClock(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}

// AddIncompleteUpload records an upload that was started and never
// finished, as a run that died mid-upload leaves.
func (m *Mem) AddIncompleteUpload(key string, initiated time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	m.uploads = append(m.uploads, backup.Upload{Key: key, UploadID: fmt.Sprintf("mem-upload-%d", m.seq), Initiated: initiated})
}

// Corrupt applies f to the stored bytes of key (flip a byte, cut the tail)
// without changing the recorded size or checksum, as rot or tampering on
// the server would. It fails the caller's test through the returned error
// if key does not exist.
func (m *Mem) Corrupt(key string, f func([]byte) []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.objects[key]
	if o == nil {
		return fmt.Errorf("storetest: corrupt %s: %w", key, backup.ErrNotFound)
	}
	o.data = f(slices.Clone(o.data))
	return nil
}

func memErr(op, key string, kind error) error {
	return fmt.Errorf("storetest: %s %s: %w", op, key, kind)
}

// Put implements backup.ObjectStore. It reads the whole body into memory.
func (m *Mem) Put(ctx context.Context, key string, r io.Reader, size int64, opts backup.PutOptions) (backup.ObjectInfo, error) {
	if key == "" {
		return backup.ObjectInfo{}, errors.New("storetest: put: empty key")
	}
	var buf bytes.Buffer
	src := io.Reader(ctxReader{ctx, r})
	if size >= 0 {
		src = io.LimitReader(src, size+1)
	}
	if _, err := io.Copy(&buf, src); err != nil {
		return backup.ObjectInfo{}, fmt.Errorf("storetest: put %s: %w", key, err)
	}
	if size >= 0 && int64(buf.Len()) != size {
		if int64(buf.Len()) < size {
			return backup.ObjectInfo{}, fmt.Errorf("storetest: put %s: source ended after %d of %d bytes: %w", key, buf.Len(), size, io.ErrUnexpectedEOF)
		}
		return backup.ObjectInfo{}, fmt.Errorf("storetest: put %s: source holds more than %d bytes", key, size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.objects[key]; old != nil && old.retention.Until.After(m.now()) {
		return backup.ObjectInfo{}, memErr("put", key, backup.ErrAccessDenied)
	}
	if m.objects[key] != nil && opts.IfAbsent {
		return backup.ObjectInfo{}, memErr("put", key, backup.ErrExists)
	}
	data := buf.Bytes()
	sum := md5.Sum(data)
	m.seq++
	info := backup.ObjectInfo{
		Key: key, Size: int64(len(data)), ETag: hex.EncodeToString(sum[:]),
		LastModified: m.now().UTC(), VersionID: fmt.Sprintf("v%d", m.seq),
	}
	if opts.ChecksumSHA256 {
		s := sha256.Sum256(data)
		info.ChecksumSHA256 = base64.StdEncoding.EncodeToString(s[:])
	}
	o := &memObject{data: data, info: info}
	if opts.Retention != nil {
		o.retention = *opts.Retention
	}
	m.objects[key] = o
	return info, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get implements backup.ObjectStore.
func (m *Mem) Get(ctx context.Context, key string) (io.ReadCloser, backup.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.objects[key]
	if o == nil {
		return nil, backup.ObjectInfo{}, memErr("get", key, backup.ErrNotFound)
	}
	return io.NopCloser(ctxReader{ctx, bytes.NewReader(o.data)}), o.info, nil
}

// Stat implements backup.ObjectStore.
func (m *Mem) Stat(ctx context.Context, key string) (backup.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.objects[key]
	if o == nil {
		return backup.ObjectInfo{}, memErr("stat", key, backup.ErrNotFound)
	}
	return o.info, nil
}

// List implements backup.ObjectStore.
func (m *Mem) List(ctx context.Context, prefix string) iter.Seq2[backup.ObjectInfo, error] {
	return func(yield func(backup.ObjectInfo, error) bool) {
		m.mu.Lock()
		var infos []backup.ObjectInfo
		for k, o := range m.objects {
			if strings.HasPrefix(k, prefix) {
				info := o.info
				info.ChecksumSHA256 = "" // as in an S3 listing
				info.VersionID = ""
				infos = append(infos, info)
			}
		}
		m.mu.Unlock()
		slices.SortFunc(infos, func(a, b backup.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
		for _, info := range infos {
			if err := ctx.Err(); err != nil {
				yield(backup.ObjectInfo{}, fmt.Errorf("storetest: list %s: %w", prefix, err))
				return
			}
			if !yield(info, nil) {
				return
			}
		}
	}
}

// Delete implements backup.ObjectStore.
func (m *Mem) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

// ListIncompleteUploads implements backup.ObjectStore.
func (m *Mem) ListIncompleteUploads(ctx context.Context, prefix string) ([]backup.Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []backup.Upload
	for _, u := range m.uploads {
		if strings.HasPrefix(u.Key, prefix) {
			out = append(out, u)
		}
	}
	return out, nil
}

// Posture implements backup.ObjectStore.
func (m *Mem) Posture(ctx context.Context) (backup.Posture, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.posture, nil
}

func (m *Mem) version(op, key, versionID string) (*memObject, error) {
	o := m.objects[key]
	if o == nil || versionID != "" && o.info.VersionID != versionID {
		return nil, memErr(op, key, backup.ErrNotFound)
	}
	return o, nil
}

// PutRetention implements backup.Retainer. Mem keeps the latest version only.
func (m *Mem) PutRetention(ctx context.Context, key, versionID string, r backup.Retention) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, err := m.version("put retention", key, versionID)
	if err != nil {
		return err
	}
	o.retention = r
	return nil
}

// Retention implements backup.Retainer.
func (m *Mem) Retention(ctx context.Context, key, versionID string) (backup.Retention, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, err := m.version("get retention", key, versionID)
	if err != nil {
		return backup.Retention{}, err
	}
	return o.retention, nil
}

// DeleteVersion implements backup.Retainer: refused while retained.
func (m *Mem) DeleteVersion(ctx context.Context, key, versionID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, err := m.version("delete version", key, versionID)
	if err != nil {
		return err
	}
	if o.retention.Until.After(m.now()) {
		return memErr("delete version", key, backup.ErrAccessDenied)
	}
	delete(m.objects, key)
	return nil
}
