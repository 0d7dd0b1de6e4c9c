package drill

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"filippo.io/age"
	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/engine/mysql"
)

// maxListed bounds how many tables a failure's detail names.
const maxListed = 5

// verify recomputes every restored table's rows, digest and DDL hash with
// the backup's canonical encoding and compares them with the manifest; for
// a third-party dump, which has no manifest, it counts tables and rows and
// says that digests cannot be checked.
func (d *drill) verify() error {
	t := d.now()
	defer func() { d.rec.Phases.VerifySeconds = d.since(t) }()
	m := d.chosen.manifest
	if m == nil {
		return d.count()
	}
	digests := m.DigestAlgorithm == mysql.DigestAlgorithm
	if digests {
		d.rec.Digests = "verified"
	} else {
		d.rec.Digests = "unsupported"
		d.rec.DigestsDetail = fmt.Sprintf("the manifest's digests are %q, this atrest computes %q: rows compared, digests not", m.DigestAlgorithm, mysql.DigestAlgorithm)
	}
	got := map[tableKey]mysql.TableResult{}
	var dbs []string
	for _, mt := range m.Tables {
		if !slices.Contains(dbs, mt.Database) {
			dbs = append(dbs, mt.Database)
		}
	}
	for _, src := range dbs {
		scratch, ok := d.tgt.scratchFor(src)
		if !ok {
			continue // its tables are reported missing
		}
		res, err := mysql.Digests(d.ctx, d.tgt.dsn, scratch, d.o.Parallel)
		if err != nil {
			return d.targetFailure("verify", err)
		}
		for _, r := range res {
			if r.Name != MarkerTable {
				got[tableKey{src, r.Name}] = r
			}
		}
	}
	var bad, ddlBad []string
	for _, mt := range m.Tables {
		k := tableKey{mt.Database, mt.Name}
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
	if len(bad) > 0 {
		return d.fail(FailIntegrity, "%d of %d tables differ from the manifest: %s", len(bad), len(m.Tables), list(bad))
	}
	if len(ddlBad) > 0 {
		if m.Source.Version != "" && m.Source.Version != d.tgt.server.Version {
			d.note("table definitions differ from the manifest (%s); the target runs %s, the source ran %s, whose SHOW CREATE TABLE may word them differently", list(ddlBad), d.tgt.server.Version, m.Source.Version)
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
func compare(mt backup.Table, r mysql.TableResult, ok, digests, multi bool) (tb Table, why string, ddlOK bool) {
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
	d.rec.Digests = "unsupported"
	d.rec.DigestsDetail = "format mysqldump: a third-party dump carries no table digests to compare with; tables and rows are counted in the restored data"
	scratch := d.tgt.created()
	for _, db := range scratch {
		names, err := d.baseTables(db)
		if err != nil {
			return d.targetFailure("count tables", err)
		}
		for _, n := range names {
			var rows int64
			if err := d.tgt.db.QueryRowContext(d.ctx, "SELECT COUNT(*) FROM "+quoteIdent(db)+"."+quoteIdent(n)).Scan(&rows); err != nil {
				return d.targetFailure("count rows of "+n, err)
			}
			tb := Table{Name: n, Rows: rows, Check: "unsupported"}
			if len(scratch) > 1 {
				tb.Database = d.sourceOf(db)
			}
			d.rec.Rows += rows
			d.rec.Tables = append(d.rec.Tables, tb)
		}
	}
	if len(d.rec.Tables) == 0 {
		// Without a manifest nothing says an empty restore is right; a
		// drill that restored nothing proved nothing.
		return d.fail(FailIntegrity, "%s: the dump restored no tables", d.chosen.key)
	}
	return nil
}

func (d *drill) baseTables(db string) ([]string, error) {
	rows, err := d.tgt.db.QueryContext(d.ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if n != MarkerTable {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

func (d *drill) sourceOf(scratch string) string {
	d.tgt.mu.Lock()
	defer d.tgt.mu.Unlock()
	for src, to := range d.tgt.renames {
		if to == scratch {
			return src
		}
	}
	return scratch
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
	conn, err := d.tgt.db.Conn(d.ctx)
	if err != nil {
		return d.targetFailure("probes", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(d.ctx, "USE "+quoteIdent(d.tgt.base)); err != nil {
		return d.targetFailure("probes", err)
	}
	var failed []string
	for _, p := range d.o.Probes {
		pt := d.now()
		ok, detail, err := d.runProbe(conn, p.SQL)
		var me *mysqldrv.MySQLError
		switch {
		case err != nil && d.ctx.Err() != nil:
			return d.ctx.Err()
		case err != nil && !errors.As(err, &me) && !errors.Is(err, context.DeadlineExceeded):
			return d.targetFailure("probe "+p.Name, err)
		case err != nil:
			detail = "failed: " + oneLine(err)
		}
		st := StatusPass
		if !ok {
			st = StatusFail
			failed = append(failed, fmt.Sprintf("%q %s", p.Name, detail))
		}
		d.rec.Probes = append(d.rec.Probes, ProbeResult{Name: p.Name, Status: st, Detail: detail, Seconds: d.since(pt)})
	}
	if len(failed) > 0 {
		return d.fail(FailProbe, "%d of %d probes failed: %s", len(failed), len(d.o.Probes), list(failed))
	}
	return nil
}

// runProbe runs one probe and judges the first column of its first row:
// NULL, no row, an empty value and zero are false; anything else is true.
// The value itself is never kept.
func (d *drill) runProbe(conn *sql.Conn, query string) (bool, string, error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.o.ProbeTimeout)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "START TRANSACTION READ ONLY"); err != nil {
		return false, "", err
	}
	defer conn.ExecContext(context.WithoutCancel(d.ctx), "ROLLBACK")
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return false, "", err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return false, "", err
		}
		return false, "returned no rows", nil
	}
	cols, err := rows.Columns()
	if err != nil {
		return false, "", err
	}
	vals := make([]any, len(cols))
	var first sql.RawBytes
	vals[0] = &first
	for i := 1; i < len(vals); i++ {
		vals[i] = new(sql.RawBytes)
	}
	if err := rows.Scan(vals...); err != nil {
		return false, "", err
	}
	ok, detail := truth(first)
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

// loadIdentities reads the age identities, keeping why there are none.
func (d *drill) loadIdentities() {
	if d.o.Identity != nil {
		d.ids = []age.Identity{d.o.Identity}
		return
	}
	path := d.o.IdentityFile
	if path == "" {
		d.idErr = errors.New("no identity: give the drill an identity_file (or --identity) holding the age key the backups are encrypted to")
		return
	}
	f, err := os.Open(path)
	if err != nil {
		d.idErr = fmt.Errorf("identity file: %s", oneLine(err))
		return
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		// age's message may quote the malformed line: keep only where.
		where, _, _ := strings.Cut(err.Error(), ":")
		d.idErr = fmt.Errorf("identity file %s holds no usable age identity (%s)", path, where)
		return
	}
	d.ids = ids
}

// needsIdentity: atrest backups are always encrypted; a third-party dump
// when its key ends in .age.
func (d *drill) needsIdentity() bool {
	return d.o.Job.Format != "mysqldump" || slices.Contains(dumpLayers(d.chosen.key), "age")
}
