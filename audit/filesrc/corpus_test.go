package filesrc

import (
	"strings"
	"testing"
)

const corpusDir = "../../testdata/corpus/files"

// TestCorpus walks the labeled corpus in testdata: the states in labels.json,
// every other file scanned, and the containers and the GB18030 export
// decoded into readable lines.
func TestCorpus(t *testing.T) {
	w := walkDir(t, corpusDir, Options{})
	want := map[string]string{
		"backup/d-roster.age":     "encrypted",
		"backup/d-export.csv.enc": "encrypted",
		"bin/d-blob.bin":          "binary",
	}
	files := 0
	for _, k := range w.order {
		rel, member, _ := strings.Cut(k, "|")
		if member != "" {
			t.Errorf("member record %s: every corpus container should scan whole", k)
			continue
		}
		files++
		r := w.recs[k]
		state, ok := want[rel]
		if !ok {
			state = "scanned"
		}
		if r.State != state {
			t.Errorf("%s: %s (%s), want %s", rel, r.State, r.Reason, state)
		}
	}
	if files < 15 {
		t.Errorf("only %d files reported", files)
	}
	if r := w.rec(t, "backup/d-roster.age", ""); r.Reason != "age v1 header" {
		t.Errorf("age reason %q", r.Reason)
	}
	if r := w.rec(t, "backup/d-export.csv.enc", ""); r.Reason != "openssl Salted__ header" {
		t.Errorf("openssl reason %q", r.Reason)
	}
	if r := w.rec(t, "bin/d-blob.bin", ""); !strings.HasPrefix(r.Reason, "high-entropy data without a known header") {
		t.Errorf("blob reason %q", r.Reason)
	}

	gbk := w.texts[key("exports/d-gbk-export.csv", "")]
	if r := w.rec(t, "exports/d-gbk-export.csv", ""); r.Encoding != "gb18030" || !strings.HasPrefix(gbk, "序号,姓名,证件号码,联系电话,开户银行卡号,备注") {
		t.Errorf("gbk export: encoding %q, starts %q", r.Encoding, gbk[:min(len(gbk), 60)])
	}

	sheet := strings.Split(w.texts[key("exports/d-roster.xlsx", "参保人员")], "\n")
	if len(sheet) < 100 || sheet[0] != "序号\t姓名\t证件号码\t联系电话\t开户银行卡号\t备注" || !strings.HasPrefix(sheet[1], "1\t") {
		t.Errorf("xlsx rows: %d lines, first %q", len(sheet), sheet[:min(len(sheet), 2)])
	}

	doc := strings.Split(w.texts[key("docs/d-case-notes.docx", "word/document.xml")], "\n")
	if len(doc) < 50 || !strings.HasPrefix(doc[0], "2026-") || !strings.Contains(doc[0], "身份证号") {
		t.Errorf("docx paragraphs: %d lines, first %q", len(doc), doc[:min(len(doc), 1)])
	}

	if csv := w.texts[key("archive/d-monthly.zip", "导出/参保人员名单.csv")]; !strings.HasPrefix(csv, "序号,姓名") {
		t.Errorf("zip member: %q…", csv[:min(len(csv), 40)])
	}
	if log := w.texts[key("logs/d-app.log.1.gz", "d-app.log.1")]; strings.Count(log, "\n") < 400 {
		t.Errorf("gz member: %d lines", strings.Count(log, "\n"))
	}
}
