package check_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/check"
	"github.com/atrest/atrest/backup/storetest"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

func mysqldumpSQL(rows int, complete bool) []byte {
	var b bytes.Buffer
	b.WriteString("-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n-- Host: db1    Database: yb\n")
	for i := range rows {
		fmt.Fprintf(&b, "INSERT INTO `cb_ryxx` VALUES (%d,'row %d');\n", i, i)
	}
	if complete {
		b.WriteString("/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\n-- Dump completed on 2026-11-21  1:30:01\n")
	}
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func zst(b []byte) []byte {
	var out bytes.Buffer
	w, _ := zstd.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

type dumpStore struct {
	*storetest.Mem
	t *testing.T
}

func (d dumpStore) put(key string, at time.Time, data []byte) {
	d.SetClock(func() time.Time { return at })
	if _, err := d.Put(ctxT(d.t), key, bytes.NewReader(data), int64(len(data)), backup.PutOptions{}); err != nil {
		d.t.Fatal(err)
	}
}

func mysqldumpOpts(s backup.ObjectStore, now time.Time, pattern string) check.Options {
	return check.Options{Store: s, Now: now, Read: true,
		Job: check.Job{Name: "yb-legacy", Format: "mysqldump", Engine: mysql.Engine{}, KeyPattern: pattern, RPO: 26 * time.Hour, Retention: 30 * 24 * time.Hour}}
}

func TestMysqldump(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)
	s := dumpStore{storetest.NewMem(), t}
	s.SetPosture(goodPosture())
	s.put("yb/yb-20261120.sql.gz", t0, gz(mysqldumpSQL(1000, true)))
	s.put("yb/yb-20261121.sql.gz", t0.Add(24*time.Hour), gz(mysqldumpSQL(1010, true)))
	s.put("yb/notes.txt", t0.Add(25*time.Hour), []byte("not a dump"))
	s.put("yb/sub/yb-20261122.sql.gz", t0.Add(26*time.Hour), gz(mysqldumpSQL(10, true))) // * does not cross /

	res := run(t, mysqldumpOpts(s, t0.Add(27*time.Hour), "yb/*.sql.gz"))
	noFail(t, res)
	want(t, res, check.Freshness, check.Pass, "newest dump stored 3h ago, RPO 26h")
	want(t, res, check.Trend, check.Pass, "no sudden drop")
	want(t, res, check.Integrity, check.Pass, "gzip decoded to the end", `ending in "-- Dump completed on 2026-11-21  1:30:01"`)
	want(t, res, check.Uploads, check.Pass)
	want(t, res, check.ObjectLock, check.Pass)
	// No manifests for another tool's dumps, and no client-side evidence.
	for _, c := range []string{check.ManifestSig, check.ObjectCheck, check.Completeness} {
		if len(find(res, c)) != 0 {
			t.Errorf("%s reported for a mysqldump job", c)
		}
	}
	want(t, res, check.Encryption, check.Unsupported)

	// Old.
	res = run(t, mysqldumpOpts(s, t0.Add(60*time.Hour), "yb/*.sql.gz"))
	want(t, res, check.Freshness, check.Fail, "older than the RPO of 26h")

	// A dump cut short: no trailer; the size drop fails the trend as well.
	s.put("yb/yb-20261122.sql.gz", t0.Add(48*time.Hour), gz(mysqldumpSQL(300, false)))
	res = run(t, mysqldumpOpts(s, t0.Add(49*time.Hour), "yb/*.sql.gz"))
	r := want(t, res, check.Integrity, check.Fail, `hold no "-- Dump completed"`, "stopped early")
	if r.Failure != check.FailIntegrity || r.Key != "yb/yb-20261122.sql.gz" {
		t.Errorf("%+v", r)
	}
	want(t, res, check.Trend, check.Fail, "size down")
	// The bad newest dump does not count as fresh.
	if r := want(t, res, check.Freshness, check.Pass, "newest dump stored 25h ago"); r.Key != "yb/yb-20261121.sql.gz" {
		t.Errorf("freshness goes by %s", r.Key)
	}
}

func TestMysqldumpCodecs(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)
	good := mysqldumpSQL(2000, true)
	k := testenv.NewBackupKeys(t, suite.Standard)
	var aged bytes.Buffer
	aw, _ := suite.Standard.Encrypt(&aged, []suite.Recipient{k.Recipient})
	aw.Write(zst(good))
	aw.Close()
	gzipped := gz(good)
	cut := gzipped[:len(gzipped)-200]
	flipped := bytes.Clone(gzipped)
	flipped[len(flipped)/2] ^= 0x40

	for _, c := range []struct {
		name     string
		data     []byte
		identity suite.Identity
		st       check.Status
		sub      string
	}{
		{"zstd", zst(good), nil, check.Pass, "zstd decoded to the end"},
		{"plain", good, nil, check.Pass, "plain SQL decoded to the end"},
		{"gzip multistream", append(gz(good[:1000]), gz(good[1000:])...), nil, check.Pass, "gzip decoded"},
		{"gzip truncated", cut, nil, check.Fail, "gzip: unexpected EOF"},
		{"gzip flipped", flipped, nil, check.Fail, "gzip:"},
		{"zstd truncated", zst(good)[:500], nil, check.Fail, "zstd:"},
		{"age without identity", aged.Bytes(), nil, check.Unsupported, "give --identity"},
		{"age with identity", aged.Bytes(), k.Identity, check.Pass, "age+zstd decoded to the end"},
		{"age with an SM2 identity", aged.Bytes(), testenv.NewBackupKeys(t, suite.SM).Identity, check.Unsupported, "give --identity (an age identity)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := dumpStore{storetest.NewMem(), t}
			s.put("yb/yb.sql.x", t0, c.data)
			o := mysqldumpOpts(s, t0.Add(time.Hour), "yb/*.sql.x")
			o.Identities = ids(c.identity)
			r := want(t, run(t, o), check.Integrity, c.st, c.sub)
			if c.st == check.Fail && r.Failure != check.FailIntegrity {
				t.Errorf("failure %q", r.Failure)
			}
		})
	}

	// A dropped connection is transport, not a bad dump.
	s := dumpStore{storetest.NewMem(), t}
	s.put("yb/yb.sql.gz", t0, gz(good))
	o := mysqldumpOpts(storetest.Dropping(s, 100), t0.Add(time.Hour), "yb/*.sql.gz")
	r := want(t, run(t, o), check.Integrity, check.Fail, "connection reset")
	if r.Failure != check.FailTransport {
		t.Errorf("failure %q", r.Failure)
	}
	// The trailer is found only at the end.
	if !strings.Contains(string(good[len(good)-60:]), "-- Dump completed") {
		t.Fatal("test dump lacks its trailer")
	}

	// Nothing matches.
	res := run(t, mysqldumpOpts(storetest.NewMem(), t0, "yb/*.sql.gz"))
	want(t, res, check.Freshness, check.Fail, "no dump matching yb/*.sql.gz")
	want(t, res, check.Integrity, check.Fail, "nothing to read")
	if _, err := check.Run(ctxT(t), mysqldumpOpts(storetest.NewMem(), t0, "yb/[")); err == nil {
		t.Error("bad pattern accepted")
	}
}
