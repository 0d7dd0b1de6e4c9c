package drill

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/internal/output"
)

func TestMatchTable(t *testing.T) {
	one := []backup.Table{{Database: "yb", Name: "cb_ryxx"}, {Database: "yb", Name: "js_jsmx"}}
	two := append(one, backup.Table{Database: "his", Name: "cb_ryxx"}, backup.Table{Database: "his", Name: "a.b"})
	for _, tc := range []struct {
		tables []backup.Table
		name   string
		want   string // db.name,… or the error
	}{
		{one, "cb_ryxx", "yb.cb_ryxx"},
		{one, "yb.js_jsmx", "yb.js_jsmx"},
		{two, "js_jsmx", "yb.js_jsmx"},
		{two, "his.cb_ryxx", "his.cb_ryxx"},
		{two, "cb_ryxx", `"cb_ryxx" names 2 tables (his.cb_ryxx, yb.cb_ryxx): write database.table`},
		{two, "his.a.b", "his.a.b"},
		{two, "a.b", "his.a.b"},
		{one, "cb_ryxy", `"cb_ryxy" names no table`},
		{one, "his.cb_ryxx", `"his.cb_ryxx" names no table`},
	} {
		ks, err := matchTable(tc.tables, tc.name)
		var got []string
		for _, k := range ks {
			got = append(got, k.db+"."+k.name)
		}
		g := strings.Join(got, ",")
		if err != nil {
			g = err.Error()
		}
		if g != tc.want {
			t.Errorf("matchTable(%q) = %s, want %s", tc.name, g, tc.want)
		}
	}
}

func TestJudgeTargets(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       string
		rto, rpo     float64
		sel, key     string
		wantRTO, RPO string
	}{
		{"both met", StatusPass, 40, 3600, "latest", "", TargetMet, TargetMet},
		{"rto missed", StatusPass, 4000, 3600, "latest", "", TargetMissed, TargetMet},
		{"rpo missed", StatusPass, 40, 30 * 3600, "latest", "", TargetMet, TargetMissed},
		{"failed: no rto", StatusFail, 0, 30 * 3600, "latest", "", "", TargetMissed},
		{"random: rpo not judged", StatusPass, 40, 30 * 3600, "random", "", TargetMet, ""},
		{"explicit: rpo not judged", StatusPass, 40, 30 * 3600, "latest", "k", TargetMet, ""},
		{"could not run", StatusError, 0, 30 * 3600, "latest", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &drill{o: Options{RTOTarget: 30 * time.Minute, RPOTarget: 26 * time.Hour, Select: tc.sel, BackupKey: tc.key},
				rec: &Record{Status: tc.status, RTOSeconds: tc.rto, RPOSeconds: tc.rpo}, chosen: &choice{}}
			d.judgeTargets()
			if d.rec.RTO != tc.wantRTO || d.rec.RPO != tc.RPO {
				t.Fatalf("rto %q rpo %q, want %q %q (notes %q)", d.rec.RTO, d.rec.RPO, tc.wantRTO, tc.RPO, d.rec.Notes)
			}
			missed := strings.Join(d.rec.Missed(), "; ")
			if (tc.wantRTO == TargetMissed) != strings.Contains(missed, "RTO 1h6m missed the target 30m") ||
				(tc.RPO == TargetMissed) != strings.Contains(missed, "RPO 30h (the backup's age) missed the target 26h") {
				t.Errorf("Missed() = %q", missed)
			}
		})
	}
}

// The drill as JUnit: parsed back, a subset's tables left out are
// <skipped>, a changed canary and a missed target are <failure>, a drill
// that could not run is one <error>; nothing that did not run passes.
func TestJUnitCases(t *testing.T) {
	rows := int64(10)
	pass := &Record{Job: "yb", Drill: "yb-drill", Backup: "yb/x.age", Status: StatusFail, Failure: FailProbe,
		Tables:     []Table{{Name: "a", Rows: 10, ExpectedRows: &rows, Check: "match"}, {Name: "b", ExpectedRows: &rows, Check: "not_run"}},
		Probes:     []ProbeResult{{Name: "present", Status: "pass", Detail: "returned a true value"}, {Name: "row1", Status: "fail", Detail: "changed", Canary: true}},
		RTOSeconds: 0, RTOTargetSeconds: 1800, RPO: TargetMissed, RPOSeconds: 30 * 3600, RPOTargetSeconds: 26 * 3600}
	broken := &Record{Job: "his", Drill: "his-drill", Status: StatusError, Detail: "identity file: open /x: no such file or directory"}
	failed := &Record{Job: "ins", Backup: "ins/y.age", Status: StatusFail, Failure: FailIntegrity, Detail: "the object's SHA-256 differs"}
	var buf bytes.Buffer
	w, err := output.New("junit", &buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Record{pass, broken, failed} {
		w.Write(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cases, err := output.ParseJUnit(buf.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	t.Logf("%s", buf.String())
	got := map[string]string{}
	n := map[string]int{}
	for _, c := range cases {
		got[c.Suite+"/"+c.Name] = c.Status
		n[c.Status]++
	}
	want := map[string]string{
		"yb-drill/restore": "pass", "yb-drill/table a": "pass", "yb-drill/table b": "skipped",
		"yb-drill/probe present": "pass", "yb-drill/canary row1": "fail",
		"yb-drill/rto": "skipped", "yb-drill/rpo": "fail",
		"his-drill/drill": "error",
		"ins/restore":     "fail", "ins/verify": "skipped",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) || len(cases) != len(want) || n["error"] != 1 || n["fail"] != 3 || n["skipped"] != 3 {
		t.Errorf("cases %v; counts %v", got, n)
	}
}
