package s3store_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/internal/testenv"
)

// faulty returns a store on a fresh bucket behind a fault proxy, and the
// same bucket reached directly, to see what really got stored.
func faulty(t *testing.T) (via *s3store.Store, direct *s3store.Store, p *storetest.Proxy, secret string) {
	srv := testenv.S3(t)
	cfg := srv.Config(srv.Bucket(t, "fault", false))
	direct = open(t, cfg)
	p = storetest.NewProxy(t, srv.Endpoint)
	cfg.Endpoint = p.Endpoint
	return open(t, cfg), direct, p, srv.SecretKey
}

func object(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func readBack(t *testing.T, s backup.ObjectStore, key string) ([]byte, error) {
	t.Helper()
	rc, _, err := s.Get(ctxT(t), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// A body that stops before its Content-Length is an error wrapping
// io.ErrUnexpectedEOF, never a short read that ends in io.EOF.
func TestTruncatedBody(t *testing.T) {
	s, _, p, secret := faulty(t)
	data := object(3 << 20)
	put(t, s, "t/obj", data)
	for _, f := range []storetest.Fault{storetest.Truncate, storetest.Drop} {
		t.Run(f.String(), func(t *testing.T) {
			r := &storetest.Rule{Match: storetest.IsGetObject, Fault: f, After: 1 << 20}
			p.Add(r)
			defer p.Clear()
			got, err := readBack(t, s, "t/obj")
			checkErr(t, err, secret, io.ErrUnexpectedEOF)
			if f == storetest.Drop && !errors.Is(err, syscall.ECONNRESET) {
				t.Logf("note: drop gave %v", err)
			}
			if !strings.Contains(err.Error(), "t/obj") {
				t.Errorf("error %q does not name the object", err)
			}
			if len(got) >= len(data) {
				t.Errorf("read %d bytes of %d and an error", len(got), len(data))
			}
			if p.Hits(r) != 1 {
				t.Errorf("fault hit %d times", p.Hits(r))
			}
		})
	}
	// And with the proxy quiet again, the object reads whole.
	if got, err := readBack(t, s, "t/obj"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("clean read: %d bytes, %v", len(got), err)
	}
}

func put(t *testing.T, s backup.ObjectStore, key string, data []byte) backup.ObjectInfo {
	t.Helper()
	info, err := s.Put(ctxT(t), key, bytes.NewReader(data), int64(len(data)), backup.PutOptions{ChecksumSHA256: true})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return info
}

// noObject checks that key is absent and no multipart upload is pending.
func noObject(t *testing.T, s backup.ObjectStore, key string) {
	t.Helper()
	if _, err := s.Stat(ctxT(t), key); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("stat %s after a failed put: %v, want ErrNotFound", key, err)
	}
	ups, err := s.ListIncompleteUploads(ctxT(t), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 0 {
		t.Errorf("failed put left uploads: %+v", ups)
	}
}

// CompleteMultipartUpload may answer 200 OK and then an <Error>: the put
// has failed, and nothing may be called an object.
func TestErrorIn200OnComplete(t *testing.T) {
	s, direct, p, secret := faulty(t)
	r := &storetest.Rule{Match: storetest.IsCompleteUpload, Fault: storetest.ErrorIn200}
	p.Add(r)
	_, err := s.Put(ctxT(t), "e/obj", bytes.NewReader(object(s3store.PartSize+1)), s3store.PartSize+1, backup.PutOptions{})
	checkErr(t, err, secret)
	if p.Hits(r) == 0 {
		t.Fatal("the fault never hit: the test proves nothing")
	}
	noObject(t, direct, "e/obj")
}

// A listing answered with 200 and an <Error> must fail, not read as an
// empty bucket (which a freshness check would take for "no backups").
func TestErrorIn200OnList(t *testing.T) {
	s, _, p, secret := faulty(t)
	put(t, s, "l/obj", []byte("x"))
	p.Add(&storetest.Rule{Match: storetest.IsListObjects, Fault: storetest.ErrorIn200})
	var err error
	n := 0
	for _, e := range s.List(ctxT(t), "l/") {
		if e != nil {
			err = e
			break
		}
		n++
	}
	checkErr(t, err, secret)
	if n != 0 {
		t.Errorf("listed %d objects from an error", n)
	}
}

// A download answered with 200 and an <Error> document: the store cannot
// tell it from data by itself (S3 sends no digest of a multipart body), so
// it must at least not match the object's size and checksum; the check's
// digest catches it.
func TestErrorIn200OnGet(t *testing.T) {
	s, _, p, _ := faulty(t)
	data := object(1 << 20)
	info := put(t, s, "g/obj", data)
	p.Add(&storetest.Rule{Match: storetest.IsGetObject, Fault: storetest.ErrorIn200})
	rc, gi, err := s.Get(ctxT(t), "g/obj")
	if err != nil {
		t.Logf("get refused the error document: %v", err)
		return
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Logf("read refused the error document: %v", err)
		return
	}
	if gi.Size == info.Size && gi.ETag == info.ETag && sha256.Sum256(got) == sha256.Sum256(data) {
		t.Fatal("an error document passed for the object")
	}
	t.Logf("200-with-error on GET reads as %d bytes (object %d), ETag %q (object %q): caught by size or digest, not by the store",
		len(got), info.Size, gi.ETag, info.ETag)
}

// The connection drops mid-upload, every time: Put fails and the upload is
// aborted. Once only: minio-go's retry resends the part and Put succeeds
// with the right bytes.
func TestDroppedUpload(t *testing.T) {
	s, direct, p, secret := faulty(t)
	data := object(s3store.PartSize + 3<<20)
	r := &storetest.Rule{Match: storetest.IsPutPart, Fault: storetest.Drop, After: 1 << 20}
	p.Add(r)
	_, err := s.Put(ctxT(t), "d/obj", bytes.NewReader(data), int64(len(data)), backup.PutOptions{ChecksumSHA256: true})
	checkErr(t, err, secret)
	if p.Hits(r) == 0 {
		t.Fatal("the fault never hit")
	}
	noObject(t, direct, "d/obj")

	p.Clear()
	r = &storetest.Rule{Match: storetest.IsPutPart, Fault: storetest.Drop, After: 1 << 20, Times: 1}
	p.Add(r)
	put(t, s, "d/obj", data)
	if p.Hits(r) != 1 {
		t.Fatalf("fault hit %d times", p.Hits(r))
	}
	if got, err := readBack(t, direct, "d/obj"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after a retried part: %d bytes, %v", len(got), err)
	}
}
