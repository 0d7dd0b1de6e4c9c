package drill

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/engine"
)

// maxListed bounds how many tables a failure's detail names.
const maxListed = 5

// verify recomputes every restored table's rows, digest and DDL hash with
// the backup's canonical encoding and compares them with the manifest,
// and the schema objects (verifyObjects); for
// a third-party dump, which has no manifest, it counts tables and rows and
// says that digests cannot be checked.
func (d *drill) verify() error {
	t := d.now()
	defer func() { d.rec.Phases.VerifySeconds = d.since(t) }()
	m := d.chosen.manifest
	if m == nil {
		return d.count()
	}
	alg := d.tgt.DigestAlgorithm()
	digests := m.DigestAlgorithm == alg
	if digests {
		d.rec.Digests = "verified"
	} else {
		d.rec.Digests = "unsupported"
		d.rec.DigestsDetail = fmt.Sprintf("the manifest's digests are %q, this atrest computes %q: rows compared, digests not", m.DigestAlgorithm, alg)
	}
	res, err := d.tgt.Digests(d.ctx, d.o.Parallel)
	if err != nil {
		return d.targetFailure("verify", err)
	}
	got := map[tableKey]engine.TableResult{}
	for _, r := range res {
		got[tableKey{r.Database, r.Name}] = r
	}
	var dbs []string
	for _, mt := range m.Tables {
		if !slices.Contains(dbs, mt.Database) {
			dbs = append(dbs, mt.Database)
		}
	}
	var bad, ddlBad []string
	for _, mt := range m.Tables {
		k := tableKey{mt.Database, mt.Name}
		if d.only != nil && !d.only[k] {
			// Left out of a subset drill: not run, never a match.
			exp := mt.Rows
			tb := Table{Name: mt.Name, ExpectedRows: &exp, Check: "not_run"}
			if len(dbs) > 1 {
				tb.Database = mt.Database
			}
			d.rec.TablesNotRun++
			d.rec.Tables = append(d.rec.Tables, tb)
			continue
		}
		r, ok := got[k]
		delete(got, k)
		tb, why, ddlOK := compare(mt, r, ok, digests, len(dbs) > 1)
		if why != "" {
			bad = append(bad, why)
		}
		if !ddlOK {
			ddlBad = append(ddlBad, tb.qualified())
		}
		if tb.Check == "match" || tb.Check == "unsupported" {
			d.rec.TablesMatched++
		}
		d.rec.Rows += tb.Rows
		d.rec.Tables = append(d.rec.Tables, tb)
	}
	for k := range got {
		d.note("restored table %s.%s is not in the manifest", k.db, k.name)
	}
	schema, err := d.verifyObjects(m)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return d.fail(FailIntegrity, "%d of %d tables differ from the manifest: %s", len(bad), len(m.Tables)-d.rec.TablesNotRun, list(bad))
	}
	if len(schema) > 0 {
		return d.fail(FailIntegrity, "schema: %s", list(schema))
	}
	if len(ddlBad) > 0 {
		if v := d.tgt.Server().Version; m.Source.Version != "" && m.Source.Version != v {
			d.note("table definitions differ from the manifest (%s); the target runs %s, the source ran %s, which may word them differently", list(ddlBad), v, m.Source.Version)
		} else {
			return d.fail(FailIntegrity, "table definitions differ from the manifest on a server of the same version: %s", list(ddlBad))
		}
	}
	return nil
}

type tableKey struct{ db, name string }

// compare judges one manifest table against what was restored (ok false:
// nothing was). why says what differs; ddlOK is false when the restored
// definition hashes differently.
func compare(mt backup.Table, r engine.TableResult, ok, digests, multi bool) (tb Table, why string, ddlOK bool) {
	exp := mt.Rows
	tb = Table{Name: mt.Name, ExpectedRows: &exp}
	if multi {
		tb.Database = mt.Database
	}
	match := false
	defer func() {
		if digests {
			tb.DigestMatch = &match
		}
	}()
	if !ok {
		tb.Check = "missing"
		return tb, tb.qualified() + ": not restored", true
	}
	tb.Rows = r.Rows
	ddlOK = r.DDLHash == mt.DDLHash
	tb.DDLMatch = &ddlOK
	match = r.Rows == mt.Rows && (!digests || r.Digest == mt.Digest)
	switch {
	case match && digests:
		tb.Check = "match"
	case match:
		tb.Check = "unsupported"
	case r.Rows != mt.Rows:
		tb.Check = "mismatch"
		why = fmt.Sprintf("%s: %d rows, the manifest says %d", tb.qualified(), r.Rows, mt.Rows)
	default:
		tb.Check = "mismatch"
		why = tb.qualified() + ": same row count, different content digest"
	}
	return tb, why, ddlOK
}

