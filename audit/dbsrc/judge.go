package dbsrc

import (
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine"
)

// ColumnJudge gives one column of any database a verdict from sampled
// values, by the same rules and name hints as Scan: scan files uses it for
// SQLite files, so that a database on a disk is judged like one on a server.
type ColumnJudge struct {
	col *column
	st  *colStats
}

// NewColumnJudge starts judging a column; name and comment give the hints,
// dataType is reported as is.
func NewColumnJudge(name, dataType, comment string, fp *crypto.Fingerprinter) *ColumnJudge {
	c := &column{Column: &engine.Column{Name: name, DataType: dataType, ColumnType: dataType, Comment: comment, Sampled: true},
		hint: hintFor(name, comment)}
	return &ColumnJudge{col: c, st: newColStats(c, fp)}
}

// Add judges one value (nil is NULL); v is only read during the call.
func (j *ColumnJudge) Add(v []byte) { j.st.add(v) }

// Verdict returns the column's verdict; Database and Table are the caller's
// to fill in. Storage encryption is unknown, so a plaintext column is high.
func (j *ColumnJudge) Verdict() *ColumnVerdict {
	v := j.st.verdict()
	v.Record, v.Column, v.DataType = "column", j.col.Name, j.col.ColumnType
	v.Severity = severity(v.State, false, v)
	return v
}
