package mysql

import (
	"testing"

	"github.com/atrest/atrest/engine"
)

func TestEventStatus(t *testing.T) {
	for _, c := range []struct{ in, status, want string }{
		{"CREATE EVENT e ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE DO SELECT 1", "DISABLE",
			"CREATE EVENT e ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE DISABLE DO SELECT 1"},
		{"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE ON SLAVE COMMENT 'enable' DO SELECT 1", "DISABLE",
			"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE COMMENT 'enable' DO SELECT 1"},
		{"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1", "DISABLE",
			"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1"},
		{"/*!50106 CREATE*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY ENABLE DO SELECT 1 */", "DISABLE",
			"/*!50106 CREATE*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1 */"},
	} {
		if got := string(eventStatus([]byte(c.in), []byte(c.status))); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	// The digest does not see the status, nor the definer, quoting or blanks.
	a := objectDigest(engine.ObjEvent, "CREATE DEFINER=`a`@`%` EVENT `e` ON SCHEDULE EVERY 1 DAY ENABLE DO SELECT 1")
	b := objectDigest(engine.ObjEvent, "CREATE DEFINER=`b`@`localhost` EVENT e ON SCHEDULE EVERY 1 DAY  DISABLE DO SELECT 1")
	if a != b {
		t.Error("event digests differ by status or definer")
	}
	if a == objectDigest(engine.ObjEvent, "CREATE EVENT e ON SCHEDULE EVERY 2 DAY DO SELECT 1") {
		t.Error("the digest misses the schedule")
	}
}

func TestTableKeys(t *testing.T) {
	ddl := "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `a` int(11) DEFAULT NULL CHECK (`a` > 0),\n  `key` int,\n" +
		"  PRIMARY KEY (`id`),\n  UNIQUE KEY `u_a` (`a`),\n  KEY `k` (`key`),\n  FULLTEXT KEY `ft` (`n`),\n" +
		"  CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES `o` (`id`),\n  CONSTRAINT `chk` CHECK (`a` < 9)\n) ENGINE=InnoDB"
	var got []string
	for _, o := range tableKeys("yb", "t", ddl) {
		got = append(got, o.Type+" "+o.Name)
	}
	want := []string{"PRIMARY KEY t.PRIMARY", "UNIQUE t.u_a", "INDEX t.k", "INDEX t.ft", "FOREIGN KEY t.fk", "CHECK t.chk"}
	if len(got) != len(want) {
		t.Fatalf("keys %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("key %d: %s, want %s", i, got[i], want[i])
		}
	}
}

func TestDefinerOf(t *testing.T) {
	for in, want := range map[string]string{
		"CREATE DEFINER=`his_app`@`%` VIEW v AS SELECT 1":                      "'his_app'@'%'",
		"CREATE DEFINER='o''k'@'localhost' TRIGGER x":                          "'o''k'@'localhost'",
		"/*!50013 DEFINER=`a`@`h` SQL SECURITY DEFINER */ VIEW":                "'a'@'h'",
		"CREATE DEFINER=CURRENT_USER() PROCEDURE p() SELECT 1":                 "",
		"CREATE DEFINER=`role_x` VIEW v AS SELECT 1":                           "'role_x'@''",
		"CREATE ALGORITHM=UNDEFINED DEFINER=`u`@`%` SQL SECURITY INVOKER VIEW": "'u'@'%'",
	} {
		if got := stmtDefiner(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
		if got := stmtDefiner(in); got != "" {
			if u, h, ok := splitAccount(got); !ok || account(u, h) != got {
				t.Errorf("%s does not split back", got)
			}
		}
	}
}
