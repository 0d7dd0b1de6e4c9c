package mysql

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		in    string
		kind  stmtKind
		verb  string
		table string
		db    string
	}{
		{"INSERT INTO `t` (`a`) VALUES (1)", stmtInsert, "INSERT", "t", ""},
		{"insert ignore into t values (1)", stmtInsert, "INSERT", "t", ""},
		{"INSERT INTO `src`.`t``x` VALUES (1)", stmtInsert, "INSERT", "t`x", "src"},
		{"REPLACE INTO t VALUES (1)", stmtInsert, "REPLACE", "t", ""},
		{"USE `yb`", stmtSession, "USE", "", "yb"},
		{"use yb", stmtSession, "USE", "", "yb"},
		{"/*!40101 SET NAMES utf8mb4 */", stmtSession, "SET", "", ""},
		{"SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO'", stmtSession, "SET", "", ""},
		{"SET @@SESSION.SQL_LOG_BIN= 0", stmtSession, "SET", "", ""},
		{"SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'x:1-5'", stmtSkip, "SET GLOBAL", "", ""},
		{"SET GLOBAL gtid_slave_pos='0-1-5'", stmtSkip, "SET GLOBAL", "", ""},
		{"SET PASSWORD FOR root = PASSWORD('x')", stmtSkip, "SET PASSWORD", "", ""},
		{"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `yb` /*!40100 DEFAULT CHARACTER SET utf8mb4 */", stmtOther, "CREATE DATABASE", "", "yb"},
		{"CREATE DATABASE IF NOT EXISTS `yb`", stmtOther, "CREATE DATABASE", "", "yb"},
		{"CREATE SCHEMA yb", stmtOther, "CREATE DATABASE", "", "yb"},
		{"ALTER DATABASE `yb` CHARACTER SET latin1", stmtOther, "ALTER DATABASE", "", "yb"},
		{"ALTER DATABASE CHARACTER SET latin1", stmtOther, "ALTER DATABASE", "", ""},
		{"/*!50003 ALTER DATABASE `yb` CHARACTER SET utf8mb4 */", stmtOther, "ALTER DATABASE", "", "yb"},
		{"DROP DATABASE IF EXISTS `yb`", stmtSkip, "DROP DATABASE", "", ""},
		{"/*!40000 DROP DATABASE IF EXISTS `yb`*/", stmtSkip, "DROP DATABASE", "", ""},
		{"CREATE TABLE `t` (id int)", stmtOther, "CREATE TABLE", "t", ""},
		{"CREATE TABLE IF NOT EXISTS t (id int)", stmtOther, "CREATE TABLE", "t", ""},
		{"DROP TABLE IF EXISTS `t`", stmtOther, "DROP TABLE", "t", ""},
		{"LOCK TABLES `t` WRITE", stmtSkip, "LOCK TABLES", "", ""},
		{"UNLOCK TABLES", stmtSkip, "UNLOCK TABLES", "", ""},
		{"CHANGE MASTER TO MASTER_LOG_FILE='b.000001', MASTER_LOG_POS=4", stmtSkip, "CHANGE MASTER", "", ""},
		{"GRANT ALL ON *.* TO x", stmtSkip, "GRANT ALL", "", ""},
		{"-- c\n/*!40000 ALTER TABLE `t` DISABLE KEYS */", stmtOther, "ALTER TABLE", "t", ""},
		{"CREATE DEFINER=`root`@`localhost` TRIGGER `x` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.a=1", stmtOther, "CREATE TRIGGER", "", ""},
		{"/*!50003 CREATE*/ /*!50020 DEFINER=`root`@`localhost`*/ /*!50003 PROCEDURE `p`() SELECT 1 */", stmtOther, "CREATE PROCEDURE", "", ""},
		{"CREATE OR REPLACE TEMPORARY TABLE IF NOT EXISTS `t` (id int)", stmtOther, "CREATE TABLE", "t", ""},
		{"CREATE USER 'x'@'%'", stmtSkip, "CREATE USER", "", ""},
	}
	for _, c := range cases {
		got := classify([]byte(c.in))
		if got.kind != c.kind || got.verb != c.verb || got.table != c.table || got.db != c.db {
			t.Errorf("%q: got kind %d verb %q table %q db %q; want %d %q %q %q",
				c.in, got.kind, got.verb, got.table, got.db, c.kind, c.verb, c.table, c.db)
		}
	}
}

