package output

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

type fakeCase JUnitCase

func (f fakeCase) JUnitCase() JUnitCase { return JUnitCase(f) }

func TestJUnitCountsAndNeverPassesAnError(t *testing.T) {
	var buf bytes.Buffer
	w := NewJUnit(&buf, "atrest backup check")
	for _, c := range []fakeCase{
		{Suite: "yb-nightly", Name: "freshness", Status: CasePass},
		{Suite: "yb-nightly", Name: "integrity", Status: CaseFail, Message: "ciphertext SHA-256 differs", Detail: "object …age"},
		{Suite: "yb-nightly", Name: "lifecycle", Status: CaseSkipped, Message: "unsupported by the server"},
		{Suite: "his", Name: "connect", Status: CaseError, Message: "could not run: storage s3 unreachable"},
		{Suite: "his", Name: "odd", Status: "whatever"},
	} {
		w.Write(c)
	}
	w.Write("not a case") // ignored
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if doc.Tests != 5 || doc.Failures != 1 || doc.Errors != 2 || doc.Skipped != 1 || len(doc.Suites) != 2 {
		t.Fatalf("counts %+v", doc)
	}
	if !strings.HasPrefix(buf.String(), "<?xml") || !strings.Contains(buf.String(), `<error message="could not run: storage s3 unreachable">`) {
		t.Errorf("document:\n%s", buf.String())
	}
}

type fakeCases []JUnitCase

func (f fakeCases) JUnitCases() []JUnitCase { return f }

// New("junit") writes records of several cases and a could-not-run job as
// an <error>.
func TestJUnitFromNew(t *testing.T) {
	var buf bytes.Buffer
	w, err := New("junit", &buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(fakeCases{{Suite: "d", Name: "restore", Status: CasePass}, {Suite: "d", Name: "table t", Status: CaseSkipped}})
	w.Write(CouldNotRun{Suite: "e", Name: "drill", Err: errors.New("identity file: no such file")})
	w.Write(map[string]any{"record": "summary"}) // not a case: left out
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if doc.Tests != 3 || doc.Errors != 1 || doc.Skipped != 1 || doc.Suites[1].Cases[0].Error.Message != "could not run: identity file: no such file" {
		t.Errorf("%+v\n%s", doc, buf.String())
	}
}
