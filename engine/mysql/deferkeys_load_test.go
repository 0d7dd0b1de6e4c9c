package mysql_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"

	. "github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

// execIn runs statements with database as the default one.
func execIn(t testing.TB, srv *testenv.DB, database string, stmts ...string) {
	t.Helper()
	db := srv.Open(t, database)
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%.80s: %v", s, err)
		}
	}
}

// createKeyedTables makes a database of tables without foreign keys, one
// for each rule of DeferIndexes, and returns its name and, by table, the
// number of keys a load with DeferIndexes should hold back.
func createKeyedTables(t testing.TB, srv *testenv.DB) (string, map[string]int) {
	t.Helper()
	name := srv.CreateDatabase(t, "defersrc")
	execIn(t, srv, name,
		`CREATE TABLE a_keys (
			id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
			u VARCHAR(40) NOT NULL, a INT, b VARCHAR(200), c TEXT, d INT, e DATETIME(3),
			UNIQUE KEY u (u),
			UNIQUE KEY ad (a, d),
			KEY ab (a, b),
			KEY cp (c(10)),
			KEY dc (d) COMMENT 'why, (this) key',
			KEY ed (e DESC, d),
			KEY ign (b(20)) IGNORED
		) ENGINE=InnoDB`,
		`INSERT INTO a_keys (u, a, b, c, d, e) SELECT MD5(seq), IF(seq % 7 = 0, NULL, seq * 7919 % 5003),
			CONCAT('b', seq * 13 % 101), REPEAT(MD5(seq * 3), 1 + seq % 4), seq % 100,
			'2024-01-01' + INTERVAL (seq * 7907 % 100000) MINUTE FROM seq_1_to_3000`,
		`CREATE TABLE b_fulltext (id INT PRIMARY KEY, txt TEXT, k INT, FULLTEXT KEY ft (txt), KEY k (k)) ENGINE=InnoDB`,
		`INSERT INTO b_fulltext SELECT seq, CONCAT('word', seq % 50, ' other words'), seq * 31 % 1000 FROM seq_1_to_2000`,
		`CREATE TABLE c_versioned (id INT PRIMARY KEY, k INT, KEY k (k)) ENGINE=InnoDB WITH SYSTEM VERSIONING`,
		`INSERT INTO c_versioned SELECT seq, seq * 17 % 300 FROM seq_1_to_1000`,
		`UPDATE c_versioned SET k = k + 1 WHERE id % 10 = 0`,
		`CREATE TABLE d_partitioned (id INT PRIMARY KEY, k INT, KEY k (k)) ENGINE=InnoDB PARTITION BY HASH (id) PARTITIONS 3`,
		`INSERT INTO d_partitioned SELECT seq, seq * 29 % 500 FROM seq_1_to_1000`,
		`CREATE TABLE e_spatial (id INT PRIMARY KEY, g GEOMETRY NOT NULL, k INT, KEY k (k), SPATIAL KEY g (g)) ENGINE=InnoDB`,
		`INSERT INTO e_spatial SELECT seq, POINT(seq, seq % 37), seq % 11 FROM seq_1_to_500`,
		`CREATE TABLE f_myisam (id INT PRIMARY KEY, k INT, KEY k (k)) ENGINE=MyISAM`,
		`INSERT INTO f_myisam SELECT seq, seq % 13 FROM seq_1_to_500`,
		// Few rows, one INSERT: inserts on several connections into a
		// table with a UNIQUE … USING HASH key deadlock more often than
		// the loader retries, with or without DeferIndexes.
		`CREATE TABLE g_long_unique (id INT PRIMARY KEY, c TEXT, k INT, UNIQUE KEY uc (c) USING HASH, KEY k (k)) ENGINE=InnoDB`,
		`INSERT INTO g_long_unique SELECT seq, REPEAT(MD5(seq), 3), seq % 19 FROM seq_1_to_100`,
		`CREATE VIEW v_keys AS SELECT id, u FROM a_keys WHERE d = 1`,
	)
	return name, map[string]int{"a_keys": 7, "b_fulltext": 1, "c_versioned": 0, "d_partitioned": 1,
		"e_spatial": 0, "f_myisam": 0, "g_long_unique": 0}
}

