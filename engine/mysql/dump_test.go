package mysql_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	. "github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// trickyPalette holds the bytes and characters that break naive dumpers.
var trickyPalette = []string{
	"'", "\"", "\\", "\n", "\r", "\x00", "\x1a", "\t", ";", "--", "/*", "*/", "#", "`",
	"😀", "中文", "医保", "é", "DELIMITER ;;", "\\'", "''", "%", "_", " ", "x", "0",
}

// trickyString returns up to maxLen characters from the palette.
func trickyString(r *rand.Rand, maxLen int) string {
	var b []rune
	for n := r.IntN(maxLen + 1); len(b) < n; {
		b = append(b, []rune(trickyPalette[r.IntN(len(trickyPalette))])...)
	}
	return string(b[:min(len(b), maxLen)])
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randFloat32(r *rand.Rand) float32 {
	for {
		f := math.Float32frombits(r.Uint32())
		if !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) {
			return f
		}
	}
}

func randFloat64(r *rand.Rand) float64 {
	for {
		f := math.Float64frombits(r.Uint64())
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

// nullable returns v, or nil about one time in six.
func nullable(r *rand.Rand, v any) any {
	if r.IntN(6) == 0 {
		return nil
	}
	return v
}

// createTricky makes a database with every awkward type, a table without a
// key holding duplicate rows, foreign keys, odd names, a view on a view, a
// trigger, a procedure and a function.
func createTricky(t testing.TB, srv *testenv.DB, rows int) string {
	t.Helper()
	name := srv.CreateDatabase(t, "dumpsrc")
	q := func(s string) string { return "`" + name + "`." + s }
	srv.Exec(t,
		"CREATE TABLE "+q("tricky")+` (
			id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
			ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT UNSIGNED, i INT, bi BIGINT, biu BIGINT UNSIGNED,
			d19 DECIMAL(19,0), d12 DECIMAL(12,2), f FLOAT, dbl DOUBLE,
			dt DATE, dtm DATETIME(6), ts TIMESTAMP NULL DEFAULT NULL, tm TIME(3), yr YEAR, bt BIT(5),
			ch CHAR(10), vc VARCHAR(200), bin BINARY(8), vb VARBINARY(64), bl BLOB, tx TEXT, js JSON,
			en ENUM('a','b','c'), st SET('x','y','z'),
			gen BIGINT AS (bi DIV 2) VIRTUAL,
			KEY (vc(20))
		) DEFAULT CHARSET=utf8mb4`,
		"CREATE TABLE "+q("dups")+" (a INT, b VARCHAR(10)) DEFAULT CHARSET=utf8mb4",
		"CREATE TABLE "+q("parent")+" (id INT PRIMARY KEY, name VARCHAR(50)) DEFAULT CHARSET=utf8mb4",
		"CREATE TABLE "+q("child")+" (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES parent(id)) DEFAULT CHARSET=utf8mb4",
		"CREATE TABLE "+q("`表 x``y`")+" (`列 1` INT, `we``ird` VARCHAR(20)) DEFAULT CHARSET=utf8mb4",
		"CREATE TABLE "+q("empty")+" (id INT PRIMARY KEY) DEFAULT CHARSET=utf8mb4",
		"CREATE TABLE "+q("audit")+" (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(100)) DEFAULT CHARSET=utf8mb4",
	)
	db := srv.Open(t, name)
	r := rand.New(rand.NewPCG(1, uint64(rows)))
	ins, err := db.Prepare(`INSERT INTO tricky (ti,tiu,si,mi,i,bi,biu,d19,d12,f,dbl,dt,dtm,ts,tm,yr,bt,ch,vc,bin,vb,bl,tx,js,en,st)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() // on failure: an open transaction would block DROP DATABASE
	stmt := tx.Stmt(ins)
	for n := 0; n < rows; n++ {
		js := fmt.Sprintf(`{"k": %s, "n": [1, 2.5, null], "u": "\u00e9\ud83d\ude00"}`, strconv.Quote(trickyString(r, 8)))
		_, err := stmt.Exec(
			nullable(r, int8(r.Uint32())), nullable(r, uint8(r.Uint32())), nullable(r, int16(r.Uint32())),
			nullable(r, r.Uint32()%16777216), nullable(r, int32(r.Uint32())), nullable(r, int64(r.Uint64())),
			nullable(r, r.Uint64()),
			nullable(r, fmt.Sprintf("%d", int64(r.Uint64()))), nullable(r, fmt.Sprintf("%d.%02d", r.IntN(1e9)-5e8, r.IntN(100))),
			nullable(r, randFloat32(r)), nullable(r, randFloat64(r)),
			nullable(r, fmt.Sprintf("%04d-%02d-%02d", 1000+r.IntN(9000), 1+r.IntN(12), 1+r.IntN(28))),
			nullable(r, fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d", 1000+r.IntN(9000), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e6))),
			nullable(r, fmt.Sprintf("20%02d-%02d-%02d %02d:%02d:%02d", 1+r.IntN(36), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))),
			nullable(r, fmt.Sprintf("%d:%02d:%02d.%03d", r.IntN(838)-419, r.IntN(60), r.IntN(60), r.IntN(1000))),
			nullable(r, 1901+r.IntN(255)),
			nullable(r, []byte{byte(r.IntN(32))}),
			nullable(r, strings.TrimRight(trickyString(r, 3), " ")), nullable(r, trickyString(r, 60)),
			nullable(r, randBytes(r, r.IntN(9))), nullable(r, randBytes(r, r.IntN(65))), nullable(r, randBytes(r, r.IntN(3000))),
			nullable(r, trickyString(r, 400)), nullable(r, js),
			nullable(r, []string{"a", "b", "c"}[r.IntN(3)]), nullable(r, []string{"", "x", "x,y", "y,z", "x,y,z"}[r.IntN(5)]),
		)
		if err != nil {
			t.Fatalf("insert row %d: %v", n, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	srv.Exec(t,
		"INSERT INTO "+q("tricky")+" (id, f, dbl, d19, d12, biu, bi, dtm, bt, vc) VALUES "+
			"(1000000, 3.4028234663852886e38, 1.7976931348623157e308, 9999999999999999999, -9999999999.99, 18446744073709551615, -9223372036854775808, '9999-12-31 23:59:59.999999', b'11111', ''),"+
			"(1000001, -1.17549435e-38, 4.9e-324, -9999999999999999999, 0.01, 0, 9223372036854775807, '1000-01-01 00:00:00', b'0', NULL),"+
			"(1000002, 16777217, 0.1, 0, 0, 1, 0, '2024-02-29 12:00:00.5', b'1', 'x')",
		"INSERT INTO "+q("dups")+" VALUES (1,'a'),(1,'a'),(2,NULL),(NULL,NULL),(NULL,NULL),(1,'a')",
		"INSERT INTO "+q("parent")+" VALUES (1,'one'),(2,'two'),(3,'three')",
		"INSERT INTO "+q("child")+" VALUES (10,1),(11,1),(12,3),(13,NULL)",
		"INSERT INTO "+q("`表 x``y`")+" VALUES (1,'a`b'),(2,'😀')",
		"CREATE VIEW "+q("v_parent")+" AS SELECT id, UPPER(name) AS uname FROM "+q("parent")+" WHERE id > 1",
		"CREATE VIEW "+q("a_view_on_view")+" AS SELECT uname FROM "+q("v_parent"),
		"CREATE TRIGGER "+q("parent_bi")+" BEFORE INSERT ON "+q("parent")+" FOR EACH ROW BEGIN INSERT INTO audit (msg) VALUES (CONCAT('ins;', NEW.name)); SET NEW.name = LOWER(NEW.name); END",
		"CREATE PROCEDURE "+q("count_children")+"(IN p INT, OUT n INT) BEGIN SELECT COUNT(*) INTO n FROM child WHERE parent_id = p; END",
		"CREATE FUNCTION "+q("add_one")+"(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
	)
	return name
}

// dumpTo dumps to a file and returns its path and the result.
func dumpTo(t testing.TB, srv *testenv.DB, opts Options) (string, *Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dump.sql")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Dump(context.Background(), srv.DSN, opts, f)
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, res
}

func loadFile(t testing.TB, srv *testenv.DB, target, path string, opts LoadOptions) *LoadResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Load(context.Background(), srv.DSN, target, f, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return res
}

// checkRestored asserts that every dumped table of src has the same rows,
// digest and DDL hash in dst, and no table is missing or extra.
func checkRestored(t testing.TB, srv *testenv.DB, dumped []TableResult, src, dst string) {
	t.Helper()
	got, err := Digests(context.Background(), srv.DSN, dst, 3)
	if err != nil {
		t.Fatalf("Digests(%s): %v", dst, err)
	}
	byName := map[string]TableResult{}
	for _, r := range got {
		byName[r.Name] = r
	}
	n := 0
	for _, want := range dumped {
		if want.Database != src {
			continue
		}
		n++
		r, ok := byName[want.Name]
		if !ok {
			t.Errorf("table %s missing after restore", want.Name)
			continue
		}
		if r.Rows != want.Rows || r.Digest != want.Digest || r.DDLHash != want.DDLHash {
			t.Errorf("table %s: restored rows %d digest %s ddl %s; dumped %d %s %s",
				want.Name, r.Rows, r.Digest[:12], r.DDLHash[:12], want.Rows, want.Digest[:12], want.DDLHash[:12])
		}
		// The single-table entry point agrees with the bulk one.
		rows, digest, err := TableDigest(context.Background(), srv.DSN, dst, want.Name)
		if err != nil || rows != want.Rows || digest != want.Digest {
			t.Errorf("TableDigest(%s) = %d %s %v", want.Name, rows, digest, err)
		}
	}
	if n != len(got) {
		t.Errorf("restored %d tables, dumped %d", len(got), n)
	}
}

// sameValues compares two copies of a table row by row on the server, by
// value: an oracle that does not trust the digest's reading of the rows
// (a lossy FLOAT text would read back the same on both sides).
func sameValues(t testing.TB, srv *testenv.DB, a, b, table string) {
	t.Helper()
	db := srv.Open(t, "")
	rows, err := db.Query("SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%'", a, table)
	if err != nil {
		t.Fatal(err)
	}
	var conds []string
	for rows.Next() {
		var c, typ string
		rows.Scan(&c, &typ)
		c = quoteIdent(c)
		if typ == "float" || typ == "double" {
			conds = append(conds, "x."+c+" <=> y."+c)
		} else {
			conds = append(conds, "BINARY x."+c+" <=> BINARY y."+c)
		}
	}
	rows.Close()
	var total, same int
	q := fmt.Sprintf("SELECT (SELECT COUNT(*) FROM %s.%s), COUNT(*) FROM %s.%s x JOIN %s.%s y ON x.id = y.id AND %s",
		quoteIdent(a), quoteIdent(table), quoteIdent(a), quoteIdent(table), quoteIdent(b), quoteIdent(table), strings.Join(conds, " AND "))
	if err := db.QueryRow(q).Scan(&total, &same); err != nil {
		t.Fatal(err)
	}
	if total == 0 || same != total {
		t.Errorf("%s: %d of %d rows have the same values after restore", table, same, total)
	}
}

// checkObjects runs the restored view, trigger, procedure and function.
func checkObjects(t testing.TB, srv *testenv.DB, dst string) {
	t.Helper()
	db := srv.Open(t, dst)
	var s string
	if err := db.QueryRow("SELECT GROUP_CONCAT(uname ORDER BY uname) FROM a_view_on_view").Scan(&s); err != nil || s != "THREE,TWO" {
		t.Errorf("view on view: %q, %v", s, err)
	}
	var n int
	if err := db.QueryRow("SELECT add_one(41)").Scan(&n); err != nil || n != 42 {
		t.Errorf("function: %d, %v", n, err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "CALL count_children(1, @n)"); err != nil {
		t.Fatalf("procedure: %v", err)
	}
	if err := conn.QueryRowContext(context.Background(), "SELECT @n").Scan(&n); err != nil || n != 2 {
		t.Errorf("procedure result %d, %v", n, err)
	}
	// The trigger fires on new rows, and did not fire while loading.
	var before int
	db.QueryRow("SELECT COUNT(*) FROM audit").Scan(&before)
	if before != 0 {
		t.Errorf("audit has %d rows after restore: the trigger fired during the load", before)
	}
	if _, err := db.Exec("INSERT INTO parent VALUES (4, 'FOUR')"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT name FROM parent WHERE id = 4").Scan(&s); err != nil || s != "four" {
		t.Errorf("trigger did not run: %q, %v", s, err)
	}
	if err := db.QueryRow("SELECT msg FROM audit").Scan(&s); err != nil || s != "ins;FOUR" {
		t.Errorf("trigger body: %q, %v", s, err)
	}
}

func TestDumpLoadRoundTrip(t *testing.T) {
	srv := testenv.MariaDB(t)
	// Sessions default to a zone other than UTC, so TIMESTAMP values shift
	// if any step reads or writes them outside the dump's +00:00.
	srv.Exec(t, "SET GLOBAL time_zone = '+08:00'")
	t.Cleanup(func() { srv.Open(t, "").Exec("SET GLOBAL time_zone = SYSTEM") })
	src := createTricky(t, srv, 1500)
	for _, p := range []struct{ dump, load int }{{1, 1}, {3, 4}} {
		t.Run(fmt.Sprintf("dump%d_load%d", p.dump, p.load), func(t *testing.T) {
			path, res := dumpTo(t, srv, Options{Databases: []string{src}, Parallel: p.dump, StatementBytes: 16 << 10})
			if res.Parallel != p.dump {
				t.Errorf("dump used %d connections, asked for %d (notes %v)", res.Parallel, p.dump, res.Notes)
			}
			if len(res.Tables) != 7 || len(res.Views) != 2 || len(res.Triggers) != 1 || len(res.Routines) != 2 {
				t.Fatalf("dumped %d tables %d views %d triggers %d routines", len(res.Tables), len(res.Views), len(res.Triggers), len(res.Routines))
			}
			for _, tr := range res.Tables {
				var n int64
				srv.Open(t, src).QueryRow("SELECT COUNT(*) FROM " + quoteIdent(tr.Name)).Scan(&n)
				if tr.Rows != n {
					t.Errorf("%s: dumped %d rows, table has %d", tr.Name, tr.Rows, n)
				}
			}
			sql, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimRight(string(sql), "\n"), "\n")
			if !strings.HasPrefix(lines[len(lines)-1], "-- Dump completed on ") {
				t.Errorf("last line %q, want the -- Dump completed trailer", lines[len(lines)-1])
			}
			if bytes.Contains(sql, []byte("`"+src+"`.")) {
				t.Error("a statement names the source database")
			}
			if res.Bytes != int64(len(sql)) {
				t.Errorf("Result.Bytes %d, file has %d", res.Bytes, len(sql))
			}

			// Through Load, into another name.
			dst := srv.CreateDatabase(t, "dumpdst")
			lr := loadFile(t, srv, dst, path, LoadOptions{Parallel: p.load})
			if !lr.Complete || lr.Bytes != int64(len(sql)) {
				t.Errorf("load: complete %v, read %d of %d bytes", lr.Complete, lr.Bytes, len(sql))
			}
			loaded := map[string]int64{}
			for _, lt := range lr.Tables {
				if lt.Database != dst {
					t.Errorf("loaded into %s", lt.Database)
				}
				loaded[lt.Name] = lt.Rows
			}
			for _, tr := range res.Tables {
				if loaded[tr.Name] != tr.Rows {
					t.Errorf("%s: load reports %d rows, dumped %d", tr.Name, loaded[tr.Name], tr.Rows)
				}
			}
			checkRestored(t, srv, res.Tables, src, dst)
			sameValues(t, srv, src, dst, "tricky")
			checkObjects(t, srv, dst)

			// Through the mariadb client, after rewriting the USE lines.
			cli := srv.CreateDatabase(t, "dumpcli")
			rewritten := filepath.Join(t.TempDir(), "rewritten.sql")
			rewriteUse(t, path, rewritten, src, cli)
			srv.Load(t, rewritten)
			checkRestored(t, srv, res.Tables, src, cli)
			checkObjects(t, srv, cli)
		})
	}
}

// rewriteUse does by hand what an operator restoring under another name
// would: the dump names its database on CREATE DATABASE and USE lines only.
func rewriteUse(t testing.TB, in, out, from, to string) {
	t.Helper()
	src, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(dst)
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		for _, p := range []string{"CREATE DATABASE IF NOT EXISTS ", "USE "} {
			if strings.HasPrefix(line, p+quoteIdent(from)) {
				line = p + quoteIdent(to) + line[len(p)+len(quoteIdent(from)):]
				n++
			}
		}
		w.WriteString(line + "\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	if n != 2 {
		t.Fatalf("rewrote %d lines, want CREATE DATABASE and USE", n)
	}
}

func TestDigestSensitivity(t *testing.T) {
	srv := testenv.MariaDB(t)
	name := srv.CreateDatabase(t, "digest")
	srv.Exec(t,
		"CREATE TABLE `"+name+"`.a (id INT PRIMARY KEY, v VARCHAR(20), f FLOAT, d DECIMAL(12,2))",
		"CREATE TABLE `"+name+"`.b (id INT PRIMARY KEY, v VARCHAR(20), f FLOAT, d DECIMAL(12,2))",
		"CREATE TABLE `"+name+"`.c (id INT, v VARCHAR(20), f FLOAT, d DECIMAL(12,2))",
		"INSERT INTO `"+name+"`.a VALUES (1,'x',0.1,1.10),(2,'y',16777216,2.00),(3,NULL,NULL,NULL)",
		// Same rows, another insertion (and, without a key, storage) order.
		"INSERT INTO `"+name+"`.b VALUES (3,NULL,NULL,NULL),(1,'x',0.1,1.10),(2,'y',16777216,2.00)",
		"INSERT INTO `"+name+"`.c VALUES (2,'y',16777216,2.00),(3,NULL,NULL,NULL),(1,'x',0.1,1.10)",
	)
	ctx := context.Background()
	digest := func(table string) string {
		n, d, err := TableDigest(ctx, srv.DSN, name, table)
		if err != nil || n != 3 {
			t.Fatalf("%s: %d rows, %v", table, n, err)
		}
		return d
	}
	a := digest("a")
	if digest("b") != a || digest("c") != a {
		t.Fatal("row order changed the digest")
	}
	for _, change := range []string{
		"UPDATE `" + name + "`.b SET v = 'X' WHERE id = 1",               // case only
		"UPDATE `" + name + "`.b SET v = 'x', f = 16777218 WHERE id = 2", // a FLOAT beyond MariaDB's 6 printed digits
		"UPDATE `" + name + "`.b SET f = 16777216, d = 2.01 WHERE id = 2",
		"UPDATE `" + name + "`.b SET d = 2.00, v = '' WHERE id = 3", // NULL → empty string
	} {
		srv.Exec(t, change)
		if digest("b") == a {
			t.Errorf("digest unchanged after %s", change)
		}
	}
	if _, _, err := TableDigest(ctx, srv.DSN, name, "nosuch"); err == nil {
		t.Error("digest of a missing table succeeded")
	}
}

func TestLoadMysqldump(t *testing.T) {
	dumpBin, err := exec.LookPath("mariadb-dump")
	if err != nil {
		if dumpBin, err = exec.LookPath("mysqldump"); err != nil {
			t.Skip("no mariadb-dump or mysqldump")
		}
	}
	srv := testenv.MariaDB(t)
	src := createTricky(t, srv, 300)
	// mysqldump prints FLOAT with 6 digits, which loses data (Dump reads it
	// exactly); leave FLOAT out of what is compared.
	srv.Exec(t, "ALTER TABLE `"+src+"`.tricky DROP COLUMN f")
	want, err := Digests(context.Background(), srv.DSN, src, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"single", []string{src}},
		{"databases", []string{"--databases", src}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--no-defaults", "-h" + srv.Host, "-P" + strconv.Itoa(srv.Port), "-u" + srv.User,
				"--single-transaction", "--routines", "--triggers", "--hex-blob", "--default-character-set=utf8mb4",
				"--net-buffer-length=16384"}, tc.args...)
			cmd := exec.Command(dumpBin, args...)
			cmd.Env = append(os.Environ(), "MYSQL_PWD="+srv.Password)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", dumpBin, err)
			}
			dst := srv.CreateDatabase(t, "fromdump")
			res, err := Load(context.Background(), srv.DSN, dst, bytes.NewReader(out), LoadOptions{Parallel: 3, SourceDatabases: []string{src}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete {
				t.Error("mariadb-dump's trailer not seen")
			}
			if res.Skipped["LOCK TABLES"] == 0 {
				t.Errorf("LOCK TABLES not skipped: %v", res.Skipped)
			}
			byName := map[string]TableResult{}
			for _, w := range want {
				byName[w.Name] = w
			}
			checkRestored(t, srv, want, src, dst)
			checkObjects(t, srv, dst)
			for _, lt := range res.Tables {
				if lt.Rows != byName[lt.Name].Rows {
					t.Errorf("%s: loaded %d rows, source has %d", lt.Name, lt.Rows, byName[lt.Name].Rows)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	srv := testenv.MariaDB(t)
	ctx := context.Background()
	const secret = "110105194912310021"
	dump := "CREATE TABLE t (id VARCHAR(30) PRIMARY KEY, v VARCHAR(30));\n" +
		"INSERT INTO t VALUES (1, 'a');\n" +
		"INSERT INTO t VALUES (2, 'b'),\n(3, 'c');\n" +
		"INSERT INTO t VALUES ('" + secret + "', 'x'), ('" + secret + "', 'y');\n"
	for _, par := range []int{1, 3} {
		dst := srv.CreateDatabase(t, "loaderr")
		_, err := Load(ctx, srv.DSN, dst, strings.NewReader(dump), LoadOptions{Parallel: par})
		le, ok := err.(*LoadError)
		if !ok {
			t.Fatalf("parallel %d: err %v (%T), want *LoadError", par, err, err)
		}
		if le.Statement != 4 || le.Line != 5 || le.Verb != "INSERT" || le.Table != quoteIdent(dst)+".`t`" || !le.Refused {
			t.Errorf("parallel %d: %+v", par, le)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows a value: %v", err)
		}
		if !strings.Contains(err.Error(), "Duplicate entry") {
			t.Errorf("error lost the server's message: %v", err)
		}
	}

	// Cut short inside a statement, and cut at a statement boundary.
	full := dump[:strings.Index(dump, "INSERT INTO t VALUES ('")]
	dst := srv.CreateDatabase(t, "loadcut")
	_, err := Load(ctx, srv.DSN, dst, strings.NewReader(full+"INSERT INTO t VALUES (4, 'd'),(5"), LoadOptions{})
	if le, ok := err.(*LoadError); !ok || !le.Truncated() {
		t.Errorf("truncated dump: %v", err)
	}
	res, err := Load(ctx, srv.DSN, srv.CreateDatabase(t, "loadcut"), strings.NewReader(full), LoadOptions{})
	if err != nil || res.Complete || res.Rows != 3 {
		t.Errorf("dump without trailer: %+v, %v; want incomplete with 3 rows", res, err)
	}

	// A failing reader (age authentication, say) surfaces as itself, even
	// when it fails inside a string.
	errAuth := errors.New("age: authentication failed")
	_, err = Load(ctx, srv.DSN, srv.CreateDatabase(t, "loadrd"),
		io.MultiReader(strings.NewReader(full+"INSERT INTO t VALUES ('4"), iotest.ErrReader(errAuth)), LoadOptions{Parallel: 2})
	if le, ok := err.(*LoadError); !ok || !errors.Is(err, errAuth) || le.Refused {
		t.Errorf("reader failure: %v", err)
	}

	// A dump of two databases needs a rename rule.
	two := "CREATE DATABASE a;\nUSE a;\nCREATE TABLE t (id INT);\nCREATE DATABASE b;\nUSE b;\nCREATE TABLE t (id INT);\n"
	_, err = Load(ctx, srv.DSN, srv.CreateDatabase(t, "two"), strings.NewReader(two), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "Rename") {
		t.Errorf("two databases into one: %v", err)
	}
	da, db := srv.CreateDatabase(t, "two_a"), srv.CreateDatabase(t, "two_b")
	res, err = Load(ctx, srv.DSN, "", strings.NewReader(two), LoadOptions{Rename: func(s string) string {
		return map[string]string{"a": da, "b": db}[s]
	}})
	if err != nil || len(res.Tables) != 2 || res.Tables[0].Database != da || res.Tables[1].Database != db {
		t.Errorf("rename: %+v, %v", res, err)
	}

	// Statements that reach beyond the loaded database are skipped.
	guarded := "DROP DATABASE IF EXISTS mysql;\nSET GLOBAL max_connections = 1;\nCREATE USER evil;\nCREATE TABLE t (id INT);\n"
	res, err = Load(ctx, srv.DSN, srv.CreateDatabase(t, "guard"), strings.NewReader(guarded), LoadOptions{})
	if err != nil || res.Skipped["DROP DATABASE"] != 1 || res.Skipped["SET GLOBAL"] != 1 || res.Skipped["CREATE USER"] != 1 {
		t.Errorf("guarded: %+v, %v", res, err)
	}
	var mc int
	srv.Open(t, "").QueryRow("SELECT @@max_connections").Scan(&mc)
	if mc == 1 {
		t.Fatal("SET GLOBAL ran")
	}
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
