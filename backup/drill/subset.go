package drill

import (
	"fmt"
	"slices"
	"strings"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/engine"
)

// subset resolves Options.Tables or ExcludeTables against the drilled
// backup's manifest and sets d.only. A name is "db.table", or a bare
// "table" where exactly one table of the backup has that name (always so
// when the backup holds one database). A name that matches no table, or a
// bare name that matches several, means the drill cannot run: a subset
// that silently drilled less than was asked would prove less than it says.
func (d *drill) subset(m *backup.Manifest) error {
	names, key := d.o.Tables, "tables"
	if len(names) == 0 {
		names, key = d.o.ExcludeTables, "exclude_tables"
	}
	if len(names) == 0 {
		return nil
	}
	if m == nil {
		return fmt.Errorf("%s: %s has no manifest naming its tables: a subset drill needs an atrest backup", key, d.chosen.key)
	}
	named := map[tableKey]bool{}
	for _, n := range names {
		ks, err := matchTable(m.Tables, n)
		if err != nil {
			return fmt.Errorf("%s: %s in backup %s", key, err, d.chosen.key)
		}
		for _, k := range ks {
			named[k] = true
		}
	}
	only := map[tableKey]bool{}
	for _, t := range m.Tables {
		k := tableKey{t.Database, t.Name}
		if named[k] == (key == "tables") {
			only[k] = true
		}
	}
	if len(only) == 0 {
		return fmt.Errorf("exclude_tables leaves none of the %d tables of backup %s to drill", len(m.Tables), d.chosen.key)
	}
	d.only = only
	d.rec.Subset = len(only) < len(m.Tables)
	if n := len(m.Objects); n > 0 && d.rec.Subset {
		d.note("subset drill: %d views, triggers and routines are not loaded (they may refer to the tables left out)", n)
	}
	return nil
}

// matchTable finds the manifest tables a drill's table name means: the
// qualified name db.table if one matches, else the bare name in whichever
// database holds it, which must be one.
func matchTable(tables []backup.Table, name string) ([]tableKey, error) {
	var exact, bare []tableKey
	for _, t := range tables {
		k := tableKey{t.Database, t.Name}
		switch name {
		case t.Database + "." + t.Name:
			exact = append(exact, k)
		case t.Name:
			bare = append(bare, k)
		}
	}
	switch {
	case len(exact) > 0:
		return exact, nil
	case len(bare) == 1:
		return bare, nil
	case len(bare) > 1:
		var q []string
		for _, k := range bare {
			q = append(q, k.db+"."+k.name)
		}
		slices.Sort(q)
		return nil, fmt.Errorf("%q names %d tables (%s): write database.table", name, len(bare), strings.Join(q, ", "))
	}
	return nil, fmt.Errorf("%q names no table", name)
}

// loadFilter is what the engine's load asks of each table statement.
func (d *drill) loadFilter() func(db, table string) bool {
	if d.only == nil {
		return nil
	}
	return func(db, table string) bool { return d.only[tableKey{db, table}] }
}

// subsetSkipped counts the statements a subset load left out.
func subsetSkipped(lr *engine.LoadResult) int {
	n := 0
	for k, v := range lr.Skipped {
		if strings.HasPrefix(k, engine.SubsetSkip) {
			n += v
		}
	}
	return n
}