func (t Table) qualified() string {
	if t.Database != "" {
		return t.Database + "." + t.Name
	}
	return t.Name
}

// count lists and counts the tables a third-party dump restored.
func (d *drill) count() error {
	d.rec.SchemaObjects = "unsupported"
	d.rec.SchemaObjectsDetail = fmt.Sprintf("format %s: no manifest lists the backup's schema objects", d.o.Job.Format)
	d.rec.Digests = "unsupported"
	d.rec.DigestsDetail = fmt.Sprintf("format %s: a third-party dump carries no table digests to compare with; tables and rows are counted in the restored data", d.o.Job.Format)
	res, err := d.tgt.Count(d.ctx)
	if err != nil {
		return d.targetFailure("count", err)
	}
	dbs := map[string]bool{}
	for _, r := range res {
		dbs[r.Database] = true
	}
	for _, r := range res {
		tb := Table{Name: r.Name, Rows: r.Rows, Check: "unsupported"}
		if len(dbs) > 1 {
			tb.Database = r.Database
		}
		d.rec.Rows += r.Rows
		d.rec.Tables = append(d.rec.Tables, tb)
	}
	if len(d.rec.Tables) == 0 {
		// Without a manifest nothing says an empty restore is right; a
		// drill that restored nothing proved nothing.
		return d.fail(FailIntegrity, "%s: the dump restored no tables", d.chosen.key)
	}
	return nil
}

// targetFailure classifies an error talking to the target after the load:
// the drill is interrupted, or the target failed the restore.
func (d *drill) targetFailure(what string, err error) error {
	if d.ctx.Err() != nil {
		return d.ctx.Err()
	}
	return d.fail(FailRestore, "%s: %s", what, oneLine(err))
}

// probe runs the job's probes in the scratch database, each in a read-only
// transaction, and fails the drill unless each returns a true value.
func (d *drill) probe() error {
	if len(d.o.Probes) == 0 {
		return nil
	}
	t := d.now()
	defer func() { d.rec.Phases.ProbeSeconds = d.since(t) }()
	var failed []string
	for _, p := range d.o.Probes {
		pt := d.now()
		ok, detail, err := d.runProbe(p)
		switch {
		case err != nil && d.ctx.Err() != nil:
			return d.ctx.Err()
		case err != nil && !d.tgt.Refused(err) && !errors.Is(err, context.DeadlineExceeded):
			return d.targetFailure("probe "+p.Name, err)
		case err != nil:
			detail = "failed: " + oneLine(err)
		}
		st := StatusPass
		if !ok {
			st = StatusFail
			if p.ExpectSHA256 != "" {
				failed = append(failed, fmt.Sprintf("canary %s %s", p.Name, detail))
			} else {
				failed = append(failed, fmt.Sprintf("%q %s", p.Name, detail))
			}
		}
		d.rec.Probes = append(d.rec.Probes, ProbeResult{Name: p.Name, Status: st, Detail: detail, Seconds: d.since(pt), Canary: p.ExpectSHA256 != ""})
	}
	if len(failed) > 0 {
		return d.fail(FailProbe, "%d of %d probes failed: %s", len(failed), len(d.o.Probes), list(failed))
	}
	return nil
}

// runProbe runs one probe and judges the first column of its first row:
// NULL, no row, an empty value and zero are false; anything else is true.
// A canary's value is hashed and compared with its expected SHA-256
// instead. The value itself is never kept, and a changed canary says
// nothing of it (not even of its hash).
func (d *drill) runProbe(p Probe) (bool, string, error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.o.ProbeTimeout)
	defer cancel()
	v, found, err := d.tgt.Probe(ctx, p.SQL)
	if err != nil {
		return false, "", err
	}
	switch {
	case !found:
		return false, "returned no rows", nil
	case p.ExpectSHA256 != "" && v == nil:
		return false, "returned NULL", nil
	case p.ExpectSHA256 != "":
		sum := sha256.Sum256(v)
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(p.ExpectSHA256)) != 1 {
			return false, "changed", nil
		}
		return true, "unchanged (the value's SHA-256 is expect_sha256)", nil
	}
	ok, detail := truth(v)
	return ok, detail, nil
}

// truth judges a probe's value the way SQL's IF() would, near enough:
// NULL, empty, a number equal to zero and a BIT of zeros are false.
func truth(v []byte) (bool, string) {
	if v == nil {
		return false, "returned NULL"
	}
	s := strings.TrimSpace(string(v))
	if s == "" {
		return false, "returned an empty value"
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == 0 {
		return false, "returned 0"
	}
	if len(v) <= 8 && !slices.ContainsFunc(v, func(b byte) bool { return b != 0 }) {
		return false, "returned 0"
	}
	return true, "returned a true value"
}

func list(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:maxListed], "; ") + fmt.Sprintf("; and %d more", len(items)-maxListed)
}
