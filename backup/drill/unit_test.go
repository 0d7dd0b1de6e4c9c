package drill

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScratchName(t *testing.T) {
	at := time.Date(2026, 11, 24, 5, 0, 7, 0, time.FixedZone("CST", 8*3600))
	if got := ScratchName("yb-nightly", at); got != "atrest_drill_yb_nightly_20261123210007" {
		t.Errorf("ScratchName = %s", got)
	}
	long := ScratchName(strings.Repeat("医保", 20)+"`; DROP", at)
	if len(long) > 64-6 || !strings.HasPrefix(long, ScratchPrefix) || strings.ContainsAny(long, "`; ") {
		t.Errorf("long job: %q (%d)", long, len(long))
	}
}

func TestMarker(t *testing.T) {
	run, job, ok := parseMarker(markerPrefix + "0123456789abcdef; job=yb-nightly; x")
	if !ok || run != "0123456789abcdef" || job != "yb-nightly; x" {
		t.Errorf("parseMarker = %q %q %v", run, job, ok)
	}
	for _, c := range []string{"", "atrest drill scratch; run=0123", "some table", markerPrefix + "0123456789abcdef job=x"} {
		if _, _, ok := parseMarker(c); ok {
			t.Errorf("parseMarker(%q) accepted", c)
		}
	}
}

func TestIsQuery(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT COUNT(*) > 0 FROM js_jsmx":             true,
		"  select 1":                                   true,
		"-- rows?\nSELECT 1":                           true,
		"/* c */ WITH x AS (SELECT 1) SELECT * FROM x": true,
		"# c\nselect\n1":                               true,
		"SELECTX":                                      false,
		"DROP TABLE js_jsmx":                           false,
		"-- SELECT 1":                                  false,
		"/* SELECT */ DELETE FROM js_jsmx":             false,
		"WITHOUT":                                      false,
		"INSERT INTO t SELECT 1":                       false,
		"":                                             false,
	} {
		if got := isQuery(q); got != want {
			t.Errorf("isQuery(%q) = %v", q, got)
		}
	}
}

func TestTruth(t *testing.T) {
	for v, want := range map[string]bool{"1": true, "0": false, "0.000": false, "": false, " ": false, "-0": false,
		"2": true, "abc": true, "\x00": false, "\x00\x01": true, "1e-9": true} {
		if got, _ := truth([]byte(v)); got != want {
			t.Errorf("truth(%q) = %v", v, got)
		}
	}
	if ok, d := truth(nil); ok || d != "returned NULL" {
		t.Errorf("truth(NULL) = %v %q", ok, d)
	}
}

func TestDumpLayers(t *testing.T) {
	for key, want := range map[string][]string{
		"yb/a.sql.gz":      {"gzip"},
		"yb/a.sql.gz.age":  {"age", "gzip"},
		"yb/a.sql.zst.age": {"age", "zstd"},
		"yb/a.sql":         nil,
		"yb/a.SQL.GZ":      {"gzip"},
	} {
		if got := dumpLayers(key); !slices.Equal(got, want) {
			t.Errorf("dumpLayers(%s) = %v", key, got)
		}
	}
}