func TestRewriteDB(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `yb` /*!40100 DEFAULT CHARACTER SET utf8mb4 */",
			"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `drill_1` /*!40100 DEFAULT CHARACTER SET utf8mb4 */"},
		{"USE yb", "USE `drill_1`"},
		{"CREATE DATABASE yb", "CREATE DATABASE IF NOT EXISTS `drill_1`"},
		{"INSERT INTO `yb`.`t` VALUES (1)", "INSERT INTO `drill_1`.`t` VALUES (1)"},
	} {
		info := classify([]byte(c.in))
		if !info.hasDB {
			t.Fatalf("%q: no database found", c.in)
		}
		if got := string(rewriteDB([]byte(c.in), info, "drill_1")); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestRewriteQualifiers(t *testing.T) {
	m := map[string]string{"yb": "drill_1"}
	for _, c := range []struct{ in, want string }{
		{"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 trigger yb.trg before insert on `yb`.t for each row insert into yb.audit (msg) values ('yb.x') */",
			"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 trigger `drill_1`.trg before insert on `drill_1`.t for each row insert into `drill_1`.audit (msg) values ('yb.x') */"},
		{"CREATE VIEW v AS SELECT `other`.`t`.`a`, yb.t.b FROM yb.t, other.yb", "CREATE VIEW v AS SELECT `other`.`t`.`a`, `drill_1`.t.b FROM `drill_1`.t, other.yb"},
		{"SELECT 1.5", "SELECT 1.5"},
	} {
		if got := string(rewriteQualifiers([]byte(c.in), m)); got != c.want {
			t.Errorf("got %q\nwant %q", got, c.want)
		}
	}
}

func TestStripDefiner(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CREATE DEFINER=`root`@`localhost` TRIGGER `x` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.a=1",
			"CREATE  TRIGGER `x` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.a=1"},
		{"CREATE ALGORITHM=UNDEFINED DEFINER='u'@'%' SQL SECURITY DEFINER VIEW `v` AS select 1",
			"CREATE ALGORITHM=UNDEFINED  SQL SECURITY DEFINER VIEW `v` AS select 1"},
		{"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER x */",
			"/*!50003 CREATE*/ /*!50017 */ /*!50003 TRIGGER x */"},
		{"CREATE DEFINER=CURRENT_USER() PROCEDURE p() SELECT 1", "CREATE  PROCEDURE p() SELECT 1"},
		{"CREATE PROCEDURE p() SELECT 1", "CREATE PROCEDURE p() SELECT 1"},
	} {
		if got := string(stripDefiner([]byte(c.in))); got != c.want {
			t.Errorf("got %q\nwant %q", got, c.want)
		}
	}
}

func TestRedactMessage(t *testing.T) {
	for _, c := range []struct{ in, want, secret string }{
		{"Duplicate entry '110105194912310021' for key 'PRIMARY'", "Duplicate entry '…' for key 'PRIMARY'", "110105"},
		{"Duplicate entry 'a'b-13800138000' for key 'uk'", "Duplicate entry '…' for key 'uk'", "13800138000"},
		{"Incorrect integer value: '13800138000' for column `d`.`t`.`c` at row 1",
			"Incorrect integer value: '…' for column `d`.`t`.`c` at row 1", "13800138000"},
		{"You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '13800138000')' at line 1",
			"You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '…' at line 1", "13800138000"},
		{"Table 'd.t' doesn't exist", "Table 'd.t' doesn't exist", ""},
		{"Data too long for column 'name' at row 3", "Data too long for column 'name' at row 3", ""},
	} {
		got := redactMessage(c.in)
		if got != c.want {
			t.Errorf("got %q\nwant %q", got, c.want)
		}
		if c.secret != "" && strings.Contains(got, c.secret) {
			t.Errorf("%q still holds %q", got, c.secret)
		}
	}
}

// FuzzClassify: the drill classifies each statement of a dump another tool
// wrote (which to run, which to skip, which database to rewrite). Whatever
// the statement, classify never panics, and a plain comment or blank lines
// before it (as mysqldump writes) never change what it is.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"INSERT INTO `t` VALUES (1)", "INSERT IGNORE INTO db.t VALUES (1)", "REPLACE INTO t VALUES (1)",
		"USE `yb`", "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `yb`", "DROP DATABASE yb", "/*!40101 SET NAMES utf8mb4 */",
		"/*M!999999\\- enable the sandbox mode */", "CREATE TABLE `a``b` (id int)", "GRANT ALL ON *.* TO x",
		"LOCK TABLES `t` WRITE", "ALTER DATABASE yb CHARACTER SET utf8", "DROP TEMPORARY TABLE IF EXISTS t",
		"CREATE DEFINER=`root`@`%` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @x = 1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		a := classify(s)
		for _, prefix := range []string{"\n\n", "/* mysqldump */ ", "-- comment\n"} {
			b := classify(append([]byte(prefix), s...))
			if a.kind != b.kind || a.verb != b.verb || a.table != b.table || a.db != b.db || a.hasDB != b.hasDB {
				t.Fatalf("%q before %q changed it: %+v, then %+v", prefix, s, a, b)
			}
		}
	})
}
