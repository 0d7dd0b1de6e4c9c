// Command gendemo writes the demo data tree (and the benchmarks' dense log).
// All identifiers are synthetic, made by internal/gen.
//
//	go run ./scripts/gendemo -files DIR          demo tree of exports, logs, archives
//	go run ./scripts/gendemo -log FILE -size N   N MiB of dense mixed log
package main

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"filippo.io/age"
	"github.com/atrest/atrest/internal/gen"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func main() {
	files := flag.String("files", "", "write the demo file tree into this directory")
	logFile := flag.String("log", "", "write a dense mixed log to this file")
	size := flag.Int("size", 256, "size of -log in MiB")
	flag.Parse()
	log.SetFlags(0)
	switch {
	case *files != "":
		if err := writeTree(*files); err != nil {
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
