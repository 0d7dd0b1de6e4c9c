package drill_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/backup/drill"
)

// A canary probe passes while the row is the one hashed, and a canary row
// changed in the source before the backup fails the drill as "canary …
// changed", saying nothing of the value: not the value, not its hash, not
// a prefix of either.
func TestDrillCanary(t *testing.T) {
	f := newFixture(t, "yb-canary")
	const q = "SELECT CONCAT_WS('|', psn_name, certno) FROM cb_ryxx WHERE id = 1"
	var value string
	if err := f.src.Open(t, f.database).QueryRow(q).Scan(&value); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(value))
	o := f.opts()
	o.Probes = []drill.Probe{{Name: "row1", SQL: q, ExpectSHA256: hex.EncodeToString(sum[:])}}
	rec, err := drill.Run(ctxT(t), o)
	if err != nil || len(rec.Probes) != 1 || !rec.Probes[0].Canary || rec.Probes[0].Status != drill.StatusPass {
		t.Fatalf("unchanged canary: %v %+v", err, rec.Probes)
	}

	// The source changes; the next backup holds the changed row.
	changed := "张三1|110101199003071234"
	f.src.Exec(t, "UPDATE `"+f.database+"`.cb_ryxx SET certno = '110101199003071234' WHERE id = 1")
	f.backup(t, time.Now().Add(2*time.Second))
	rec, err = drill.Run(ctxT(t), o)
	fl := wantFailure(t, rec, err, drill.FailProbe)
	if !strings.Contains(fl.Detail, "canary row1 changed") {
		t.Errorf("detail %q lacks \"canary row1 changed\"", fl.Detail)
	}
	got := sha256.Sum256([]byte(changed))
	js, _ := json.Marshal(rec)
	for _, secret := range []string{changed, "110101199003071234", hex.EncodeToString(got[:]), hex.EncodeToString(got[:4]), hex.EncodeToString(got[:])[:6]} {
		if strings.Contains(string(js), secret) || strings.Contains(err.Error(), secret) {
			t.Errorf("the record or the error carries %q", secret)
		}
	}
}

// A subset drill loads and verifies only the tables named (bare or
// db.table), lists the others as not_run, never as matched, and leaves the
// views, triggers and routines out; a name that is no table of the backup
// means the drill could not run, naming it.
func TestDrillSubset(t *testing.T) {
	f := newFixture(t, "yb-subset")
	probe := []drill.Probe{{Name: "people", SQL: "SELECT COUNT(*) = 3000 FROM cb_ryxx"}}
	t.Run("tables", func(t *testing.T) {
		o := f.opts()
		o.Tables, o.Probes, o.Keep = []string{"cb_ryxx"}, probe, true
		rec, err := drill.Run(ctxT(t), o)
		if err != nil {
			t.Fatalf("%v; %+v", err, rec)
		}
		t.Cleanup(func() {
			for _, s := range rec.Scratch {
				f.target.Exec(t, "DROP DATABASE IF EXISTS `"+s+"`")
			}
		})
		checks := map[string]string{}
		for _, tb := range rec.Tables {
			checks[tb.Name] = tb.Check
			if tb.Check == "not_run" && tb.DigestMatch != nil {
				t.Errorf("not_run table %s has a digest verdict", tb.Name)
			}
		}
		if !rec.Subset || rec.TablesNotRun != 3 || rec.TablesMatched != 1 || checks["cb_ryxx"] != "match" ||
			checks["js_jsmx"] != "not_run" || checks["empty_t"] != "not_run" || checks["audit_n"] != "not_run" || rec.Rows != 3000 {
			t.Errorf("subset %v, not run %d, matched %d, checks %v, rows %d", rec.Subset, rec.TablesNotRun, rec.TablesMatched, checks, rec.Rows)
		}
		// Only the chosen table (and the marker) is on the drill server.
		var n int
		f.target.Open(t, "").QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> '_atrest_drill'", rec.Scratch[0]).Scan(&n)
		var trig int
		f.target.Open(t, "").QueryRow("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?", rec.Scratch[0]).Scan(&trig)
		if n != 1 || trig != 0 {
			t.Errorf("scratch holds %d tables and views, %d triggers; want cb_ryxx alone", n, trig)
		}
		// The fixture's trigger and view were not loaded: not run, never
		// missing (which would fail the drill) and never counted as checked.
		if rec.SchemaObjectsNotRun == 0 {
			t.Errorf("schema objects: %d checked, %d not run; want the trigger and view not run", rec.SchemaObjectsChecked, rec.SchemaObjectsNotRun)
		}
		t.Logf("notes: %q", rec.Notes)
	})
	t.Run("exclude_tables", func(t *testing.T) {
		o := f.opts()
		o.ExcludeTables, o.Probes = []string{f.database + ".js_jsmx"}, probe
		rec, err := drill.Run(ctxT(t), o)
		if err != nil {
			t.Fatalf("%v; %+v", err, rec)
		}
		if rec.TablesNotRun != 1 || rec.TablesMatched != 3 || !rec.Subset {
			t.Errorf("not run %d, matched %d", rec.TablesNotRun, rec.TablesMatched)
		}
	})
	t.Run("no such table", func(t *testing.T) {
		o := f.opts()
		o.Tables = []string{"cb_ryxx", "cb_ryxy"}
		rec, err := drill.Run(ctxT(t), o)
		var fl *drill.Failure
		if err == nil || errors.As(err, &fl) || rec.Status != drill.StatusError || !strings.Contains(err.Error(), `"cb_ryxy" names no table`) {
			t.Fatalf("err %v, status %s: want could not run naming cb_ryxy", err, rec.Status)
		}
		if rec.Target != "" {
			t.Errorf("the drill server was reached: %s", rec.Target)
		}
	})
}

// Targets: a drill that restored and verified keeps its pass and says
// whether it met its RTO and RPO, with the figures.
func TestDrillTargets(t *testing.T) {
	f := newFixture(t, "yb-targets")
	o := f.opts()
	o.RTOTarget, o.RPOTarget = time.Nanosecond, 26*time.Hour
	// The drill runs as if 30 hours after the backup: its RPO misses 26h.
	o.Now = func() time.Time { return time.Now().Add(30 * time.Hour) }
	rec, err := drill.Run(ctxT(t), o)
	if err != nil || rec.Status != drill.StatusPass {
		t.Fatalf("%v %s", err, rec.Status)
	}
	if rec.RTO != drill.TargetMissed || rec.RPO != drill.TargetMissed || rec.RTOTargetSeconds != 1e-9 || rec.RPOTargetSeconds != 26*3600 || len(rec.Missed()) != 2 {
		t.Errorf("rto %s/%v rpo %s/%v missed %q", rec.RTO, rec.RTOTargetSeconds, rec.RPO, rec.RPOTargetSeconds, rec.Missed())
	}
	t.Logf("missed: %q", rec.Missed())
	o = f.opts()
	o.RTOTarget, o.RPOTarget = 24*time.Hour, 26*time.Hour
	rec, err = drill.Run(ctxT(t), o)
	if err != nil || rec.RTO != drill.TargetMet || rec.RPO != drill.TargetMet || len(rec.Missed()) != 0 {
		t.Errorf("%v: rto %s rpo %s", err, rec.RTO, rec.RPO)
	}
}
