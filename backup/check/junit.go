package check

import "github.com/atrest/atrest/internal/output"

// JUnitCase says one check record as a JUnit test case (`backup check
// --format junit`), in the job's suite, named by the check and the object
// it is about: pass is a pass, fail a <failure>, and warn and unsupported
// are <skipped> (nothing was found wrong, nor proven right).
func (r Result) JUnitCase() output.JUnitCase {
	name := r.Check
	if r.Key != "" {
		name += " " + r.Key
	}
	c := output.JUnitCase{Suite: r.Job, Name: name, Message: r.Detail}
	switch r.Status {
	case Pass:
		c.Status = output.CasePass
	case Fail:
		c.Status = output.CaseFail
		if r.Failure != "" {
			c.Message = r.Failure + ": " + r.Detail
		}
	case Warn, Unsupported:
		c.Status = output.CaseSkipped
		c.Message = string(r.Status) + ": " + r.Detail
	default:
		c.Status = output.CaseError
	}
	return c
}
