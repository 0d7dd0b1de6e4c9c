package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
)

func TestMem(t *testing.T) {
	Run(t, func(t *testing.T) backup.ObjectStore { return NewMem() })
}

func seed(t *testing.T, data string) *Mem {
	m := NewMem()
	if _, err := m.Put(context.Background(), "k", strings.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	return m
}

func readAll(t *testing.T, s backup.ObjectStore) ([]byte, backup.ObjectInfo, error) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return b, info, err
}

func TestTruncatingIsSilent(t *testing.T) {
	f := Truncating(seed(t, "0123456789"), 4)
	b, info, err := readAll(t, f)
	if err != nil || string(b) != "0123" || info.Size != 10 {
		t.Fatalf("got %q, size %d, %v: want a silent cut after 4 of 10 bytes", b, info.Size, err)
	}
}

func TestDropping(t *testing.T) {
	f := Dropping(seed(t, "0123456789"), 4)
	b, _, err := readAll(t, f)
	if string(b) != "0123" || !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("got %q, %v: want 4 bytes and a connection reset", b, err)
	}
}

func TestErrorIn200(t *testing.T) {
	f := ErrorIn200s(seed(t, "0123456789"), 2)
	b, _, err := readAll(t, f)
	if err != nil || !bytes.HasPrefix(b, []byte("01<?xml")) || !bytes.Contains(b, []byte("<Code>InternalError</Code>")) {
		t.Fatalf("got %q, %v", b, err)
	}
}

func TestFaultyTimes(t *testing.T) {
	f := Dropping(seed(t, "0123456789"), 4)
	f.Times = 1
	if _, _, err := readAll(t, f); err == nil {
		t.Fatal("first read did not fail")
	}
	if b, _, err := readAll(t, f); err != nil || string(b) != "0123456789" {
		t.Fatalf("retry: %q, %v", b, err)
	}
	if f.Hits() != 1 {
		t.Fatalf("hits = %d", f.Hits())
	}
}

func TestFailPut(t *testing.T) {
	m := NewMem()
	f := &Faulty{ObjectStore: m, Fault: FailPut, After: 3}
	_, err := f.Put(context.Background(), "k", strings.NewReader("abcdef"), 6, backup.PutOptions{})
	if !errors.Is(err, ErrInjected) {
		t.Fatalf("put: %v", err)
	}
	if _, err := m.Stat(context.Background(), "k"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("stat after failed put: %v", err)
	}
}

func TestMemRetention(t *testing.T) {
	m := seed(t, "x")
	ctx := context.Background()
	info, _ := m.Stat(ctx, "k")
	until := time.Now().Add(time.Hour)
	if err := m.PutRetention(ctx, "k", info.VersionID, backup.Retention{Mode: backup.Governance, Until: until}); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteVersion(ctx, "k", info.VersionID); !errors.Is(err, backup.ErrAccessDenied) {
		t.Fatalf("delete under retention: %v", err)
	}
	m.SetClock(func() time.Time { return until.Add(time.Second) })
	if err := m.DeleteVersion(ctx, "k", info.VersionID); err != nil {
		t.Fatalf("delete after retention: %v", err)
	}
}

func TestMemCorrupt(t *testing.T) {
	m := seed(t, "0123456789")
	if err := m.Corrupt("k", func(b []byte) []byte { b[0] ^= 1; return b[:5] }); err != nil {
		t.Fatal(err)
	}
	b, info, err := readAll(t, m)
	if err != nil || string(b) != "1123"+"4" || info.Size != 10 {
		t.Fatalf("got %q size %d %v", b, info.Size, err)
	}
}

func TestLifecycleExpiryFor(t *testing.T) {
	l := backup.Lifecycle{Rules: []backup.ExpiryRule{{ID: "all", Days: 90}, {ID: "yb", Prefix: "yb/", Days: 7}, {ID: "other", Prefix: "logs/", Days: 1}, {ID: "deep", Prefix: "yb/tmp/", Days: 2}}}
	var ids []string
	for _, r := range l.ExpiryFor("yb/") {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "all,yb,deep" {
		t.Fatalf("ExpiryFor(yb/) = %v", ids)
	}
}
