package detect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// corpusDir is the labeled corpus in testdata (detect is a leaf and does not
// import internal/eval to find it).
func corpusDir(t testing.TB) string {
	dir := filepath.Join("..", "..", "testdata", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "labels.json")); err != nil {
		t.Fatalf("labeled corpus not found at %s: %v", dir, err)
	}
	return dir
}

type lineKey struct {
	path string
	line int
	typ  Type
}

// TestCorpusPlainText runs every plain-text file of the corpus (logs/*.log,
// exports/d-insured.csv and, decoded, the GB18030 exports/d-gbk-export.csv)
// through Find line by line and compares the count of
// each type on each line with labels.json, like the scorer does.
func TestCorpusPlainText(t *testing.T) {
	dir := corpusDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var labels struct {
		Lines []struct {
			Path string `json:"path"`
			Line int    `json:"line"`
			Type Type   `json:"type"`
		} `json:"lines"`
	}
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "files", "logs", "*.log"))
	files = append(files, filepath.Join(dir, "files", "exports", "d-insured.csv"),
		filepath.Join(dir, "files", "exports", "d-gbk-export.csv"))
	want, got := map[lineKey]int{}, map[lineKey]int{}
	scanned := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join(dir, "files"), f)
		rel = filepath.ToSlash(rel)
		scanned[rel] = true
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(rel, "gbk") {
			// Excel on Chinese Windows writes GB18030; the file source
			// transcodes it before the detectors see it.
			if data, err = simplifiedchinese.GB18030.NewDecoder().Bytes(data); err != nil {
				t.Fatal(err)
			}
		}
		for i, ln := range bytes.Split(data, []byte("\n")) {
			for _, m := range Find(ln) {
				got[lineKey{rel, i + 1, m.Type}]++
			}
		}
	}
	for _, l := range labels.Lines {
		if scanned[l.Path] {
			want[lineKey{l.Path, l.Line, l.Type}]++
		}
	}
	if len(want) == 0 {
		t.Fatal("no labels for the plain-text files")
	}
	type score struct{ tp, fp, fn int }
	per := map[Type]*score{}
	var misses []string
	keys := map[lineKey]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for k := range keys {
		sc := per[k.typ]
		if sc == nil {
			sc = &score{}
			per[k.typ] = sc
		}
		w, g := want[k], got[k]
		sc.tp += min(w, g)
		if g > w {
			sc.fp += g - w
			misses = append(misses, "fp "+k.path+":"+itoa(k.line)+" "+string(k.typ))
		}
		if w > g {
			sc.fn += w - g
			misses = append(misses, "fn "+k.path+":"+itoa(k.line)+" "+string(k.typ))
		}
	}
	sort.Strings(misses)
	for _, m := range misses {
		t.Log(m)
	}
	for _, typ := range Types {
		sc := per[typ]
		if sc == nil {
			continue
		}
		p := float64(sc.tp) / float64(max(1, sc.tp+sc.fp))
		r := float64(sc.tp) / float64(max(1, sc.tp+sc.fn))
		t.Logf("%-15s tp %4d fp %3d fn %3d precision %.4f recall %.4f", typ, sc.tp, sc.fp, sc.fn, p, r)
		if p < 0.99 || r < 0.98 {
			t.Errorf("%s below the scorer's thresholds (precision ≥ 0.99, recall ≥ 0.98)", typ)
		}
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
