package web

import (
	"encoding/json"
	"testing"

	"github.com/atrest/atrest/audit/journal"
)

// The dashboard's API keeps a reading check's integrity verdict through the
// plain checks after it, and says which entry gave each verdict.
func TestAPIChecksKeepTheReadVerdict(t *testing.T) {
	e := newEnv(t)
	read := e.append(journal.Entry{Kind: "backup.check", Subject: "yb-nightly", Outcome: "fail",
		Figures: map[string]any{"read": true, "checks": map[string]any{"freshness": 1, "integrity": 0, "trend": 1}}})
	plain := e.append(journal.Entry{Kind: "backup.check", Subject: "yb-nightly", Outcome: "ok",
		Figures: map[string]any{"checks": map[string]any{"freshness": 1}, "checks_unjudged": map[string]any{"trend": 1}}})
	rec := e.do(request{path: "/api/checks", user: "li.wei", pw: auditorPW})
	var got struct {
		Jobs []apiCheckJob `json:"jobs"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Jobs) != 1 {
		t.Fatalf("/api/checks: %d %s", rec.Code, rec.Body)
	}
	j := got.Jobs[0]
	if j.Checks["integrity"] != "fail" || j.CheckEntries["integrity"].Seq != read.Seq ||
		j.Checks["freshness"] != "pass" || j.CheckEntries["freshness"].Seq != plain.Seq || j.ChecksEntry.Seq != plain.Seq {
		t.Errorf("checks %v, entries %v, newest %v", j.Checks, j.CheckEntries, j.ChecksEntry)
	}
	if _, ok := j.Checks["trend"]; ok {
		t.Errorf("trend only warned in the newest check, yet kept its verdict: %v", j.Checks)
	}
}
