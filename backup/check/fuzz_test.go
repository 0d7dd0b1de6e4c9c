package check_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/storetest"
)

// FuzzReadDump: check --read reads whatever another tool uploaded as a
// mysqldump (plain, gzip or zstd). It never panics or hangs, never gives
// a multi-line detail, and passes a dump only if the bytes decode to the
// end and the SQL's last line is mysqldump's trailer, which the test checks
// with the standard decoders on its own.
func FuzzReadDump(f *testing.F) {
	for _, b := range [][]byte{mysqldumpSQL(3, true), mysqldumpSQL(3, false), []byte("-- Dump completed\n"),
		[]byte("-- Dump completed on 2026-11-21  1:30:01\n\n\n"), {}} {
		f.Add(b, uint8(0))
		f.Add(gz(b), uint8(1))
		f.Add(zst(b), uint8(2))
	}
	f.Add(append(gz(mysqldumpSQL(2, true)), gz([]byte("-- more\n"))...), uint8(1)) // concatenated members
	f.Add(gz(mysqldumpSQL(2, true))[:30], uint8(1))
	suffixes := []string{".sql", ".sql.gz", ".sql.zst"}
	t0 := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, layer uint8) {
		suffix := suffixes[int(layer)%len(suffixes)]
		s := storetest.NewMem()
		s.SetPosture(goodPosture())
		s.SetClock(func() time.Time { return t0 })
		key := "yb/yb-20261120" + suffix
		if _, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		res, err := check.Run(context.Background(), mysqldumpOpts(s, t0.Add(time.Hour), "yb/*"+suffix))
		if err != nil {
			t.Fatalf("could not check: %v", err)
		}
		for _, r := range res {
			if strings.ContainsAny(r.Detail, "\n\r") {
				t.Fatalf("multi-line detail %q", r.Detail)
			}
			if r.Check != check.Integrity || r.Status != check.Pass {
				continue
			}
			sql, ok := decodeAll(suffix, data)
			if !ok {
				t.Fatalf("passed a %s that does not decode: %s", suffix, r.Detail)
			}
			lines := strings.Fields(strings.TrimSpace(string(sql)))
			if !bytes.Contains(lastLine(sql), []byte("-- Dump completed")) || len(lines) == 0 {
				t.Fatalf("passed a dump whose last line is %q: %s", lastLine(sql), r.Detail)
			}
		}
	})
}

// decodeAll decodes data by its suffix with the standard decoders.
func decodeAll(suffix string, data []byte) ([]byte, bool) {
	var r io.Reader = bytes.NewReader(data)
	switch suffix {
	case ".sql.gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, false
		}
		r = zr
	case ".sql.zst":
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, false
		}
		defer zr.Close()
		r = zr
	}
	out, err := io.ReadAll(io.LimitReader(r, 64<<20))
	return out, err == nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, " \t\r\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// A dump whose bytes are not what its key's name says fails the read: the
// drill decodes by the name, and FuzzReadDump found check passing a gzip
// stored as .sql, which no restore by the name could load.
func TestMysqldumpNameAndBytesAgree(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)
	good := mysqldumpSQL(20, true)
	for _, c := range []struct {
		key  string
		data []byte
		st   check.Status
		sub  string
	}{
		{"yb/a.sql", gz(good), check.Fail, "the key's name says plain SQL, the bytes are gzip"},
		{"yb/a.sql.gz", good, check.Fail, "the key's name says gzip, the bytes are plain SQL"},
		{"yb/a.sql.zst", gz(good), check.Fail, "the key's name says zstd, the bytes are gzip"},
		{"yb/a.sql.gz", gz(good), check.Pass, "gzip decoded to the end"},
		{"yb/a.sql", good, check.Pass, "plain SQL decoded to the end"},
	} {
		s := dumpStore{storetest.NewMem(), t}
		s.put(c.key, t0, c.data)
		r := want(t, run(t, mysqldumpOpts(s, t0.Add(time.Hour), "yb/*")), check.Integrity, c.st, c.sub)
		if c.st == check.Fail && r.Failure != check.FailIntegrity {
			t.Errorf("%s: failure %q", c.key, r.Failure)
		}
	}
}