// createForeignKeyTables makes a database where a keyed table comes before
// the first table with a foreign key: it references one table created
// before it and one created after it; a keyed table follows.
func createForeignKeyTables(t testing.TB, srv *testenv.DB) (string, map[string]int) {
	t.Helper()
	name := srv.CreateDatabase(t, "deferfk")
	execIn(t, srv, name,
		`CREATE TABLE a_parent (id INT PRIMARY KEY, code INT NOT NULL, k INT, UNIQUE KEY code (code), KEY k (k)) ENGINE=InnoDB`,
		`CREATE TABLE p_parent (id INT PRIMARY KEY, code INT NOT NULL, UNIQUE KEY code (code)) ENGINE=InnoDB`,
		`CREATE TABLE m_child (id INT PRIMARY KEY, a_code INT, p_code INT, k INT, KEY k (k),
			CONSTRAINT to_a FOREIGN KEY (a_code) REFERENCES a_parent (code),
			CONSTRAINT to_p FOREIGN KEY (p_code) REFERENCES p_parent (code)) ENGINE=InnoDB`,
		`CREATE TABLE z_after (id INT PRIMARY KEY, k INT, KEY k (k)) ENGINE=InnoDB`,
		`INSERT INTO a_parent SELECT seq, seq * 7, seq % 10 FROM seq_1_to_300`,
		`INSERT INTO p_parent SELECT seq, seq * 11 FROM seq_1_to_300`,
		`INSERT INTO m_child SELECT seq, (1 + seq % 300) * 7, (1 + seq * 7 % 300) * 11, seq % 17 FROM seq_1_to_1000`,
		`INSERT INTO z_after SELECT seq, seq % 23 FROM seq_1_to_300`,
	)
	return name, map[string]int{"a_parent": 2, "p_parent": 1, "m_child": 0, "z_after": 1}
}

// showCreateTables returns SHOW CREATE TABLE of every base table.
func showCreateTables(t testing.TB, srv *testenv.DB, database string) map[string]string {
	t.Helper()
	db := srv.Open(t, database)
	rows, err := db.Query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE LIKE '%TABLE' ORDER BY TABLE_NAME", database)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	out := map[string]string{}
	for _, n := range names {
		var name, ddl string
		if err := db.QueryRow("SHOW CREATE TABLE "+quoteIdent(n)).Scan(&name, &ddl); err != nil {
			t.Fatalf("SHOW CREATE TABLE %s: %v", n, err)
		}
		out[n] = ddl
	}
	return out
}

// checkDeferrable asserts how many keys DeferIndexes holds back from each
// table's SHOW CREATE TABLE: the rules meet the server's own output.
func checkDeferrable(t testing.TB, ddl map[string]string, want map[string]int) {
	t.Helper()
	for name, n := range want {
		if got := DeferredKeys(ddl[name]); len(got) != n {
			t.Errorf("%s: %d keys deferred (%q), want %d", name, len(got), got, n)
		}
	}
}

// checkSameDDL asserts that dst's tables have byte for byte the SHOW
// CREATE TABLE of src's.
func checkSameDDL(t testing.TB, want, got map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d tables restored, %d in the source", len(got), len(want))
	}
	for name, ddl := range want {
		if got[name] != ddl {
			t.Errorf("%s: SHOW CREATE TABLE differs after the load:\n%s\nsource:\n%s", name, got[name], ddl)
		}
	}
}

func TestLoadDeferIndexes(t *testing.T) {
	srv := testenv.MariaDB(t)
	keyed, keyedDeferred := createKeyedTables(t, srv)
	fk, fkDeferred := createForeignKeyTables(t, srv)
	for _, src := range []struct {
		db       string
		deferred map[string]int
	}{{keyed, keyedDeferred}, {fk, fkDeferred}} {
		ddl := showCreateTables(t, srv, src.db)
		checkDeferrable(t, ddl, src.deferred)
		path, res := dumpTo(t, srv, Options{Databases: []string{src.db}, StatementBytes: 16 << 10})
		for _, par := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/parallel%d", strings.SplitN(src.db, "_", 2)[0], par), func(t *testing.T) {
				dst := srv.CreateDatabase(t, "deferdst")
				lr := loadFile(t, srv, dst, path, LoadOptions{Parallel: par, DeferIndexes: true})
				if !lr.Complete {
					t.Error("load incomplete")
				}
				checkSameDDL(t, ddl, showCreateTables(t, srv, dst))
				checkRestored(t, srv, res.Tables, src.db, dst)
			})
		}
	}

	// The foreign keys hold after the load.
	dst := srv.CreateDatabase(t, "deferfkdst")
	path, _ := dumpTo(t, srv, Options{Databases: []string{fk}})
	loadFile(t, srv, dst, path, LoadOptions{Parallel: 2, DeferIndexes: true})
	_, err := srv.Open(t, dst).Exec("INSERT INTO m_child VALUES (5000, 7, 999999, 1)")
	if !isCode(err, 1452) {
		t.Errorf("a row without its parent: %v, want error 1452", err)
	}
}

// mariadbDump finds mariadb-dump or mysqldump; under CI=true a missing one
// fails the test.
func mariadbDump(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"mariadb-dump", "mysqldump"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no mariadb-dump or mysqldump: install the Debian package mariadb-client")
	}
	t.Skip("no mariadb-dump or mysqldump")
	return ""
}

