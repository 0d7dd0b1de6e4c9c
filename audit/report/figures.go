package report

import (
	"sort"

	"github.com/atrest/atrest/audit/journal"
)

// Figures are the period's numbers, by source, root, job and drill run.
type Figures struct {
	Entries   int            `json:"entries"`
	ByKind    map[string]int `json:"by_kind"`
	DBScans   []DBScan       `json:"db_scans"`
	FileScans []FileScan     `json:"file_scans"`
	Backups   []JobFigures   `json:"backups"`
	Drills    []DrillRun     `json:"drills"`
	Reviews   []Ref          `json:"reviews"` // reviews of (part of) the period, whenever written
}

// DBScan is one source's database scans; the counts are from the latest
// completed one.
type DBScan struct {
	Source           string         `json:"source"`
	Configured       bool           `json:"configured"`
	Scans            int            `json:"scans"`
	Errors           int            `json:"errors"`
	Latest           *Ref           `json:"latest,omitempty"`
	Tables           int            `json:"tables"`
	TablesEncrypted  int            `json:"tables_encrypted_at_rest"`
	PlaintextColumns int            `json:"plaintext_columns"`
	PlaintextByType  map[string]int `json:"plaintext_by_type"`
	ByState          map[string]int `json:"by_state"`
	// Where names the columns of the latest completed scan that hold
	// identifiers (plaintext first), with what to do about each.
	Where []Place `json:"where"`
}

// Place is one column or file that holds identifiers, from a scan entry's
// items: a name, never a value.
type Place struct {
	journal.Item
	Todo Text `json:"todo"` // what to do about it
}

// places turns a scan entry's items into places with what to do, plaintext
// first (the order the items came in).
func places(e journal.Entry) []Place {
	out := []Place{}
	for _, it := range e.Items {
		out = append(out, Place{Item: it, Todo: todo(it)})
	}
	return out
}

func todo(it journal.Item) Text {
	switch {
	case it.Kind == "column" && it.State == "plaintext":
		return Text{"加密该列（应用层加密或表空间加密），或脱敏、令牌化；核实是否需要保存", "encrypt the column (application-level or tablespace encryption), or mask or tokenise it; check it needs keeping"}
	case it.Kind == "column" && it.State == "hashed":
		return Text{"确认使用带密钥的哈希（HMAC）：无密钥哈希可被穷举还原", "make sure the hash is keyed (HMAC): an unkeyed hash of an ID number can be brute-forced"}
	case it.Kind == "column":
		return Text{"已脱敏或加密：保持", "masked or encrypted: keep it so"}
	case it.State == "not_read":
		return Text{"未能读取：人工检查该文件，或转换为可读格式后重扫", "not read: check the file by hand, or convert it and scan again"}
	}
	return Text{"删除、移入加密存储，或导出时脱敏", "delete it, move it to encrypted storage, or mask the export"}
}

// FileScan is one scanned subject's file scans (configured roots are named,
// several joined with commas); the counts are from the latest completed one.
type FileScan struct {
	Roots      string         `json:"roots"`
	Configured bool           `json:"configured"`
	Scans      int            `json:"scans"`
	Errors     int            `json:"errors"`
	Latest     *Ref           `json:"latest,omitempty"`
	Files      int            `json:"files"`
	Scanned    int            `json:"scanned"`
	Encrypted  int            `json:"encrypted"`
	Findings   int            `json:"findings"`
	ByType     map[string]int `json:"by_type"`
	// Where names the files of the latest completed scan that hold
	// plaintext or were not read, with what to do about each.
	Where []Place `json:"where"`
}

