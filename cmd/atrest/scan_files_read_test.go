package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/atrest/atrest/internal/eval"
)

// jsonRecords splits jsonl output into records.
func jsonRecords(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, ln := range strings.Split(strings.TrimSpace(out), "\n") {
		if ln == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			t.Fatalf("not json: %q: %v", ln, err)
		}
		recs = append(recs, m)
	}
	return recs
}

// fileRecord finds the file record of path (and member), or fails.
func fileRecord(t *testing.T, recs []map[string]any, path, member string) map[string]any {
	t.Helper()
	for _, r := range recs {
		if r["record"] == "file" && r["path"] == path && (r["member"] == nil && member == "" || r["member"] == member) {
			return r
		}
	}
	t.Fatalf("no file record for %s!%s", path, member)
	return nil
}

func summaryRecord(t *testing.T, recs []map[string]any) map[string]any {
	t.Helper()
	for _, r := range recs {
		if r["record"] == "summary" {
			return r
		}
	}
	t.Fatal("no summary record")
	return nil
}

// Issue 16, finding 3: proc says size 0 for a file with content. It must be
// read to EOF and its identifiers found, not called "scanned" unread.
func TestScanFilesReadsFilesThatSaySizeZero(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.Env = []string{"PSN_CERTNO=11010519491231002X", "LANG=C"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	environ := fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid)
	if st, err := os.Stat(environ); err != nil || st.Size() != 0 {
		t.Fatalf("want a file whose stat says size 0: %v %v", st, err)
	}
	out, stderr, code := atrest(t, "scan", "files", "--format", "jsonl", environ)
	if code != exitFound {
		t.Fatalf("exit %d, want %d: %s %s", code, exitFound, out, stderr)
	}
	recs := jsonRecords(t, out)
	r := fileRecord(t, recs, environ, "")
	if r["state"] != "scanned" || r["findings"] != 1.0 || r["size"].(float64) < 20 {
		t.Fatalf("record %v: want scanned, 1 finding, the bytes read as size", r)
	}
}

// Issue 16, finding 3: a walk from / does not descend into proc and sys, and
// says so in a record for each; skipping them is not "could not read".
func TestScanFilesDoesNotDescendPseudoFilesystems(t *testing.T) {
	ents, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"scan", "files", "--format", "jsonl"}
	for _, e := range ents {
		if n := e.Name(); n != "proc" && n != "sys" {
			args = append(args, "--exclude", n)
		}
	}
	out, stderr, code := atrest(t, append(args, "/")...)
	if code != exitOK {
		t.Fatalf("exit %d, want 0: %s", code, stderr)
	}
	recs := jsonRecords(t, out)
	for _, p := range []string{"/proc", "/sys"} {
		r := fileRecord(t, recs, p, "")
		if r["state"] != "skipped" || !strings.Contains(r["reason"].(string), "not descended") {
			t.Errorf("%s: %v", p, r)
		}
	}
	for _, r := range recs {
		if p, _ := r["path"].(string); strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/sys/") {
			t.Fatalf("walked into %s", p)
		}
	}
}

// Issue 16, finding 4: a scan that could not read a directory or a file must
// not exit 0. Root reads mode 000, so the scan runs as nobody when the test
// runs as root.
func TestScanFilesUnreadableExits3(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // nobody must reach the binary and the tree
	os.Chmod(dir, 0o755)
	os.MkdirAll(filepath.Join(dir, "tree", "sealed"), 0o755)
	os.WriteFile(filepath.Join(dir, "tree", "sealed", "ids.csv"), []byte("11010519491231002X\n"), 0o644)
	os.Chmod(filepath.Join(dir, "tree", "sealed"), 0)
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "tree", "sealed"), 0o755) })
	out, stderr, code := atrestUnprivileged(t, dir, "scan", "files", "--format", "jsonl", filepath.Join(dir, "tree"))
	if code != exitPartial {
		t.Fatalf("exit %d, want %d: %s %s", code, exitPartial, out, stderr)
	}
	recs := jsonRecords(t, out)
	r := fileRecord(t, recs, filepath.Join(dir, "tree", "sealed"), "")
	if r["state"] != "error" || r["not_read"] != "read error" {
		t.Errorf("sealed dir: %v", r)
	}
	sum := summaryRecord(t, recs)
	if nr, _ := sum["not_read"].(map[string]any); nr["read error"] != 1.0 || sum["errors"] != 1.0 {
		t.Errorf("summary %v", sum)
	}
	if !strings.Contains(stderr, "not read: 1 read error") {
		t.Errorf("stderr %q does not say what was not read", stderr)
	}
}