func TestLoadDeferIndexesMysqldump(t *testing.T) {
	dumpBin := mariadbDump(t)
	srv := testenv.MariaDB(t)
	keyed, _ := createKeyedTables(t, srv)
	fk, _ := createForeignKeyTables(t, srv)
	for _, src := range []string{keyed, fk} {
		t.Run(strings.SplitN(src, "_", 2)[0], func(t *testing.T) {
			cmd := exec.Command(dumpBin, "--no-defaults", "-h"+srv.Host, "-P"+strconv.Itoa(srv.Port), "-u"+srv.User,
				"--single-transaction", "--hex-blob", "--default-character-set=utf8mb4", "--net-buffer-length=16384", src)
			cmd.Env = append(os.Environ(), "MYSQL_PWD="+srv.Password)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", dumpBin, err)
			}
			want, err := Digests(context.Background(), srv.DSN, src, 2)
			if err != nil {
				t.Fatal(err)
			}
			dst := srv.CreateDatabase(t, "deferdump")
			res, err := Load(context.Background(), srv.DSN, dst, bytes.NewReader(out),
				LoadOptions{Parallel: 3, SourceDatabases: []string{src}, DeferIndexes: true})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete {
				t.Error("mariadb-dump's trailer not seen")
			}
			checkSameDDL(t, showCreateTables(t, srv, src), showCreateTables(t, srv, dst))
			checkRestored(t, srv, want, src, dst)
		})
	}
}

func TestLoadDeferIndexesErrors(t *testing.T) {
	srv := testenv.MariaDB(t)
	ctx := context.Background()
	const secret = "110105194912310021"
	create := "CREATE TABLE `u` (\n" +
		"  `id` int(11) NOT NULL,\n" +
		"  `card` varchar(30) NOT NULL,\n" +
		"  PRIMARY KEY (`id`),\n" +
		"  UNIQUE KEY `card` (`card`)\n" +
		") ENGINE=InnoDB;\n"

	// Duplicates the deferred UNIQUE key let in: the ALTER that adds it
	// back fails, reported against the CREATE TABLE.
	dup := "SET UNIQUE_CHECKS=0;\n" + create +
		"INSERT INTO `u` VALUES (1, '" + secret + "'), (2, '" + secret + "');\n"
	for _, par := range []int{1, 3} {
		dst := srv.CreateDatabase(t, "deferdup")
		_, err := Load(ctx, srv.DSN, dst, strings.NewReader(dup), LoadOptions{Parallel: par, DeferIndexes: true})
		var le *LoadError
		if !errors.As(err, &le) {
			t.Fatalf("parallel %d: err %v (%T), want *LoadError", par, err, err)
		}
		if le.Statement != 2 || le.Line != 2 || le.Verb != "ALTER TABLE" || le.Table != quoteIdent(dst)+".`u`" || !le.Refused || !isCode(err, 1062) {
			t.Errorf("parallel %d: %+v", par, le)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows a value: %v", err)
		}
		if !strings.Contains(err.Error(), "Duplicate entry") || !strings.Contains(err.Error(), "deferred") {
			t.Errorf("error lost the server's message or the cause: %v", err)
		}
	}

	// The same in mysqldump's shape: the key stays deferred past ALTER
	// TABLE … DISABLE/ENABLE KEYS and the next table's DROP and CREATE,
	// and is added back at the end.
	mysqldumpShape := "DROP TABLE IF EXISTS `u`;\n" +
		"/*!40101 SET character_set_client = utf8mb4 */;\n" + create +
		"LOCK TABLES `u` WRITE;\n" +
		"/*!40000 ALTER TABLE `u` DISABLE KEYS */;\n" +
		"INSERT INTO `u` VALUES (1,'" + secret + "'),(2,'" + secret + "');\n" +
		"/*!40000 ALTER TABLE `u` ENABLE KEYS */;\n" +
		"UNLOCK TABLES;\n" +
		"DROP TABLE IF EXISTS `w`;\n" +
		"CREATE TABLE `w` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n"
	dst := srv.CreateDatabase(t, "deferdup")
	_, err := Load(ctx, srv.DSN, dst, strings.NewReader(mysqldumpShape), LoadOptions{Parallel: 2, DeferIndexes: true})
	var le *LoadError
	if !errors.As(err, &le) || le.Statement != 3 || le.Line != 3 || le.Verb != "ALTER TABLE" || !isCode(err, 1062) {
		t.Errorf("mysqldump's shape: %v", err)
	}
	var tables int
	srv.Open(t, dst).QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", dst).Scan(&tables)
	if tables != 2 {
		t.Errorf("mysqldump's shape: %d tables, want both created before the keys were added back", tables)
	}

	// INSERT IGNORE and REPLACE act on the unique keys, which are added
	// back first.
	for _, verb := range []string{"INSERT IGNORE", "REPLACE"} {
		in := create + verb + " INTO `u` VALUES (1, 'a'), (2, 'a'), (3, 'b');\n"
		dst := srv.CreateDatabase(t, "deferign")
		res, err := Load(ctx, srv.DSN, dst, strings.NewReader(in), LoadOptions{Parallel: 2, DeferIndexes: true})
		if err != nil {
			t.Fatalf("%s: %v", verb, err)
		}
		var n int
		srv.Open(t, dst).QueryRow("SELECT COUNT(*) FROM u").Scan(&n)
		if n != 2 {
			t.Errorf("%s: %d rows after the load, want 2 (%+v)", verb, n, res)
		}
	}
}

func isCode(err error, code uint16) bool {
	var me *mysqldrv.MySQLError
	return errors.As(err, &me) && me.Number == code
}
