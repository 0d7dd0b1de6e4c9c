package output

import (
	"encoding/xml"
	"fmt"
	"io"
)

// JUnit statuses of a case.
const (
	CasePass    = "pass"
	CaseFail    = "fail"    // ran and found the backup (or restore) wrong
	CaseError   = "error"   // could not run: never counted as a pass
	CaseSkipped = "skipped" // not run on purpose (a warning, an unsupported call, a table left out)
)

// JUnitCase is what one check or drill record says as a JUnit test case.
type JUnitCase struct {
	Suite   string // the job
	Name    string // the check, or the drill and its phase
	Status  string // CasePass, CaseFail, CaseError, CaseSkipped
	Message string // one line
	Detail  string
	Seconds float64
}

// JUnitCaser is a record that can be written as JUnit (check and drill
// records). Other records are left out of the JUnit document.
type JUnitCaser interface{ JUnitCase() JUnitCase }

// JUnitCaseser is a record that is several test cases (a drill: its
// steps, each table, each probe, its targets).
type JUnitCaseser interface{ JUnitCases() []JUnitCase }

// CouldNotRun is a job that could not run, as a JUnit <error> case: a
// command writes it in place of the records it could not make, so that a
// pipeline reading the document never takes silence for a pass.
type CouldNotRun struct {
	Suite, Name string
	Err         error
}

func (c CouldNotRun) JUnitCase() JUnitCase {
	return JUnitCase{Suite: c.Suite, Name: c.Name, Status: CaseError, Message: "could not run: " + c.Err.Error()}
}

// junit collects cases and writes one JUnit XML document at Close, the form
// CI systems and test dashboards read, so a failed drill turns a pipeline red.
type junit struct {
	w      io.Writer
	title  string
	suites []*junitSuite
	byName map[string]*junitSuite
}

type junitDoc struct {
	XMLName  xml.Name      `xml:"testsuites"`
	Name     string        `xml:"name,attr"`
	Tests    int           `xml:"tests,attr"`
	Failures int           `xml:"failures,attr"`
	Errors   int           `xml:"errors,attr"`
	Skipped  int           `xml:"skipped,attr"`
	Suites   []*junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// NewJUnit returns a Writer of JUnit XML; title names the run ("atrest
// backup check"). It is what New returns for format "junit".
func NewJUnit(w io.Writer, title string) Writer {
	return &junit{w: w, title: title, byName: map[string]*junitSuite{}}
}

func (j *junit) Write(rec any) error {
	switch c := rec.(type) {
	case JUnitCaseser:
		for _, jc := range c.JUnitCases() {
			j.add(jc)
		}
	case JUnitCaser:
		j.add(c.JUnitCase())
	}
	return nil
}

func (j *junit) add(jc JUnitCase) {
	s := j.byName[jc.Suite]
	if s == nil {
		s = &junitSuite{Name: jc.Suite}
		j.byName[jc.Suite] = s
		j.suites = append(j.suites, s)
	}
	tc := junitCase{Classname: "atrest." + jc.Suite, Name: jc.Name, Time: fmt.Sprintf("%.3f", jc.Seconds)}
	p := &junitProblem{Message: jc.Message, Text: jc.Detail}
	switch jc.Status {
	case CasePass:
	case CaseFail:
		tc.Failure, s.Failures = p, s.Failures+1
	case CaseSkipped:
		tc.Skipped, s.Skipped = p, s.Skipped+1
	default: // error, and anything unknown: never a pass
		tc.Error, s.Errors = p, s.Errors+1
	}
	s.Tests++
	s.Cases = append(s.Cases, tc)
}

func (j *junit) Close() error {
	doc := junitDoc{Name: j.title, Suites: j.suites}
	for _, s := range j.suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	if _, err := io.WriteString(j.w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(j.w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(j.w, "\n")
	return err
}

// ParseJUnit reads a JUnit document as NewJUnit writes it back into its
// cases, each with the status its element says (<failure>, <error>,
// <skipped>, or none: a pass), for tests and tools that check what a run
// said.
func ParseJUnit(data []byte) ([]JUnitCase, error) {
	var doc junitDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	var out []JUnitCase
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			jc := JUnitCase{Suite: s.Name, Name: c.Name, Status: CasePass}
			for _, p := range []struct {
				el     *junitProblem
				status string
			}{{c.Failure, CaseFail}, {c.Error, CaseError}, {c.Skipped, CaseSkipped}} {
				if p.el != nil {
					jc.Status, jc.Message, jc.Detail = p.status, p.el.Message, p.el.Text
				}
			}
			out = append(out, jc)
		}
	}
	return out, nil
}
