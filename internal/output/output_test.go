package output

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest/atrest/audit"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// records is one of each kind a scan emits, with awkward strings.
func records() []any {
	return []any{
		audit.Finding{Record: "finding", Path: "exports/名单 \"a\".csv", Line: 12, Type: "cn_resident_id",
			Masked: "110***********002X", Fingerprint: "0123abcd-0123abcd-0123abcd-0123abcd-0123abcd-0123abcd-0123abcd-0123abcd"},
		audit.Finding{Record: "finding", Path: "archive/m.zip", Member: "导出/名单.csv", Line: 3, Type: "cn_mobile",
			Masked: "138****5678", Fingerprint: "ffffffff-ffffffff-ffffffff-ffffffff-ffffffff-ffffffff-ffffffff-ffffffff"},
		audit.FileRecord{Record: "file", Path: "backup/x.age", State: "encrypted", Reason: "age v1 header", Size: 4264},
		audit.FileRecord{Record: "file", Path: "logs/a.log", State: "scanned", Size: 100, Findings: 2,
			ByType: map[string]int{"cn_mobile": 1, "cn_resident_id": 1}},
		audit.FileRecord{Record: "file", Path: "logs/b.log", State: "scanned", Size: 10},
		map[string]any{"record": "summary", "files": 3, "findings": 2, "by_type": map[string]int{"cn_mobile": 1, "cn_resident_id": 1}},
	}
}

func TestGoldenFormats(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := New(format, &buf)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range records() {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if format != "table" {
				checkJSON(t, format, buf.Bytes())
			}
			golden := filepath.Join("testdata", format+".golden")
			if *update {
				os.WriteFile(golden, buf.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/output -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output differs from %s:\n%s", format, golden, buf.Bytes())
			}
		})
	}
}

// checkJSON makes sure every format meant for machines parses.
func checkJSON(t *testing.T, format string, b []byte) {
	t.Helper()
	switch format {
	case "jsonl":
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			if !json.Valid(line) {
				t.Errorf("jsonl line is not JSON: %s", line)
			}
		}
	default:
		if !json.Valid(b) {
			t.Errorf("%s output is not one JSON document", format)
		}
	}
}

func TestEmptyDocumentsAreValid(t *testing.T) {
	for _, format := range []string{"json", "sarif"} {
		var buf bytes.Buffer
		w, _ := New(format, &buf)
		w.Close()
		if !json.Valid(buf.Bytes()) {
			t.Errorf("empty %s output is not JSON: %s", format, buf.Bytes())
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := New("xml", &bytes.Buffer{}); err == nil {
		t.Fatal("format xml accepted")
	}
}

func TestTableColumnsWorstFirstAndServerAsList(t *testing.T) {
	var buf bytes.Buffer
	w, _ := New("table", &buf)
	w.Write(map[string]any{"record": "server", "address": "db1:3306", "version": "10.11", "severity": "high", "tls": false,
		"notes": []string{"no PROCESS privilege: at-rest encryption read from the table options"}})
	for _, c := range []struct{ col, state string }{{"bz", "none"}, {"sfzh_mask", "masked"}, {"zjhm", "plaintext"}} {
		w.Write(map[string]any{"record": "column", "database": "yb", "table": "cb_ryxx", "column": c.col, "state": c.state,
			"reason": "why " + c.col})
	}
	w.Write(map[string]any{"record": "summary", "plaintext_columns": 1})
	w.Close()
	out := buf.String()
	p, m, n := strings.Index(out, "yb.cb_ryxx.zjhm"), strings.Index(out, "yb.cb_ryxx.sfzh_mask"), strings.Index(out, "yb.cb_ryxx.bz")
	if p < 0 || !(p < m && m < n) || !strings.Contains(out, "why zjhm") {
		t.Errorf("columns not worst first, or without their reasons:\n%s", out)
	}
	if !strings.Contains(out, "SERVER db1:3306  10.11  severity high") || !strings.Contains(out, "note: no PROCESS privilege") || !strings.Contains(out, "tls:") {
		t.Errorf("server block:\n%s", out)
	}
}
