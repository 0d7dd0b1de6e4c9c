package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"

	"github.com/atrest/atrest/backup"
)

// Fault is what a Faulty store does to the bodies it serves.
type Fault int

const (
	// Truncate ends a Get body with a clean io.EOF after the first After
	// bytes while ObjectInfo still gives the full size: a body short by
	// stealth, which a real store must never deliver (s3store turns it into
	// io.ErrUnexpectedEOF) and which readers must catch anyway, by size or
	// digest.
	Truncate Fault = iota + 1
	// Drop fails a Get body after After bytes with a connection reset, as
	// a store reports a connection dropped mid-body: an error wrapping
	// io.ErrUnexpectedEOF and syscall.ECONNRESET.
	Drop
	// ErrorIn200 replaces a Get body, after After bytes, with an S3 <Error>
	// document, as a server or proxy that answered "200 OK" and then
	// failed: the reader gets well-formed XML where its data should be.
	ErrorIn200
	// FailPut makes Put fail after reading After bytes of its source (the
	// server died mid-upload), storing nothing.
	FailPut
	// Status, LieSize and Stall are Proxy faults: an error status (500,
	// 503 SlowDown) instead of an answer; a HEAD that gives a size other
	// than the object's; a response body that stops after After bytes
	// until the rule's OnAnswer returns (a test kills the client there).
	Status
	LieSize
	Stall
)

func (f Fault) String() string {
	switch f {
	case Truncate:
		return "truncate"
	case Drop:
		return "drop"
	case ErrorIn200:
		return "error-in-200"
	case FailPut:
		return "fail-put"
	case Status:
		return "status"
	case LieSize:
		return "lie-size"
	case Stall:
		return "stall"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Faulty wraps a store and injects Fault into the calls it applies to, at
// the ObjectStore seam. Tests of check and drill code use it to see that a
// transport fault is reported as one (and retried once), never as a good or
// a corrupt backup. For faults on the wire in front of a real server, see
// Proxy.
type Faulty struct {
	backup.ObjectStore
	Fault Fault
	// After is how many bytes pass before the fault.
	After int64
	// KeyPrefix limits the fault to keys with this prefix ("" = all).
	KeyPrefix string
	// Times limits the fault to the first Times calls it applies to
	// (0 = every call), so that a retry can succeed.
	Times int

	mu  sync.Mutex
	hit int
}

// Truncating returns s with Get bodies ended early (silently) after n bytes.
func Truncating(s backup.ObjectStore, n int64) *Faulty {
	return &Faulty{ObjectStore: s, Fault: Truncate, After: n}
}

// Dropping returns s with Get bodies failing after n bytes as a dropped
// connection does.
func Dropping(s backup.ObjectStore, n int64) *Faulty {
	return &Faulty{ObjectStore: s, Fault: Drop, After: n}
}

// ErrorIn200s returns s with Get bodies replaced by an S3 error document
// after n bytes.
func ErrorIn200s(s backup.ObjectStore, n int64) *Faulty {
	return &Faulty{ObjectStore: s, Fault: ErrorIn200, After: n}
}

// Hits reports how many calls the fault has hit.
func (f *Faulty) Hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hit
}

// take reports whether the fault applies to this call on key, counting it.
func (f *Faulty) take(key string) bool {
	if !strings.HasPrefix(key, f.KeyPrefix) {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Times > 0 && f.hit >= f.Times {
		return false
	}
	f.hit++
	return true
}

// errConnReset is what a dropped connection looks like to a reader.
var errConnReset = fmt.Errorf("read: connection reset by peer: %w (%w)", io.ErrUnexpectedEOF, syscall.ECONNRESET)

// Get implements backup.ObjectStore.
func (f *Faulty) Get(ctx context.Context, key string) (io.ReadCloser, backup.ObjectInfo, error) {
	if f.Fault == FailPut {
		return f.ObjectStore.Get(ctx, key)
	}
	rc, info, err := f.ObjectStore.Get(ctx, key)
	if err != nil || !f.take(key) {
		return rc, info, err
	}
	return &faultyBody{rc: rc, left: f.After, fault: f.Fault, key: key}, info, nil
}

type faultyBody struct {
	rc    io.ReadCloser
	left  int64
	fault Fault
	key   string
	tail  io.Reader // the error document, once started
}

func (b *faultyBody) Read(p []byte) (int, error) {
	if b.tail != nil {
		return b.tail.Read(p)
	}
	if b.left <= 0 {
		switch b.fault {
		case Truncate:
			return 0, io.EOF
		case Drop:
			return 0, fmt.Errorf("storetest: get %s: %w", b.key, errConnReset)
		case ErrorIn200:
			b.tail = strings.NewReader(ErrorDocument("InternalError", "We encountered an internal error. Please try again.", b.key))
			return b.tail.Read(p)
		}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left <= 0 && b.fault != Truncate {
		err = nil // the fault comes first, at the next Read
	}
	return n, err
}

func (b *faultyBody) Close() error { return b.rc.Close() }

// ErrorDocument is an S3 error response body.
func ErrorDocument(code, message, key string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Error><Code>` + code + `</Code><Message>` + message + `</Message><Key>` + key +
		`</Key><RequestId>storetest</RequestId></Error>`
}

// ErrInjected is the cause of the failures FailPut injects.
var ErrInjected = errors.New("storetest: injected fault")

// Put implements backup.ObjectStore.
func (f *Faulty) Put(ctx context.Context, key string, r io.Reader, size int64, opts backup.PutOptions) (backup.ObjectInfo, error) {
	if f.Fault != FailPut || !f.take(key) {
		return f.ObjectStore.Put(ctx, key, r, size, opts)
	}
	// Consume what the server would have received, then fail without
	// storing: the upload is aborted, as the contract requires.
	if _, err := io.CopyN(io.Discard, r, f.After); err != nil && err != io.EOF {
		return backup.ObjectInfo{}, fmt.Errorf("storetest: put %s: %w", key, err)
	}
	return backup.ObjectInfo{}, fmt.Errorf("storetest: put %s: %w: %w", key, backup.ErrUnreachable, ErrInjected)
}
