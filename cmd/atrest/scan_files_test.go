package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/atrest/atrest/internal/gen"
)

// --findings summary lists a few findings of each type per file and counts
// them all; --findings all (the default in a pipe) lists every one, and the
// records are the same SPEC §3 records either way.
func TestFindingsSummary(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 5; i++ {
		b.WriteString("手机 1381234567" + string(rune('0'+i)) + "\n")
	}
	b.WriteString("身份证号:11010519491231002X\n身份证号:11010519491231002X\n")
	os.WriteFile(filepath.Join(dir, "a.log"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "b.log"), []byte("手机 13912345678\n"), 0o644)

	type rec struct {
		Record   string         `json:"record"`
		Path     string         `json:"path"`
		Type     string         `json:"type"`
		Masked   string         `json:"masked"`
		Findings int            `json:"findings"`
		Listed   int            `json:"findings_listed"`
		ByType   map[string]int `json:"by_type"`
	}
	scan := func(args ...string) (listed map[string]int, files map[string]rec, sum rec) {
		t.Helper()
		out, stderr, code := atrest(t, append(append([]string{"scan", "files", "--format", "jsonl", "--workers", "1"}, args...), dir)...)
		if code != exitFound {
			t.Fatalf("%v: exit %d (%s)", args, code, stderr)
		}
		listed, files = map[string]int{}, map[string]rec{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r rec
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%v: %q: %v", args, line, err)
			}
			switch r.Record {
			case "finding":
				if r.Masked == "" {
					t.Errorf("%v: finding without a mask: %s", args, line)
				}
				listed[filepath.Base(r.Path)+" "+r.Type]++
			case "file":
				files[filepath.Base(r.Path)] = r
			case "summary":
				sum = r
			}
		}
		return listed, files, sum
	}

	listed, files, sum := scan("--findings", "summary", "--examples", "2")
	want := map[string]int{"a.log cn_mobile": 2, "a.log cn_resident_id": 2, "b.log cn_mobile": 1}
	if len(listed) != len(want) {
		t.Errorf("summary lists %v, want %v", listed, want)
	}
	for k, n := range want {
		if listed[k] != n {
			t.Errorf("summary lists %v, want %v", listed, want)
		}
	}
	if a := files["a.log"]; a.Findings != 7 || a.ByType["cn_mobile"] != 5 || a.ByType["cn_resident_id"] != 2 {
		t.Errorf("a.log record: %+v", a)
	}
	if sum.Findings != 8 || sum.Listed != 5 {
		t.Errorf("summary record: findings %d, listed %d; want 8 and 5", sum.Findings, sum.Listed)
	}

	listed, files, sum = scan()
	if listed["a.log cn_mobile"] != 5 || listed["a.log cn_resident_id"] != 2 || sum.Listed != 8 || files["b.log"].ByType["cn_mobile"] != 1 {
		t.Errorf("all: listed %v, summary %+v, b.log %+v", listed, sum, files["b.log"])
	}

	for _, args := range [][]string{{"--findings", "some"}, {"--findings", "summary", "--examples", "0"}} {
		_, stderr, code := atrest(t, append(append([]string{"scan", "files"}, args...), dir)...)
		if code != exitCantRun || !strings.Contains(stderr, args[len(args)-2]) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// The examples --findings summary lists are the first of each type in the
// file, each exactly as --findings all prints it (mask and fingerprint
// included), whatever the chunking and the workers: a file of several
// chunks, scanned on two workers, whose values are lent from the chunk
// buffers until they are emitted.
func TestFindingsSummaryExamplesAsAll(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	g := gen.New(7)
	for i := 0; b.Len() < 3<<20; i++ {
		b.WriteString(g.LogLine(i) + "\n")
	}
	os.WriteFile(filepath.Join(dir, "dense.log"), []byte(b.String()), 0o644)
	findings := func(args ...string) []string {
		t.Helper()
		out, stderr, code := atrest(t, append(append([]string{"scan", "files", "--format", "jsonl", "--workers", "2"}, args...), dir)...)
		if code != exitFound {
			t.Fatalf("%v: exit %d (%s)", args, code, stderr)
		}
		var fs []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.HasPrefix(line, `{"record":"finding"`) {
				fs = append(fs, line)
			}
		}
		return fs
	}
	all := findings()
	const n = 4
	var want []string
	perType := map[string]int{}
	for _, f := range all {
		var r struct{ Type string }
		json.Unmarshal([]byte(f), &r)
		if perType[r.Type]++; perType[r.Type] <= n {
			want = append(want, f)
		}
	}
	got := findings("--findings", "summary", "--examples", strconv.Itoa(n))
	if len(all) < 10000 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("summary listed %d findings, want the first %d of each type of the %d that all lists:\n%s\nwant\n%s",
			len(got), n, len(all), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
