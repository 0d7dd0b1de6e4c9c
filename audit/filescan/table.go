package filescan

import (
	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/audit/dbsrc"
	"github.com/atrest/atrest/audit/filesrc"
)

// table judges the columns of a database table found in a file (SQLite) by
// scan db's rules, and emits a column record for each, with the file as the
// database. It returns the number of plaintext columns.
func (s *Scanner) table(t *filesrc.Table, path, member string, send func(audit.Record)) (int, error) {
	judges := make([]*dbsrc.ColumnJudge, len(t.Columns))
	for i, c := range t.Columns {
		judges[i] = dbsrc.NewColumnJudge(c.Name, c.Type, "", s.opts.Fingerprint)
	}
	_, err := t.Sample(func(row [][]byte) {
		for i, v := range row {
			if i < len(judges) {
				judges[i].Add(v)
			}
		}
	})
	plain := 0
	for _, j := range judges {
		v := j.Verdict()
		v.Database, v.Table = path, member
		if v.State == dbsrc.StatePlaintext {
			plain++
		}
		send(v)
	}
	return plain, err
}
