package report

import (
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// backupItem is a backup item in state, as internal/jobs writes them.
func backupItem(key, state string) []journal.Item {
	return []journal.Item{{Kind: journal.ItemBackup, Name: key, State: state}}
}

// TestCoverageCountsBackupsOneByOne: "were this month's backups
// restorable?" is answered per backup: made (or found), read back, drilled,
// failed, unproven; a transport failure proves nothing either way, and
// entries from before items (key in the detail) still count.
func TestCoverageCountsBackupsOneByOne(t *testing.T) {
	_, in := history(t, func(x *tj) {
		for i, key := range []string{"k/a", "k/b", "k/c", "k/d", "k/e"} {
			e := backupRun("yb-nightly")
			e.Detail, e.Items = key, backupItem(key, journal.BackupMade)
			x.at("run-"+key, time.November, 1+i, 1, e)
		}
		x.at("found", time.November, 7, 1, journal.Entry{Kind: "backup.found", Subject: "yb-nightly", Outcome: "found",
			Detail: "k/f — its run started and never journaled its end", Items: backupItem("k/f", journal.BackupFound)})
		x.at("untrusted", time.November, 7, 2, journal.Entry{Kind: "backup.found", Subject: "yb-nightly", Outcome: "untrusted",
			Detail: "k/g — not trusted"})
		check := backupCheck("yb-nightly", allPass())
		check.Items = []journal.Item{
			{Kind: journal.ItemBackup, Name: "k/a", State: journal.BackupRead},
			{Kind: journal.ItemBackup, Name: "k/b", State: journal.BackupReadFailed, Note: "integrity"},
			{Kind: journal.ItemBackup, Name: "k/c", State: journal.BackupReadFailed, Note: "transport"},
		}
		x.at("check-read", time.November, 8, 4, check)
		ok := drillOK("yb-drill", 30)
		ok.Items = backupItem("k/a", journal.BackupRestored)
		x.at("drill-a", time.November, 9, 5, ok)
		legacy := drillOK("yb-drill", 31) // no items: "backup <key>" in the detail
		legacy.Detail = "backup k/f"
		x.at("drill-f", time.November, 10, 5, legacy)
	})
	r := build(t, in)
	var got *JobFigures
	for i := range r.Figures.Backups {
		if r.Figures.Backups[i].Job == "yb-nightly" {
			got = &r.Figures.Backups[i]
		}
	}
	if got == nil {
		t.Fatal("no figures for yb-nightly")
	}
	// run1 of history (key in its detail, no items), a..e, f (found and
	// trusted); g is untrusted and vouches for nothing.
	want := Coverage{Backups: 7, ReadBack: 1, Drilled: 2, Failed: 1, Unproven: 4}
	if got.Coverage != want {
		t.Errorf("coverage %+v, want %+v", got.Coverage, want)
	}
	var html strings.Builder
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "7 / 1 / 2 / 4 (1 <span class=\"en\">failed</span>)") {
		t.Errorf("the report's backup table does not show the coverage")
	}
}