// atrestUnprivileged runs atrest as nobody when the test runs as root (a copy
// of the test binary in a directory nobody can read), else in-process.
func atrestUnprivileged(t *testing.T, base string, args ...string) (string, string, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		return atrest(t, args...)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "atrest")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(base, "home")
	os.MkdirAll(home, 0o777)
	os.Chmod(home, 0o777)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"ATREST_TEST_AS_MAIN=1", "XDG_CONFIG_HOME=" + home, "HOME=" + home, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// Issue 19, item 7: documents that could hold text and were not read make
// the run exit 3 and are counted by class; a tree of photos exits 0.
func TestScanFilesNotReadExits3AndPhotosDoNot(t *testing.T) {
	dir := t.TempDir()
	photos := filepath.Join(dir, "photos")
	os.MkdirAll(photos, 0o755)
	os.WriteFile(filepath.Join(photos, "a.png"), append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0, 1, 2, 3}, 300)...), 0o644)
	os.WriteFile(filepath.Join(photos, "b.jpg"), append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{9, 8, 7}, 300)...), 0o644)
	if out, stderr, code := atrest(t, "scan", "files", "--format", "jsonl", photos); code != exitOK {
		t.Fatalf("photos: exit %d: %s %s", code, out, stderr)
	}

	deep := filepath.Join(dir, "deep")
	os.MkdirAll(deep, 0o755)
	inner := zipOf(t, "ids.csv", []byte("11010519491231002X\n"))
	os.WriteFile(filepath.Join(deep, "outer.zip"), zipOf(t, "inner.zip", inner), 0o644)
	out, stderr, code := atrest(t, "scan", "files", "--format", "jsonl", "--max-depth", "1", deep)
	if code != exitPartial {
		t.Fatalf("nested too deep: exit %d, want %d: %s %s", code, exitPartial, out, stderr)
	}
	sum := summaryRecord(t, jsonRecords(t, out))
	if nr, _ := sum["not_read"].(map[string]any); nr["nested too deep"] != 1.0 {
		t.Errorf("summary %v", sum)
	}
	if !strings.Contains(stderr, "1 nested too deep") {
		t.Errorf("stderr %q", stderr)
	}
}

func zipOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	zw.Close()
	return buf.Bytes()
}

