// Package eval scores scanner output against the labeled development corpus
// in testdata/corpus: per-type precision and recall for file scans, column
// verdicts for database scans, and raw identifiers leaked into the output.
// Tests use it as their acceptance check and `make eval` prints its tables.
// It reads jsonl records only, never the scanner's internals.
package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Thresholds of the file scorer, per core type.
const (
	MinPrecision = 0.99
	MinRecall    = 0.98
)

// CoreTypes are the SPEC's types that the scorers hold to the thresholds.
var CoreTypes = []string{"cn_resident_id", "cn_mobile", "bank_card", "cn_uscc", "email"}

func isCore(t string) bool {
	for _, c := range CoreTypes {
		if c == t {
			return true
		}
	}
	return false
}

// FileLabels is labels.json.
type FileLabels struct {
	Lines []struct {
		Path string `json:"path"`
		Line int    `json:"line"`
		Type string `json:"type"`
	} `json:"lines"`
	Files []struct {
		Path  string `json:"path"`
		Type  string `json:"type"`
		Count int    `json:"count"`
	} `json:"files"`
	States map[string]string `json:"states"`
}

// TypeScore is one row of the file scorer's table.
type TypeScore struct {
	Type                 string
	TP, FP, FN           int
	Precision, Recall    float64
	HeldToThresholds, OK bool
}

// FileResult is the file scorer's verdict.
type FileResult struct {
	Types       []TypeScore
	StatesWrong []string
	Leaks       int
	BadLines    int
	Precision   float64
	Recall      float64
	Labeled     int
}

// OK says whether every threshold holds.
func (r FileResult) OK() bool {
	for _, t := range r.Types {
		if !t.OK {
			return false
		}
	}
	return len(r.StatesWrong) == 0 && r.Leaks == 0 && r.BadLines == 0
}

