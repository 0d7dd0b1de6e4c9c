package drill

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/engine"
)

// maxFindings bounds the findings a record lists; the rest are counted.
const maxFindings = 50

// finding adds a named finding to the record.
func (d *drill) finding(format string, args ...any) {
	switch n := len(d.rec.Findings); {
	case n < maxFindings:
		d.rec.Findings = append(d.rec.Findings, fmt.Sprintf(format, args...))
	case n == maxFindings:
		d.rec.Findings = append(d.rec.Findings, "… and more (the record lists the first 50)")
	}
}

// manifestDefiners are the accounts the manifest's objects name as their
// definers (manifests from before definers were recorded name none; the
// load lists them then).
func (d *drill) manifestDefiners() []engine.Definer {
	m := d.chosen.manifest
	if m == nil {
		return nil
	}
	var out []engine.Definer
	for _, o := range m.Objects {
		if o.Definer != "" && (d.only == nil || d.subsetLoads(o)) {
			out = engine.AddDefiner(out, o.Definer, objectLabel(o.Type, o.Database, o.Name))
		}
	}
	return out
}

// definers checks, with definers: keep, that the accounts the backup's
// objects name exist on the target: the README's restore by hand keeps
// them, and fails without them. A missing account is a finding, and fails
// the drill once everything else is verified (d.definerFail); a drill user
// who may not read the accounts makes a drill that could not run. With
// strip the record says what the drill did differently.
func (d *drill) definers(list []engine.Definer) error {
	if d.o.Definers == engine.DefinersStrip {
		d.rec.DefinersDetail = "definers stripped: restored objects belong to the drill user; the README's restore keeps them, and needs their accounts on the server"
		return nil
	}
	if d.checked == nil {
		d.checked = map[string]bool{}
	}
	var accounts []string
	for _, def := range list {
		if !d.checked[def.Account] {
			accounts = append(accounts, def.Account)
		}
	}
	if len(accounts) > 0 {
		missing, why, err := d.tgt.MissingAccounts(d.ctx, accounts)
		if errors.Is(err, engine.ErrAccounts) {
			return fmt.Errorf("definers: keep: cannot check that the backup's definers exist on the target (%s), or set definers: strip", oneLine(err))
		}
		if err != nil {
			if d.ctx.Err() != nil {
				return d.ctx.Err()
			}
			return fmt.Errorf("definers: %s", oneLine(err))
		}
		for _, a := range accounts {
			d.checked[a] = true
		}
		for _, a := range missing {
			def := definerOf(list, a)
			on := strings.Join(def.Objects, ", ")
			if more := def.Count - len(def.Objects); more > 0 {
				on += fmt.Sprintf(" and %d more", more)
			}
			msg := fmt.Sprintf("definer %s missing on the target: %s on %s", a, why, on)
			d.finding("%s", msg)
			if d.definerFail == nil {
				d.definerFail = d.fail(FailRestore, "%s", msg)
			}
		}
	}
	n := len(d.checked)
	switch {
	case n == 0:
		d.rec.DefinersDetail = "definers kept: the backup's objects name no definer to check"
	case d.definerFail != nil:
		d.rec.DefinersDetail = fmt.Sprintf("definers kept: %d accounts checked on the target, some missing (findings)", n)
	default:
		d.rec.DefinersDetail = fmt.Sprintf("definers kept: the %d accounts the objects name exist on the target (their rights on the source's database are not checked; in the scratch database the objects belong to the drill user)", n)
	}
	return nil
}

func definerOf(list []engine.Definer, account string) engine.Definer {
	for _, d := range list {
		if d.Account == account {
			return d
		}
	}
	return engine.Definer{Account: account}
}

// objectLabel names an object kind first: "trigger yb.trg_audit".
func objectLabel(typ, db, name string) string {
	return strings.ToLower(typ) + " " + db + "." + name
}

type objectKey struct{ db, typ, name string }