// JobFigures are one backup job's runs, checks and drills in the period.
type JobFigures struct {
	Job        string `json:"job"`
	Configured bool   `json:"configured"`
	Runs       int    `json:"runs"`
	RunsFailed int    `json:"runs_failed"`
	LastRun    *Ref   `json:"last_run,omitempty"`
	Checks     int    `json:"checks"`
	// ChecksFailed counts check runs with a failure; Pass..Unsupported sum
	// the check records of all runs.
	ChecksFailed int  `json:"checks_failed"`
	Pass         int  `json:"pass"`
	Fail         int  `json:"fail"`
	Warn         int  `json:"warn"`
	Unsupported  int  `json:"unsupported"`
	Stale        int  `json:"stale"` // checks that found the newest backup older than the RPO
	LastCheck    *Ref `json:"last_check,omitempty"`
	// FailedBy counts, per check name, the check runs where it failed.
	FailedBy map[string]int `json:"failed_by"`
	// Coverage counts this job's backups of the period one by one.
	Coverage     Coverage `json:"coverage"`
	Drills       int      `json:"drills"`
	DrillsPassed int      `json:"drills_passed"`
	DrillsFailed int      `json:"drills_failed"`
	DrillsError  int      `json:"drills_error"`
}

// DrillRun is one drill.run entry.
type DrillRun struct {
	Entry           Ref      `json:"entry"`
	Job             string   `json:"job"`
	RTOSeconds      *float64 `json:"rto_seconds,omitempty"` // passed drills only
	RPOSeconds      float64  `json:"rpo_seconds"`
	Tables          int      `json:"tables"`
	TablesMatched   int      `json:"tables_matched"`
	DigestsVerified bool     `json:"digests_verified"`
	Failure         string   `json:"failure,omitempty"`
	// The targets (drills[].rto, rpo) and whether they were met: nil where
	// the drill had none or did not judge it.
	RTOTargetSeconds *float64 `json:"rto_target_seconds,omitempty"`
	RTOMet           *bool    `json:"rto_met,omitempty"`
	RPOTargetSeconds *float64 `json:"rpo_target_seconds,omitempty"`
	RPOMet           *bool    `json:"rpo_met,omitempty"`
	// Subset: only some tables were drilled; TablesNotRun were not.
	Subset       bool `json:"subset,omitempty"`
	TablesNotRun int  `json:"tables_not_run,omitempty"`
	// ByHand: started from the CLI or the dashboard, not by the schedule.
	ByHand bool `json:"by_hand"`
}

func (p *period) figures() Figures {
	f := Figures{Entries: p.total, ByKind: p.byKind, DBScans: []DBScan{}, FileScans: []FileScan{},
		Backups: []JobFigures{}, Drills: []DrillRun{}, Reviews: []Ref{}}
	f.DBScans = p.dbScanFigures()
	f.FileScans = p.fileScanFigures()
	f.Backups = p.jobFigures()
	for _, d := range p.drills {
		run := DrillRun{Entry: refOf(d.e), Job: d.job, ByHand: d.e.Figures["by_hand"] == true, Tables: count(d.e, "tables"), TablesMatched: count(d.e, "tables_matched"),
			DigestsVerified: flag(d.e, "digests_verified"), Failure: failureClass(d.e)}
		run.RPOSeconds, _ = num(d.e, "rpo_seconds")
		if rto, ok := num(d.e, "rto_seconds"); ok && d.e.Outcome == "ok" {
			run.RTOSeconds = &rto
		}
		if v, ok := num(d.e, "rto_target_seconds"); ok {
			run.RTOTargetSeconds = &v
		}
		if v, ok := num(d.e, "rpo_target_seconds"); ok {
			run.RPOTargetSeconds = &v
		}
		if v, ok := d.e.Figures["rto_met"].(bool); ok {
			run.RTOMet = &v
		}
		if v, ok := d.e.Figures["rpo_met"].(bool); ok {
			run.RPOMet = &v
		}
		run.Subset, run.TablesNotRun = flag(d.e, "subset"), count(d.e, "tables_not_run")
		f.Drills = append(f.Drills, run)
	}
	for _, e := range p.reviews {
		if q, err := ParsePeriod(e.Subject, p.in.Period.From.Location()); err == nil && q.overlaps(p.in.Period) {
			f.Reviews = append(f.Reviews, refOf(e))
		}
	}
	return f
}