// TestScanFilesFormats is issue 19's acceptance check on files written by
// the real producers (testdata/formats, made by scripts/make-fixtures.sh):
// per format and identifier type, recall >= 98% and no over-count; every
// password-protected file encrypted; the image-only PDF counted as not read;
// the SQLite columns judged as scan db would.
func TestScanFilesFormats(t *testing.T) {
	dir := filepath.Join(filepath.Dir(corpusDir(t)), "formats")
	out, stderr, code := atrest(t, "scan", "files", "--format", "jsonl", dir)
	if code != exitFound {
		t.Fatalf("exit %d, want %d: %s", code, exitFound, stderr)
	}
	labels, err := eval.ReadFileLabels(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := eval.ScoreFiles(labels, dir, out)
	if len(res.StatesWrong) > 0 || res.Leaks > 0 || res.BadLines > 0 {
		t.Errorf("states wrong: %v, leaks %d, bad lines %d", res.StatesWrong, res.Leaks, res.BadLines)
	}

	// Per format: the fixture's directory is its format.
	type key struct{ format, typ string }
	want, got := map[key]int{}, map[key]int{}
	recs := jsonRecords(t, out)
	for _, f := range labels.Files {
		want[key{strings.SplitN(f.Path, "/", 2)[0], f.Type}] += f.Count
	}
	lines := map[string]map[float64]int{} // path → line → findings, for the spreadsheets
	for _, r := range recs {
		if r["record"] != "finding" {
			continue
		}
		rel, _ := filepath.Rel(dir, r["path"].(string))
		got[key{strings.SplitN(filepath.ToSlash(rel), "/", 2)[0], r["type"].(string)}]++
		if lines[rel] == nil {
			lines[rel] = map[float64]int{}
		}
		lines[rel][r["line"].(float64)]++
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-7s", "format")
	for _, typ := range eval.CoreTypes {
		fmt.Fprintf(&table, " %16s", typ)
	}
	table.WriteString("   (found/planted)\n")
	formats := map[string]bool{}
	for k := range want {
		formats[k.format] = true
	}
	for _, f := range slices.Sorted(maps.Keys(formats)) {
		fmt.Fprintf(&table, "%-7s", f)
		for _, typ := range eval.CoreTypes {
			k := key{f, typ}
			fmt.Fprintf(&table, " %9d/%-6d", got[k], want[k])
			if float64(min(got[k], want[k])) < 0.98*float64(want[k]) || got[k] > want[k] {
				t.Errorf("%s %s: found %d of %d planted", f, typ, got[k], want[k])
			}
		}
		table.WriteString("\n")
	}
	t.Logf("per-format recall:\n%s", table.String())

	// A spreadsheet line is a row: rows 2..21 hold one person each, five
	// identifiers, the numbers once (.ods counted them twice, all on line 2).
	for _, p := range []string{"ods/people.ods", "xls/people.xls", "dbf/people.dbf"} {
		for row := 2; row <= 21; row++ {
			line := float64(row)
			if p == "dbf/people.dbf" {
				line-- // a dBase table has no header row
			}
			if lines[p][line] != 5 {
				t.Errorf("%s line %v: %d findings, want 5 (lines %v)", p, line, lines[p][line], lines[p])
			}
		}
	}
	scan := fileRecord(t, recs, filepath.Join(dir, "pdf", "people-scan.pdf"), "")
	if scan["not_read"] != "pdf image-only" || !strings.Contains(scan["reason"].(string), "not OCRed") {
		t.Errorf("image-only pdf: %v", scan)
	}
	cols := map[string]string{}
	for _, r := range recs {
		if r["record"] == "column" {
			cols[r["table"].(string)+"."+r["column"].(string)] = r["state"].(string) + "/" + fmt.Sprint(r["type"])
		}
	}
	for c, v := range map[string]string{"cb_ryxx.zjhm": "plaintext/cn_resident_id", "cb_ryxx.sjhm": "plaintext/cn_mobile",
		"cb_ryxx.yhkh": "plaintext/bank_card", "cb_ryxx.email": "plaintext/email", "cb_ryxx.dwdm": "plaintext/cn_uscc",
		"js_jsmx.lsh": "none/", "cb_ryxx.xm": "none/"} {
		if cols[c] != v {
			t.Errorf("sqlite column %s: %q, want %q", c, cols[c], v)
		}
	}
	if !strings.Contains(stderr, "5 database columns in plaintext") || !strings.Contains(stderr, "1 pdf image-only") {
		t.Errorf("stderr %q", stderr)
	}
}

// Issue 19's side findings: a Message-ID is not an e-mail address, a MIME
// boundary holding a card-shaped number is not a bank card, and a base64
// body is read (it was a false clean).
func TestScanFilesMailHeadersAndBoundaries(t *testing.T) {
	dir := t.TempDir()
	body := base64.StdEncoding.EncodeToString([]byte("参保人身份证号 11010519491231002X\r\n"))
	mail := "From: <ybk@hospital.org.cn>\r\nTo: <jsk@ybj.gov.cn>\r\nSubject: test\r\n" +
		"Message-ID: <20261206153012.6222020200112233446@mail.hospital.org.cn>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"----=_Part_6222020200112233446_1733480000000\"\r\n\r\n" +
		"------=_Part_6222020200112233446_1733480000000\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		body + "\r\n------=_Part_6222020200112233446_1733480000000--\r\n"
	os.WriteFile(filepath.Join(dir, "m.eml"), []byte(mail), 0o644)
	out, stderr, code := atrest(t, "scan", "files", "--format", "jsonl", dir)
	if code != exitFound {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sum := summaryRecord(t, jsonRecords(t, out))
	byType, _ := sum["by_type"].(map[string]any)
	if byType["cn_resident_id"] != 1.0 || byType["bank_card"] != nil || byType["email"] != 2.0 {
		t.Errorf("by type %v: want the ID in the body, the From and To addresses, and nothing from the Message-ID or boundary", byType)
	}
}

// --only plaintext prints only what is wrong; the summary still counts all.
func TestScanOnlyPlaintext(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.csv"), []byte("手机 13812345678\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "clean.txt"), []byte("nothing\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "x.age"), []byte("age-encryption.org/v1\n-> X25519 abc\n"), 0o644)
	out, _, code := atrest(t, "scan", "files", "--format", "jsonl", "--only", "plaintext", dir)
	if code != exitFound || strings.Contains(out, "x.age") || !strings.Contains(out, `"record":"finding"`) || !strings.Contains(out, `"files":3`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if _, stderr, code := atrest(t, "scan", "files", "--only", "masked", dir); code != exitCantRun || !strings.Contains(stderr, "--only") {
		t.Fatalf("--only masked: exit %d %s", code, stderr)
	}
}