// String is the scorer's table and one-line verdict.
func (r FileResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %7s %7s %7s %9s %7s\n", "type", "tp", "fp", "fn", "precision", "recall")
	for _, t := range r.Types {
		fmt.Fprintf(&b, "%-16s %7d %7d %7d %9.4f %7.4f\n", t.Type, t.TP, t.FP, t.FN, t.Precision, t.Recall)
	}
	fmt.Fprintf(&b, "file states wrong: %s\n", orNone(r.StatesWrong))
	fmt.Fprintf(&b, "raw identifiers leaked into the output: %d\n", r.Leaks)
	if r.BadLines > 0 {
		fmt.Fprintf(&b, "lines that are not JSON: %d\n", r.BadLines)
	}
	fmt.Fprintf(&b, "%s: precision %.4f recall %.4f over %d labeled identifiers, %d states wrong, %d leaks",
		verdict(r.OK()), r.Precision, r.Recall, r.Labeled, len(r.StatesWrong), r.Leaks)
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ReadFileLabels reads a labels.json.
func ReadFileLabels(path string) (FileLabels, error) {
	var l FileLabels
	raw, err := os.ReadFile(path)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return l, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// relPath is p relative to the scanned root, with forward slashes.
func relPath(root, p string) string {
	p, root = filepath.Clean(p), filepath.Clean(root)
	if strings.HasPrefix(p, root+string(filepath.Separator)) {
		p = p[len(root)+1:]
	}
	return filepath.ToSlash(p)
}

// record is the part of a jsonl record the scorers read.
type record struct {
	Record   string `json:"record"`
	Path     string `json:"path"`
	Line     *int   `json:"line"`
	Type     string `json:"type"`
	State    string `json:"state"`
	Database string `json:"database"`
	Table    string `json:"table"`
	Column   string `json:"column"`
}

func eachRecord(out string, fn func(record)) (bad int) {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		ln := strings.TrimSpace(sc.Text())
		if ln == "" {
			continue
		}
		var r record
		if err := json.Unmarshal([]byte(ln), &r); err != nil {
			bad++
			continue
		}
		fn(r)
	}
	return bad
}

// ScoreFiles scores the jsonl output of `scan files ROOT` against labels:
// findings in plain files by (path, line, type), findings in containers by
// (path, type) counts, and file states.
func ScoreFiles(labels FileLabels, root, out string) FileResult {
	type lineKey struct {
		path string
		line int
		typ  string
	}
	type fileKey struct{ path, typ string }
	containers := map[string]bool{}
	for _, f := range labels.Files {
		containers[f.Path] = true
	}
	for p := range labels.States {
		containers[p] = true
	}
	wantLine, gotLine := map[lineKey]int{}, map[lineKey]int{}
	wantFile, gotFile := map[fileKey]int{}, map[fileKey]int{}
	for _, x := range labels.Lines {
		wantLine[lineKey{x.Path, x.Line, x.Type}]++
	}
	for _, x := range labels.Files {
		wantFile[fileKey{x.Path, x.Type}] += x.Count
	}
	states := map[string]string{}
	var res FileResult
	res.BadLines = eachRecord(out, func(r record) {
		switch r.Record {
		case "file":
			states[relPath(root, r.Path)] = r.State
		case "finding":
			p := relPath(root, r.Path)
			if containers[p] {
				gotFile[fileKey{p, r.Type}]++
				return
			}
			line := -1
			if r.Line != nil {
				line = *r.Line
			}
			gotLine[lineKey{p, line, r.Type}]++
		}
	})
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	count := func(typ string, want, got int) {
		tp[typ] += min(want, got)
		fp[typ] += max(0, got-want)
		fn[typ] += max(0, want-got)
	}
	for k := range union(wantLine, gotLine) {
		count(k.typ, wantLine[k], gotLine[k])
	}
	for k := range union(wantFile, gotFile) {
		count(k.typ, wantFile[k], gotFile[k])
	}
	types := map[string]bool{}
	for _, m := range []map[string]int{tp, fp, fn} {
		for t := range m {
			types[t] = true
		}
	}
	var T, F, N int
	for _, t := range sortedKeys(types) {
		s := TypeScore{Type: t, TP: tp[t], FP: fp[t], FN: fn[t],
			Precision: ratio(tp[t], tp[t]+fp[t]), Recall: ratio(tp[t], tp[t]+fn[t]), HeldToThresholds: isCore(t)}
		s.OK = !s.HeldToThresholds || (s.Precision >= MinPrecision && s.Recall >= MinRecall)
		res.Types = append(res.Types, s)
		if isCore(t) {
			T, F, N = T+tp[t], F+fp[t], N+fn[t]
		}
	}
	res.Precision, res.Recall, res.Labeled = ratio(T, T+F), ratio(T, T+N), T+N
	for _, p := range sortedKeys(labels.States) {
		want, got := labels.States[p], states[p]
		// A binary file may be skipped unread: neither hides an identifier.
		if got != want && !(want == "binary" && got == "skipped") {
			res.StatesWrong = append(res.StatesWrong, fmt.Sprintf("%s (%s, want %s)", p, got, want))
		}
	}
	res.Leaks = len(Leaks(out))
	return res
}

func union[K comparable](a, b map[K]int) map[K]bool {
	u := make(map[K]bool, len(a)+len(b))
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ColumnLabel is one entry of db-labels.json.
type ColumnLabel struct {
	Database string `json:"database"`
	Table    string `json:"table"`
	Column   string `json:"column"`
	Type     string `json:"type"`
	State    string `json:"state"`
}

// DBResult is the database scorer's verdict.
type DBResult struct {
	Right, Labeled int
	Wrong          []string // labeled columns with another verdict
	FalseAlarms    []string // unlabeled columns reported plaintext with a core type
	Leaks          int
}

// OK says whether every labeled column is right, with no false alarm or leak.
func (r DBResult) OK() bool { return len(r.Wrong) == 0 && len(r.FalseAlarms) == 0 && r.Leaks == 0 }

func (r DBResult) String() string {
	var b strings.Builder
	for _, w := range append(append([]string{}, r.Wrong...), r.FalseAlarms...) {
		fmt.Fprintln(&b, w)
	}
	fmt.Fprintf(&b, "%s: %d/%d labeled columns right, %d false plaintext alarms, %d raw identifiers leaked",
		verdict(r.OK()), r.Right, r.Labeled, len(r.FalseAlarms), r.Leaks)
	return b.String()
}

// ReadColumnLabels reads a db-labels.json.
func ReadColumnLabels(path string) ([]ColumnLabel, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var l []ColumnLabel
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// ScoreDB scores the jsonl output of `scan db` against column labels: a
// labeled column must have its state (and type, for plaintext and masked); an
// unlabeled column of a labeled database must not be plaintext with a core type.
func ScoreDB(labels []ColumnLabel, out string) DBResult {
	key := func(db, table, column string) string { return db + "." + table + "." + column }
	got := map[string]record{}
	eachRecord(out, func(r record) {
		if r.Record == "column" {
			got[key(r.Database, r.Table, r.Column)] = r
		}
	})
	want, dbs := map[string]ColumnLabel{}, map[string]bool{}
	for _, l := range labels {
		want[key(l.Database, l.Table, l.Column)] = l
		dbs[l.Database] = true
	}
	res := DBResult{Labeled: len(want)}
	for _, k := range sortedKeys(want) {
		l, g := want[k], got[k]
		state := g.State
		if state == "" {
			state = "none"
		}
		typed := l.State == "plaintext" || l.State == "masked"
		if state == l.State && (!typed || g.Type == l.Type) {
			res.Right++
			continue
		}
		res.Wrong = append(res.Wrong, fmt.Sprintf("%s want %s/%s got %s/%s", k, l.State, l.Type, state, g.Type))
	}
	for _, k := range sortedKeys(got) {
		g := got[k]
		if _, labeled := want[k]; !labeled && dbs[g.Database] && g.State == "plaintext" && isCore(g.Type) {
			res.FalseAlarms = append(res.FalseAlarms, fmt.Sprintf("%s reported %s/%s", k, g.State, g.Type))
		}
	}
	res.Leaks = len(Leaks(out))
	return res
}

// CorpusDir finds testdata/corpus from a test's working directory (any
// package directory of this module).
func CorpusDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		c := filepath.Join(dir, "testdata", "corpus")
		if _, err := os.Stat(filepath.Join(c, "labels.json")); err == nil {
			return c, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", fmt.Errorf("no testdata/corpus/labels.json under the module root %s", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no module root above the working directory")
		}
		dir = parent
	}
}