// verifyObjects reads the restored schema objects back and compares them
// with the manifest's: one missing is a problem; one whose definition
// digest differs is a problem on a server of the source's version, and a
// note on another (which may print definitions differently, as for the
// tables' DDL); a sequence at another value is a problem. Manifests from
// before digests are compared by presence only, and the record says so.
func (d *drill) verifyObjects(m *backup.Manifest) (problems []string, err error) {
	digests := false
	for _, o := range m.Objects {
		if o.Digest != "" {
			digests = true
			break
		}
	}
	switch {
	case digests:
		d.rec.SchemaObjects = "verified"
	case len(m.Objects) == 0:
		d.rec.SchemaObjects = "presence"
		d.rec.SchemaObjectsDetail = "the manifest lists no schema objects (it predates their listing, or the backup has none)"
		return nil, nil
	default:
		d.rec.SchemaObjects = "presence"
		d.rec.SchemaObjectsDetail = "the manifest predates object digests: its views, triggers, routines and sequences are compared by presence only; events, indexes and constraints are not listed in it (the tables' DDL hashes cover the indexes and constraints)"
	}
	got, err := d.tgt.Objects(d.ctx)
	if err != nil {
		return nil, d.targetFailure("read schema objects", err)
	}
	restored := make(map[objectKey]engine.Object, len(got))
	for _, o := range got {
		restored[objectKey{o.Database, o.Type, o.Name}] = o
	}
	sameVersion := m.Source.Version == "" || m.Source.Version == d.tgt.Server().Version
	var worded []string
	notRun := 0
	for _, mo := range m.Objects {
		k := objectKey{mo.Database, mo.Type, mo.Name}
		if d.only != nil && !d.subsetLoads(mo) {
			// A subset drill loads no view, trigger, routine or event
			// (they may need the tables left out), nor the keys of the
			// tables left out: not run, never missing, never matched.
			delete(restored, k)
			notRun++
			continue
		}
		r, ok := restored[k]
		delete(restored, k)
		d.rec.SchemaObjectsChecked++
		label := objectLabel(mo.Type, mo.Database, mo.Name)
		switch {
		case !ok:
			problems = append(problems, label+" missing on the target")
		case mo.Value != "" && r.Value != mo.Value:
			problems = append(problems, fmt.Sprintf("%s at %s on the target, %s in the manifest", label, r.Value, mo.Value))
		case mo.Digest != "" && r.Digest != mo.Digest && sameVersion:
			problems = append(problems, label+" differs from the manifest")
		case mo.Digest != "" && r.Digest != mo.Digest:
			worded = append(worded, label)
		}
	}
	if notRun > 0 {
		d.rec.SchemaObjectsNotRun = notRun
		d.note("subset drill: %d schema objects not run (views, triggers, routines and events, and the keys and constraints of the tables left out, are not loaded)", notRun)
	}
	if len(worded) > 0 {
		d.note("schema object definitions differ from the manifest (%s); the target runs %s, the source ran %s, which may word them differently",
			list(worded), d.tgt.Server().Version, m.Source.Version)
	}
	if digests && len(restored) > 0 {
		var extra []string
		for k := range restored {
			extra = append(extra, objectLabel(k.typ, k.db, k.name))
		}
		slices.Sort(extra)
		d.note("restored schema objects not in the manifest: %s", list(extra))
	}
	for _, p := range problems {
		d.finding("schema: %s", p)
	}
	return problems, nil
}

// subsetLoads reports whether a subset drill loads object o: the keys and
// constraints of the tables it loads (named "table.key"), which come with
// their CREATE TABLE. Nothing else is loaded.
func (d *drill) subsetLoads(o backup.SchemaObject) bool {
	switch o.Type {
	case engine.ObjIndex, engine.ObjPrimaryKey, engine.ObjUnique, engine.ObjForeignKey, engine.ObjCheck, engine.ObjExclusion:
		table, _, ok := strings.Cut(o.Name, ".")
		return ok && d.only[tableKey{o.Database, table}]
	}
	return false
}
