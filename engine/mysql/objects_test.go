package mysql_test

import (
	"context"
	"strings"
	"testing"

	"github.com/atrest/atrest/engine"
	. "github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

// A CREATE the server refuses is named by its kind and object, not only
// by its statement number: the drill's failure says what a restore lacks.
// The definers a dump names are listed whether stripped or not, and
// events are created DISABLEd when asked.
func TestLoadNamesObjects(t *testing.T) {
	srv := testenv.MariaDB(t)
	ctx := context.Background()
	dump := "CREATE TABLE t (id INT PRIMARY KEY);\n" +
		"CREATE DEFINER=`his_app`@`%` SQL SECURITY DEFINER VIEW v_ok AS SELECT id FROM t;\n" +
		"/*!50106 CREATE*/ /*!50117 DEFINER=`his_app`@`%`*/ /*!50106 EVENT `ev` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t */;\n" +
		"CREATE ALGORITHM=UNDEFINED DEFINER=`other`@`localhost` SQL SECURITY DEFINER VIEW `v_bad` AS SELECT nope FROM t;\n"
	dst := srv.CreateDatabase(t, "loadobj")
	res, err := Load(ctx, srv.DSN, dst, strings.NewReader(dump), LoadOptions{StripDefiners: true, DisableEvents: true})
	le, ok := err.(*engine.LoadError)
	if !ok || le.Verb != "CREATE VIEW" || le.Object != quoteIdent(dst)+".`v_bad`" || !le.Refused {
		t.Fatalf("err %v (%+v)", err, le)
	}
	if !strings.Contains(err.Error(), "CREATE VIEW "+quoteIdent(dst)+".`v_bad`") {
		t.Errorf("error %q does not name the view", err)
	}
	if len(res.Definers) != 2 || res.Definers[0].Account != "'his_app'@'%'" || res.Definers[0].Count != 2 ||
		res.Definers[0].Objects[0] != "view "+dst+".v_ok" || res.Definers[0].Objects[1] != "event "+dst+".ev" ||
		res.Definers[1].Account != "'other'@'localhost'" {
		t.Errorf("definers %+v", res.Definers)
	}
	var status, definer string
	if err := srv.Open(t, "").QueryRow("SELECT STATUS, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = 'ev'", dst).Scan(&status, &definer); err != nil {
		t.Fatal(err)
	}
	if status != "DISABLED" || strings.HasPrefix(definer, "his_app") {
		t.Errorf("event %s, definer %s", status, definer)
	}
}