func (p *period) dbScanFigures() []DBScan {
	out := []DBScan{}
	configured := map[string]bool{}
	for _, s := range p.cfg.Sources {
		configured[s.Name] = true
	}
	subjects := sortedKeys(p.dbScans)
	for _, s := range p.cfg.Sources {
		if _, ok := p.dbScans[s.Name]; !ok {
			subjects = append(subjects, s.Name)
		}
	}
	for _, subj := range subjects {
		scans := p.dbScans[subj]
		d := DBScan{Source: subj, Configured: configured[subj], Scans: len(scans), PlaintextByType: map[string]int{}, ByState: map[string]int{}, Where: []Place{}}
		for _, e := range scans {
			if e.Outcome == "error" {
				d.Errors++
			}
		}
		if e, ok := latest(scans, notError); ok {
			r := refOf(e)
			d.Latest = &r
			d.Tables, d.TablesEncrypted = count(e, "tables"), count(e, "tables_encrypted_at_rest")
			d.PlaintextColumns = count(e, "plaintext_columns")
			d.PlaintextByType, d.ByState = subCounts(e, "plaintext_by_type"), subCounts(e, "by_state")
			d.Where = places(e)
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Source < out[j].Source })

	return out
}

func (p *period) fileScanFigures() []FileScan {
	out := []FileScan{}
	bySubject := map[string][]journal.Entry{}
	for _, e := range p.fileScans {
		bySubject[e.Subject] = append(bySubject[e.Subject], e)
	}
	for _, r := range p.cfg.FileRoots {
		if len(p.fileScansOf(r)) == 0 {
			bySubject[r] = nil
		}
	}
	for _, subj := range sortedKeys(bySubject) {
		scans := bySubject[subj]
		fs := FileScan{Roots: subj, Configured: allConfigured(subj, p.cfg.FileRoots), Scans: len(scans), ByType: map[string]int{}, Where: []Place{}}
		for _, e := range scans {
			if e.Outcome == "error" {
				fs.Errors++
			}
		}
		if e, ok := latest(scans, notError); ok {
			r := refOf(e)
			fs.Latest = &r
			fs.Files, fs.Scanned, fs.Encrypted = count(e, "files"), count(e, "scanned"), count(e, "encrypted")
			fs.Findings, fs.ByType = count(e, "findings"), subCounts(e, "by_type")
			fs.Where = places(e)
		}
		out = append(out, fs)
	}

	return out
}

func (p *period) jobFigures() []JobFigures {
	out := []JobFigures{}
	jobs := map[string]bool{}
	var order []string
	for _, b := range p.cfg.Backups {
		jobs[b.Name] = true
		order = append(order, b.Name)
	}
	extra := map[string]bool{}
	for _, m := range []map[string][]journal.Entry{p.runs, p.checks} {
		for k := range m {
			if !jobs[k] {
				extra[k] = true
			}
		}
	}
	for _, d := range p.drills {
		if !jobs[d.job] {
			extra[d.job] = true
		}
	}
	order = append(order, sortedKeys(extra)...)
	for _, job := range order {
		jf := JobFigures{Job: job, Configured: jobs[job], FailedBy: map[string]int{}}
		for _, e := range p.runs[job] {
			jf.Runs++
			if e.Outcome != "ok" {
				jf.RunsFailed++
			}
		}
		if e, ok := latest(p.runs[job], func(journal.Entry) bool { return true }); ok {
			r := refOf(e)
			jf.LastRun = &r
		}
		for _, e := range p.checks[job] {
			jf.Checks++
			jf.Pass += count(e, "pass")
			jf.Fail += count(e, "fail")
			jf.Warn += count(e, "warn")
			jf.Unsupported += count(e, "unsupported")
			if e.Outcome != "ok" {
				jf.ChecksFailed++
			}
			if pass, ok := checkVerdict(e, "freshness"); ok && !pass {
				jf.Stale++
			}
			m, _ := e.Figures["checks"].(map[string]any)
			for name := range m {
				if pass, ok := checkVerdict(e, name); ok && !pass {
					jf.FailedBy[name]++
				}
			}
			r := refOf(e)
			jf.LastCheck = &r
		}
		jf.Coverage = p.coverage(job)
		for _, d := range p.drillsOf(job) {
			jf.Drills++
			switch d.e.Outcome {
			case "ok":
				jf.DrillsPassed++
			case "fail":
				jf.DrillsFailed++
			default:
				jf.DrillsError++
			}
		}
		out = append(out, jf)
	}

	return out
}
