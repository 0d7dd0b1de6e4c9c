package report

import "github.com/atrest/atrest/audit/journal"

// Coverage answers "were this period's backups restorable?" per backup
// rather than per job: of the backups a job made (or that were found with a
// trusted manifest) in the period, how many were read back whole by a
// check --read, how many were restored by a passing drill, and how many
// neither. A backup proven once counts once; one that failed a read or a
// drill counts as failed even if another read passed later.
type Coverage struct {
	Backups  int `json:"backups"`   // made or found in the period
	ReadBack int `json:"read_back"` // of them, every byte verified by backup check --read
	Drilled  int `json:"drilled"`   // of them, restored and verified by a drill
	Failed   int `json:"failed"`    // of them, a read or a drill failed on
	Unproven int `json:"unproven"`  // of them, neither read back nor drilled
}

// coverage is job's coverage in the period.
func (p *period) coverage(job string) Coverage {
	var drills []journal.Entry
	for _, d := range p.drillsOf(job) {
		drills = append(drills, d.e)
	}
	return CoverageOf(append(append([]journal.Entry(nil), p.runs[job]...), p.found[job]...), p.checks[job], drills)
}

// CoverageOf follows each backup that backups (backup.run and backup.found
// entries of one job) made, by its key, through that job's backup.check
// and drill.run entries. The dashboard calls it for the month so far.
func CoverageOf(backups, checks, drills []journal.Entry) Coverage {
	made := map[string]bool{}
	for _, e := range backups {
		for _, k := range append(e.Backups(journal.BackupMade), e.Backups(journal.BackupFound)...) {
			made[k] = true
		}
	}
	read, drilled, failed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, e := range checks {
		for _, it := range e.Items {
			switch {
			case it.Kind != journal.ItemBackup:
			case it.State == journal.BackupRead:
				read[it.Name] = true
			case it.State == journal.BackupReadFailed && it.Note != "transport":
				failed[it.Name] = true // a transport failure proves nothing either way
			}
		}
	}
	for _, e := range drills {
		for _, k := range e.Backups(journal.BackupRestored) {
			drilled[k] = true
		}
		for _, k := range e.Backups(journal.BackupRestoreFailed) {
			failed[k] = true
		}
	}
	c := Coverage{Backups: len(made)}
	for k := range made {
		switch {
		case failed[k]:
			c.Failed++
		case !read[k] && !drilled[k]:
			c.Unproven++
		}
		if read[k] {
			c.ReadBack++
		}
		if drilled[k] {
			c.Drilled++
		}
	}
	return c
}

// coverageText says a job's coverage in one sentence, or nothing when the
// period has no backup of it.
func coverageText(job string, c Coverage) Text {
	if c.Backups == 0 {
		return Text{}
	}
	return tf("作业 %s 本期间 %d 个备份：%d 个整体读回校验，%d 个经恢复演练，%d 个失败，%d 个未经证明",
		"Job %s made %d backups in the period: %d read back whole, %d drilled, %d failed, %d unproven",
		job, c.Backups, c.ReadBack, c.Drilled, c.Failed, c.Unproven)
}
