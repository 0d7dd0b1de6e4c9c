package drill

import (
	"fmt"

	"github.com/atrest/atrest/internal/output"
)

// JUnitCases says the drill as JUnit test cases (`--format junit`), in the
// drill's name as the suite: the restore (choose, stream, load), each
// table, each probe and each target. A failure is a <failure>; a drill
// that could not run is one <error>; a step the failure kept from running
// and a table left out of a subset drill are <skipped>. Nothing that did
// not run is a pass.
func (r *Record) JUnitCases() []output.JUnitCase {
	suite := r.Drill
	if suite == "" {
		suite = r.Job
	}
	c := func(name, status, msg string, secs float64) output.JUnitCase {
		return output.JUnitCase{Suite: suite, Name: name, Status: status, Message: msg, Seconds: secs}
	}
	if r.Status == StatusError || r.Status == "" {
		return []output.JUnitCase{c("drill", output.CaseError, "could not run: "+r.Detail, r.Seconds)}
	}
	p := r.Phases
	restoreSecs := p.SelectSeconds + p.LoadSeconds
	// Where the failure stopped the drill: before the tables were read
	// back (the restore itself failed), at the tables, or at the probes.
	verified := len(r.Tables) > 0
	probed := len(r.Probes) > 0
	var out []output.JUnitCase
	switch {
	case r.Status == StatusFail && !verified && !probed:
		name := "restore"
		if r.Failure == FailNoBackup {
			name = "select"
		}
		out = append(out, c(name, output.CaseFail, r.Failure+": "+r.Detail, restoreSecs))
		out = append(out, c("verify", output.CaseSkipped, "not reached: the drill failed before the tables were read back", 0))
		if r.Backup == "" {
			return out
		}
	default:
		msg := fmt.Sprintf("%s restored: %d bytes of SQL", r.Backup, r.SQLBytes)
		out = append(out, c("restore", output.CasePass, msg, restoreSecs))
	}
	for _, t := range r.Tables {
		name := "table " + t.qualified()
		switch t.Check {
		case "match":
			out = append(out, c(name, output.CasePass, fmt.Sprintf("%d rows, digest matches the manifest", t.Rows), 0))
		case "not_run":
			out = append(out, c(name, output.CaseSkipped, "not run: left out of this subset drill", 0))
		case "unsupported":
			out = append(out, c(name, output.CaseSkipped, fmt.Sprintf("%d rows restored; no digest to compare with (%s)", t.Rows, r.Digests), 0))
		case "missing":
			out = append(out, c(name, output.CaseFail, "integrity: not restored", 0))
		default:
			msg := "integrity: same row count, different content digest"
			if t.ExpectedRows != nil && *t.ExpectedRows != t.Rows {
				msg = fmt.Sprintf("integrity: %d rows, the manifest says %d", t.Rows, *t.ExpectedRows)
			}
			out = append(out, c(name, output.CaseFail, msg, 0))
		}
	}
	if r.Status == StatusFail && verified && r.Failure != FailProbe && r.Failure != FailIntegrity {
		// The read-back itself failed (the target went away).
		out = append(out, c("verify", output.CaseFail, r.Failure+": "+r.Detail, p.VerifySeconds))
	} else if r.Status == StatusFail && r.Failure == FailIntegrity && verified && !anyBad(r.Tables) {
		// Definitions (DDL) differ while every table's rows match.
		out = append(out, c("verify", output.CaseFail, r.Failure+": "+r.Detail, p.VerifySeconds))
	}
	for _, pr := range r.Probes {
		st := output.CasePass
		if pr.Status != StatusPass {
			st = output.CaseFail
		}
		name := "probe " + pr.Name
		if pr.Canary {
			name = "canary " + pr.Name
		}
		out = append(out, c(name, st, pr.Detail, pr.Seconds))
	}
	if r.Status == StatusFail && r.Failure == FailProbe && !probed {
		out = append(out, c("probes", output.CaseFail, r.Failure+": "+r.Detail, p.ProbeSeconds))
	}
	target := func(name, verdict string, got, want float64) {
		switch {
		case want == 0:
		case verdict == TargetMet:
			out = append(out, c(name, output.CasePass, fmt.Sprintf("%.1fs, target %.0fs: met", got, want), 0))
		case verdict == TargetMissed:
			out = append(out, c(name, output.CaseFail, fmt.Sprintf("%.1fs, target %.0fs: missed", got, want), 0))
		default:
			out = append(out, c(name, output.CaseSkipped, "not judged (see the drill record's notes)", 0))
		}
	}
	target("rto", r.RTO, r.RTOSeconds, r.RTOTargetSeconds)
	target("rpo", r.RPO, r.RPOSeconds, r.RPOTargetSeconds)
	return out
}

func anyBad(ts []Table) bool {
	for _, t := range ts {
		if t.Check == "mismatch" || t.Check == "missing" {
			return true
		}
	}
	return false
}
