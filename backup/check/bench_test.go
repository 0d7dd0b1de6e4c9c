package check

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/testenv"
)

// The read of `backup check --read` without the store: ciphertext SHA-256,
// decryption, zstd and the plaintext SHA-256 of an object in memory, beside
// the SHA-256 of the same object alone. MB/s is of the object, as the
// command's figure beside sha256sum in make bench is; go test prints the
// CPU model. The target is read >= hashing the object alone
// (sha256sum there; Go's SHA-256 here, which uses SHA-NI where the CPU has
// it and so sets a higher bar).
//
//	go test -run XXX -bench BenchmarkRead ./backup/check/
func BenchmarkRead(b *testing.B) {
	sql := benchDump(64 << 20)
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		k := testenv.NewBackupKeys(b, s)
		obj := benchObject(b, sql, s, k.Recipient)
		ids := []suite.Identity{k.Identity}
		b.Run("read/"+s.Name(), func(b *testing.B) {
			b.SetBytes(int64(len(obj)))
			for b.Loop() {
				src := newSource(bytes.NewReader(obj), 64<<10)
				_, plain, _, failed, _ := decode(src, s, ids)
				if failed != "" || plain != int64(len(sql)) {
					b.Fatalf("decode: %q after %d of %d bytes", failed, plain, len(sql))
				}
				if failed := src.finish(int64(len(obj))); failed != "" {
					b.Fatal(failed)
				}
			}
		})
		b.Run("sha256-of-object/"+s.Name(), func(b *testing.B) {
			b.SetBytes(int64(len(obj)))
			for b.Loop() {
				sha256.Sum256(obj)
			}
		})
	}
}

// benchDump is n bytes or so of mysqldump-like SQL: extended INSERTs of
// rows with numbers, names and dates, which zstd level 3 shrinks about as
// much as it does the bench's generated backup (2 to 3 times).
func benchDump(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"门诊", "住院", "outpatient", "inpatient", "refund", "settled", "pending", "药品", "检查", "治疗"}
	var sql bytes.Buffer
	sql.WriteString("-- MariaDB dump 10.19\n")
	for row := 0; sql.Len() < n; row++ {
		if row%1000 == 0 {
			sql.WriteString(";\nINSERT INTO `settlement` VALUES ")
		} else {
			sql.WriteByte(',')
		}
		fmt.Fprintf(&sql, "(%d,'%s',%d.%02d,'2026-%02d-%02d %02d:%02d:%02d',%d)", row,
			words[r.IntN(len(words))], r.IntN(100000), r.IntN(100),
			1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.Uint32())
	}
	sql.WriteString(";\n-- Dump completed\n")
	return sql.Bytes()
}

// benchObject is sql as a backup stores it: zstd at the backups' level,
// then the suite's encryption to r.
func benchObject(b *testing.B, sql []byte, s suite.Suite, r suite.Recipient) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(backup.ZstdLevel)))
	if err != nil {
		b.Fatal(err)
	}
	compressed := enc.EncodeAll(sql, nil)
	var obj bytes.Buffer
	w, err := s.Encrypt(&obj, []suite.Recipient{r})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(compressed); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return obj.Bytes()
}
