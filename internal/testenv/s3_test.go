package testenv

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/s3store"
)

func TestS3Shared(t *testing.T) {
	a := S3(t)
	b := S3(t)
	if a != b {
		t.Fatal("two shared versitygw servers for one test binary")
	}
	bucket := a.Bucket(t, "testenv", false)
	st, err := s3store.New(context.Background(), a.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(context.Background(), "nothing"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("stat on a fresh bucket: %v, want ErrNotFound", err)
	}
	if a.Bucket(t, "testenv", false) == bucket {
		t.Fatal("Bucket gave the same name twice")
	}
}

func TestS3PrivateKillRestart(t *testing.T) {
	s := S3Private(t)
	if s == S3(t) {
		t.Fatal("S3Private returned the shared server")
	}
	bucket := s.Bucket(t, "private", true)
	ctx := context.Background()
	st, err := s3store.New(ctx, s.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	s.Kill(t)
	ctx2, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := st.Stat(ctx2, "x"); !errors.Is(err, backup.ErrUnreachable) {
		t.Fatalf("stat on a killed server: %v, want ErrUnreachable", err)
	}
	s.Restart(t)
	if _, err := s3store.New(ctx, s.Config(bucket)); err != nil {
		t.Fatalf("bucket gone after restart: %v", err)
	}
	dir := s.Dir
	s.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Stop left %s behind", dir)
	}
}

func TestMinIOOptional(t *testing.T) {
	m := MinIO(t) // skips without a minio binary
	bucket := m.Bucket(t, "testenv", true)
	if _, err := s3store.New(context.Background(), m.Config(bucket)); err != nil {
		t.Fatal(err)
	}
}
