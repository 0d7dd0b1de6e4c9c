package jobs

import (
	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/audit/dbsrc"
	"github.com/atrest/atrest/audit/journal"
)

// itemCollector keeps what a scan's journal entry names (Entry.Items): the
// columns and files that hold plaintext first, then the columns stored
// masked, hashed or encrypted and the documents that were not read. Names
// only, as the records already carry them (paths are masked); bounded by
// journal.MaxItems, with the total kept for figures.items_total.
type itemCollector struct {
	first, rest []journal.Item
	total       int
}

func (c *itemCollector) add(rec any) {
	var it journal.Item
	plaintext := false
	switch r := rec.(type) {
	case audit.FileRecord:
		if r.Member != "" || (len(r.ByType) == 0 && r.NotRead == "") {
			return // members are counted in their file's record
		}
		it = journal.Item{Kind: "file", Name: r.Path, State: r.State, Counts: r.ByType}
		if r.NotRead != "" {
			it.State, it.Note = "not_read", r.NotRead
		}
		plaintext = len(r.ByType) > 0
	case *dbsrc.ColumnVerdict:
		if r.State == dbsrc.StateNone || r.State == "" {
			return
		}
		// database is the file's path for a SQLite file met by scan files.
		it = journal.Item{Kind: "column", Name: r.Database + "." + r.Table + "." + r.Column, State: r.State,
			Type: string(r.Type), Note: r.Severity}
		plaintext = r.State == dbsrc.StatePlaintext
	default:
		return
	}
	c.total++
	if plaintext {
		c.first = append(c.first, it)
	} else {
		c.rest = append(c.rest, it)
	}
}

// items returns at most journal.MaxItems items, plaintext first, and how
// many there were in all.
func (c *itemCollector) items() ([]journal.Item, int) {
	all := append(append([]journal.Item(nil), c.first...), c.rest...)
	if len(all) > journal.MaxItems {
		all = all[:journal.MaxItems]
	}
	return all, c.total
}
