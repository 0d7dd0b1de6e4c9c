package dbsrc

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/detect"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const corpusDir = "../../testdata/corpus"

// scan runs Scan and returns what it emitted.
func scan(t testing.TB, opts Options) ([]any, error) {
	t.Helper()
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Engine == nil {
		opts.Engine = mysql.Engine{}
	}
	var recs []any
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := Scan(ctx, opts, func(r any) { recs = append(recs, r) })
	return recs, err
}

func columns(recs []any) map[string]*ColumnVerdict {
	out := map[string]*ColumnVerdict{}
	for _, r := range recs {
		if c, ok := r.(*ColumnVerdict); ok {
			out[c.Database+"."+c.Table+"."+c.Column] = c
		}
	}
	return out
}

func tablesOf(recs []any) map[string]*TableRecord {
	out := map[string]*TableRecord{}
	for _, r := range recs {
		if c, ok := r.(*TableRecord); ok {
			out[c.Database+"."+c.Table] = c
		}
	}
	return out
}

func jsonl(t testing.TB, recs []any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

var leakRE = regexp.MustCompile(`[0-9A-Za-z]{11,19}|[0-9]{17}[0-9Xx]`)

// assertNoLeak fails when a valid identifier appears in out (SPEC §2).
func assertNoLeak(t testing.TB, out []byte) {
	t.Helper()
	for _, m := range leakRE.FindAll(out, -1) {
		s := string(m)
		if detect.ValidResidentID(s) || detect.ValidMobile(s) || detect.ValidCard(s) || (len(s) == 18 && detect.ValidUSCC(s)) {
			t.Errorf("raw identifier in output: %s", crypto.Mask(s))
		}
	}
}

type label struct {
	Database, Table, Column, Type, State string
}

// TestCorpus scans the labeled database and applies eval_db.py's rules:
// every labeled column has its state (and type, for plaintext and masked);
// no unlabeled column is plaintext with a core type; nothing leaks.
func TestCorpus(t *testing.T) {
	db := testenv.MariaDB(t)
	db.Load(t, filepath.Join(corpusDir, "db.sql"))
	raw, err := os.ReadFile(filepath.Join(corpusDir, "db-labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var labels []label
	if err := json.Unmarshal(raw, &labels); err != nil {
		t.Fatal(err)
	}
	recs, err := scan(t, Options{DSN: crypto.NewSecret(db.DSN), Databases: []string{"atrest_dev"},
		Fingerprint: crypto.NewFingerprinter([]byte("0123456789abcdef0123456789abcdef"))})
	if err != nil {
		t.Fatal(err)
	}
	got := columns(recs)
	want := map[string]bool{}
	right := 0
	for _, l := range labels {
		k := l.Database + "." + l.Table + "." + l.Column
		want[k] = true
		g := got[k]
		if g == nil {
			t.Errorf("%s: no verdict, want %s/%s", k, l.State, l.Type)
			continue
		}
		if g.State != l.State || ((l.State == StatePlaintext || l.State == StateMasked) && string(g.Type) != l.Type) {
			t.Errorf("%s: got %s/%s (%s), want %s/%s", k, g.State, g.Type, g.Reason, l.State, l.Type)
			continue
		}
		right++
	}
	core := map[detect.Type]bool{detect.ResidentID: true, detect.Mobile: true, detect.BankCard: true, detect.USCC: true, detect.Email: true}
	alarms := 0
	for k, g := range got {
		if !want[k] && g.State == StatePlaintext && core[g.Type] {
			alarms++
			t.Errorf("%s: false alarm %s/%s (%s)", k, g.State, g.Type, g.Reason)
		}
	}
	t.Logf("corpus: %d/%d labeled columns right, %d false plaintext alarms", right, len(labels), alarms)
	for _, tb := range tablesOf(recs) {
		// Every corpus table but medical_org (150 rows) has 3000 rows.
		if want := min(1000, int(tb.RowsEstimate)); tb.Sampled < want*9/10 || tb.Sampled > 1000 || tb.Error != "" {
			t.Errorf("%s: sampled %d rows (estimate %d): %s", tb.Table, tb.Sampled, tb.RowsEstimate, tb.Error)
		}
	}
	out := jsonl(t, recs)
	assertNoLeak(t, out)

	if testing.Verbose() {
		t.Logf("output:\n%s", out)
	}
}
