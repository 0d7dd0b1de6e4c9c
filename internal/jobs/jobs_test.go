package jobs

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine/pick"
	"github.com/atrest/atrest/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func residentID(n int) string {
	body := fmt.Sprintf("11010519491231%03d", n%1000)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, x := range w {
		sum += int(body[i]-'0') * x
	}
	return body + string("10X98765432"[sum%11])
}

// A database scan's entry names the column that holds plaintext (and says
// nothing of the clean one), never a value.
func TestDBScanEntryNamesColumns(t *testing.T) {
	db := testenv.MariaDB(t)
	name := db.CreateDatabase(t, "jobs")
	var rows []string
	for i := 1; i <= 200; i++ {
		rows = append(rows, fmt.Sprintf("(%d, '%s', 'note %d')", i, residentID(i), i))
	}
	db.Exec(t, "CREATE TABLE `"+name+"`.cb_ryxx (id INT PRIMARY KEY, zjhm CHAR(18), bz VARCHAR(40))",
		"INSERT INTO `"+name+"`.cb_ryxx VALUES "+strings.Join(rows, ","))
	eng, err := pick.Engine("", db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	run := NewDBRun(DBScan{Subject: "yb", Engine: eng, DSN: db.DSN, Databases: []string{name}})
	fp := crypto.NewFingerprinter([]byte("0123456789abcdef0123456789abcdef"))
	sum, e, err := run.Run(context.Background(), fp, func(any) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if sum.PlaintextColumns != 1 || e.Outcome != "findings" || len(e.Items) != 1 {
		t.Fatalf("summary %+v, entry %+v", sum, e)
	}
	it := e.Items[0]
	if it.Kind != "column" || it.Name != name+".cb_ryxx.zjhm" || it.State != "plaintext" || it.Type != "cn_resident_id" {
		t.Errorf("item %+v", it)
	}
	if strings.Contains(fmt.Sprintf("%+v", e), residentID(1)) {
		t.Error("a raw identifier in the entry")
	}
}
