// Command gendemo writes the demo data tree (and the benchmarks' dense log).
// All identifiers are synthetic, made by internal/gen.
//
//	go run ./scripts/gendemo -files DIR          demo tree of exports, logs, archives
//	go run ./scripts/gendemo -log FILE -size N   N MiB of dense mixed log
//	go run ./scripts/gendemo -sql FILE [-rows N] a 医保-shaped demo database "yb" as SQL
//	go run ./scripts/gendemo -bucket NAME -endpoint HOST:PORT [-lock-days N]
//	                                             an S3 bucket with object lock (keys from S3_ACCESS_KEY/S3_SECRET_KEY);
//	                                             -lock-days 0: without
package main

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"filippo.io/age"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/internal/gen"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func main() {
	files := flag.String("files", "", "write the demo file tree into this directory")
	logFile := flag.String("log", "", "write a dense mixed log to this file")
	size := flag.Int("size", 256, "size of -log in MiB")
	sqlFile := flag.String("sql", "", "write the demo database as SQL to this file")
	rows := flag.Int("rows", 2000, "rows per table for -sql")
	bucket := flag.String("bucket", "", "create this S3 bucket (with object lock) if missing")
	endpoint := flag.String("endpoint", "", "S3 endpoint for -bucket")
	lockDays := flag.Int("lock-days", 30, "default GOVERNANCE retention for -bucket (0: no object lock)")
	flag.Parse()
	log.SetFlags(0)
	switch {
	case *files != "":
		if err := writeTree(*files); err != nil {
			log.Fatalf("gendemo: %v", err)
		}
	case *bucket != "":
		if err := makeBucket(*endpoint, *bucket, *lockDays); err != nil {
			log.Fatalf("gendemo: %v", err)
		}
	case *sqlFile != "":
		if err := writeSQL(*sqlFile, *rows); err != nil {
			log.Fatalf("gendemo: %v", err)
		}
	case *logFile != "":
		if err := writeLog(*logFile, int64(*size)<<20); err != nil {
			log.Fatalf("gendemo: %v", err)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func writeLog(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	g := gen.New(42)
	var n int64
	for i := 0; n < size; i++ {
		k, _ := fmt.Fprintln(w, g.LogLine(i))
		n += int64(k)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func writeTree(dir string) error {
	g := gen.New(7)
	for _, d := range []string{"exports", "logs", "archive", "backup"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	// An export as Excel on Chinese Windows saves it: GB18030 without a BOM.
	var csv []byte
	csv = append(csv, "序号,姓名,证件号码,联系电话,开户银行卡号\r\n"...)
	for i := 1; i <= 40; i++ {
		csv = append(csv, fmt.Sprintf("%d,%s,%s,%s,%s\r\n", i, g.Name(), g.ResidentID(), g.Mobile(), g.Card())...)
	}
	gbk, err := simplifiedchinese.GB18030.NewEncoder().Bytes(csv)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "exports", "参保人员名单.csv"), gbk, 0o644); err != nil {
		return err
	}
	// Masked export: what a good export looks like; nothing to find.
	masked := "姓名,证件号码,手机\n"
	for range 20 {
		id, m := g.ResidentID(), g.Mobile()
		masked += fmt.Sprintf("%s,%s***********%s,%s****%s\n", g.Name(), id[:3], id[14:], m[:3], m[7:])
	}
	if err := os.WriteFile(filepath.Join(dir, "exports", "脱敏名单.csv"), []byte(masked), 0o644); err != nil {
		return err
	}
	lines := ""
	for i := range 300 {
		lines += g.LogLine(i) + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "logs", "settle.log"), []byte(lines), 0o644); err != nil {
		return err
	}
	if err := writeGzip(filepath.Join(dir, "logs", "settle.log.1.gz"), lines); err != nil {
		return err
	}
	if err := writeZip(filepath.Join(dir, "archive", "2026-10.zip"), "导出/十月名单.csv", string(csv)); err != nil {
		return err
	}
	return writeAge(filepath.Join(dir, "backup", "名单.csv.age"), string(csv))
}

func writeGzip(path, text string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	io.WriteString(zw, text)
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func writeZip(path, member, text string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	w, err := zw.Create(member)
	if err != nil {
		return err
	}
	io.WriteString(w, text)
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func writeAge(path, text string) error {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := age.Encrypt(f, id.Recipient())
	if err != nil {
		return err
	}
	io.WriteString(w, text)
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

// writeSQL writes database yb: a roster with plaintext ID and phone columns
// (what inspections find), a masked copy, a hashed and an AES-encrypted column,
// and a settlement table whose serial numbers look like IDs but are not.
func writeSQL(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	g := gen.New(11)
	fmt.Fprintln(w, "DROP DATABASE IF EXISTS yb; CREATE DATABASE yb CHARACTER SET utf8mb4; USE yb;")
	fmt.Fprintln(w, "CREATE TABLE cb_ryxx (psn_no BIGINT PRIMARY KEY, psn_name VARCHAR(32), certno CHAR(18) COMMENT '证件号码', "+
		"sjhm VARCHAR(20) COMMENT '手机号码', certno_mask VARCHAR(20), certno_sha256 CHAR(64), yhkh_enc VARBINARY(64)) ENGINE=InnoDB;")
	fmt.Fprintln(w, "CREATE TABLE js_jsmx (setl_id BIGINT PRIMARY KEY AUTO_INCREMENT, setl_sn CHAR(18), psn_no BIGINT, "+
		"amount DECIMAL(12,2), setl_time DATETIME(3)) ENGINE=InnoDB;")
	for i := 1; i <= rows; i++ {
		id, m, card := g.ResidentID(), g.Mobile(), g.Card()
		fmt.Fprintf(w, "INSERT INTO cb_ryxx VALUES (%d,'%s','%s','%s','%s***********%s',SHA2('%s',256),AES_ENCRYPT('%s','demo-key'));\n",
			i, g.Name(), id, m, id[:3], id[14:], id, card)
		fmt.Fprintf(w, "INSERT INTO js_jsmx (setl_sn, psn_no, amount, setl_time) VALUES ('%s',%d,%d.%02d,'2026-11-%02d 10:%02d:00.%03d');\n",
			g.SerialLikeID(), i, i%5000, i%100, 1+i%25, i%60, i%1000)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func makeBucket(endpoint, bucket string, days int) error {
	ctx := context.Background()
	cfg := s3store.Config{Endpoint: endpoint, Region: "us-east-1", AccessKey: os.Getenv("S3_ACCESS_KEY"),
		SecretKey: crypto.NewSecret(os.Getenv("S3_SECRET_KEY")), Bucket: bucket}
	if _, err := s3store.New(ctx, cfg); err == nil {
		return nil // exists
	}
	s, err := s3store.CreateBucket(ctx, cfg, days > 0)
	if err != nil || days <= 0 {
		return err // -lock-days 0: a bucket without object lock
	}
	return s.SetDefaultRetention(ctx, backup.Governance, days)
}
