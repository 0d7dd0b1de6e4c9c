package dbsrc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/internal/testenv"
)

// insert fills table with n rows made by row (SQL literals, comma-joined).
func insert(t testing.TB, c *sql.DB, table string, n int, row func(i int) string) {
	t.Helper()
	for i := 0; i < n; i += 500 {
		var vals []string
		for j := i; j < min(n, i+500); j++ {
			vals = append(vals, "("+row(j)+")")
		}
		if _, err := c.Exec("INSERT INTO " + table + " VALUES " + strings.Join(vals, ",")); err != nil {
			t.Fatalf("insert into %s: %v", table, err)
		}
	}
}

func q(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestGeneratedSchema: a schema unlike the corpus, with a settlement-serial
// column whose values pass the ID check ~9% of the time.
func TestGeneratedSchema(t *testing.T) {
	srv := testenv.MariaDB(t)
	name := srv.CreateDatabase(t, "gen")
	c := srv.Open(t, name)
	srv.Exec(t, "CREATE TABLE `"+name+"`.js_jsmx (jsid BIGINT UNSIGNED PRIMARY KEY, jslsh CHAR(18) COMMENT '结算流水号', "+
		"gmsfhm CHAR(18), lxdh BIGINT, beizhu VARCHAR(200), rzxx TEXT, yhkh DECIMAL(19,0), je DECIMAL(12,2)) ENGINE=InnoDB")
	r := mrand.New(mrand.NewPCG(11, 11))
	insert(t, c, "js_jsmx", 5000, func(i int) string {
		remark := "无"
		if r.Float64() < 0.4 {
			remark = "患者本人 " + genID(r) + " 已核验"
		}
		return fmt.Sprintf("%d,%s,%s,%s,%s,%s,%s,%d.%02d", 1e15+uint64(i)*977, q(genSerial(r)), q(genID(r)),
			genMobile(r), q(remark), q(genNote(r, 0.03)), genCard(r), r.IntN(9999), r.IntN(100))
	})
	recs, err := scan(t, Options{DSN: crypto.NewSecret(srv.DSN), Databases: []string{name}, Sample: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"jslsh":  "none",
		"gmsfhm": "plaintext/cn_resident_id",
		"lxdh":   "plaintext/cn_mobile",
		"beizhu": "plaintext/cn_resident_id",
		"rzxx":   "none",
		"yhkh":   "plaintext/bank_card",
		"jsid":   "none",
	}
	cols := columns(recs)
	for col, w := range want {
		v := cols[name+".js_jsmx."+col]
		if v == nil {
			t.Errorf("%s: no verdict", col)
			continue
		}
		got := v.State
		if v.State != StateNone {
			got += "/" + string(v.Type)
		}
		if got != w {
			t.Errorf("%s: %s, want %s (%s)", col, got, w, v.Reason)
		}
	}
	if v := cols[name+".js_jsmx.jslsh"]; v != nil && (v.PassRate < 0.04 || v.PassRate > 0.15) {
		t.Errorf("serial pass rate %.3f, want ≈ 0.09", v.PassRate)
	}
	if _, ok := cols[name+".js_jsmx.je"]; ok {
		t.Error("an amount (DECIMAL(12,2)) was sampled")
	}
	tb := tablesOf(recs)[name+".js_jsmx"]
	if tb == nil || tb.Method != "key_ranges" || tb.Sampled != 1000 {
		t.Fatalf("table record %+v", tb)
	}
	assertNoLeak(t, jsonl(t, recs))
}

// TestEncryptedAtRest reads encryption at rest on a server with the
// file_key_management plugin: as root (tablespace view) and as a
// SELECT-only user (table options and the server default).
func TestEncryptedAtRest(t *testing.T) {
	srv := testenv.EncryptedMariaDB(t)
	name := srv.CreateDatabase(t, "enc")
	srv.Exec(t,
		"CREATE TABLE `"+name+"`.enc_yes (id INT PRIMARY KEY, sfzh CHAR(18)) ENCRYPTED=YES",
		"CREATE TABLE `"+name+"`.enc_default (id INT PRIMARY KEY, sfzh CHAR(18))",
		"CREATE TABLE `"+name+"`.enc_no (id INT PRIMARY KEY, sfzh CHAR(18)) ENCRYPTED=NO")
	c := srv.Open(t, name)
	r := mrand.New(mrand.NewPCG(5, 5))
	for _, tb := range []string{"enc_yes", "enc_default", "enc_no"} {
		insert(t, c, tb, 50, func(i int) string { return fmt.Sprintf("%d,%s", i, q(genID(r))) })
	}
	user, pass := "reader_"+randHex(3), "Pw-"+randHex(8)
	srv.Exec(t, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, pass),
		fmt.Sprintf("GRANT SELECT ON `%s`.* TO '%s'@'%%'", name, user))
	t.Cleanup(func() { srv.Exec(t, fmt.Sprintf("DROP USER '%s'@'%%'", user)) })

	for _, as := range []struct{ who, dsn string }{{"root", srv.DSN}, {"select-only user", srv.DSNFor(user, pass, "")}} {
		recs, err := scan(t, Options{DSN: crypto.NewSecret(as.dsn), Databases: []string{name}})
		if err != nil {
			t.Fatalf("%s: %v", as.who, err)
		}
		tables := tablesOf(recs)
		for tb, want := range map[string]bool{"enc_yes": true, "enc_default": true, "enc_no": false} {
			got := tables[name+"."+tb]
			if got == nil || got.EncryptedAtRest != want {
				t.Errorf("%s: %s encrypted_at_rest = %+v, want %v", as.who, tb, got, want)
			}
		}
		cols := columns(recs)
		if v := cols[name+".enc_no.sfzh"]; v == nil || v.Severity != SeverityHigh || v.TableEncrypted {
			t.Errorf("%s: plaintext in an unencrypted table: %+v", as.who, v)
		}
		if v := cols[name+".enc_yes.sfzh"]; v == nil || v.Severity != SeverityMedium || !v.TableEncrypted {
			t.Errorf("%s: plaintext in an encrypted table: %+v", as.who, v)
		}
		srvRec := recs[0].(*ServerRecord)
		if srvRec.InnodbEncryptTables != "ON" || srvRec.Flavor != "mariadb" {
			t.Errorf("%s: server record %+v", as.who, srvRec)
		}
		if strings.Contains(string(jsonl(t, recs)), pass) {
			t.Errorf("%s: password in output", as.who)
		}
	}

	// And on a server without encryption, nothing is encrypted at rest.
	plain := testenv.MariaDB(t)
	pname := plain.CreateDatabase(t, "plain")
	plain.Exec(t, "CREATE TABLE `"+pname+"`.t (id INT PRIMARY KEY, v VARCHAR(20))")
	recs, err := scan(t, Options{DSN: crypto.NewSecret(plain.DSN), Databases: []string{pname}})
	if err != nil {
		t.Fatal(err)
	}
	if tb := tablesOf(recs)[pname+".t"]; tb == nil || tb.EncryptedAtRest {
		t.Errorf("unencrypted server: %+v", tb)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestSelectOnlyUser: a user with SELECT on one table and INSERT (no SELECT)
// on another scans the first, reports the second as unreadable and goes on.
func TestSelectOnlyUser(t *testing.T) {
	srv := testenv.MariaDB(t)
	name := srv.CreateDatabase(t, "priv")
	srv.Exec(t,
		"CREATE TABLE `"+name+"`.a_readable (id INT PRIMARY KEY, sjhm VARCHAR(11))",
		"CREATE TABLE `"+name+"`.b_locked (id INT PRIMARY KEY, sjhm VARCHAR(11))",
		"CREATE TABLE `"+name+"`.c_readable (id INT PRIMARY KEY, sjhm VARCHAR(11))")
	c := srv.Open(t, name)
	r := mrand.New(mrand.NewPCG(9, 9))
	for _, tb := range []string{"a_readable", "b_locked", "c_readable"} {
		insert(t, c, tb, 100, func(i int) string { return fmt.Sprintf("%d,%s", i, q(genMobile(r))) })
	}
	user, pass := "sel_"+randHex(3), "Sel-"+randHex(8)
	srv.Exec(t, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, pass),
		fmt.Sprintf("GRANT SELECT ON `%s`.a_readable TO '%s'@'%%'", name, user),
		fmt.Sprintf("GRANT SELECT ON `%s`.c_readable TO '%s'@'%%'", name, user),
		fmt.Sprintf("GRANT INSERT ON `%s`.b_locked TO '%s'@'%%'", name, user))
	t.Cleanup(func() { srv.Exec(t, fmt.Sprintf("DROP USER '%s'@'%%'", user)) })

	recs, err := scan(t, Options{DSN: crypto.NewSecret(srv.DSNFor(user, pass, "")), Databases: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	tables := tablesOf(recs)
	if tb := tables[name+".b_locked"]; tb == nil || !strings.Contains(tb.Error, "denied") {
		t.Errorf("unreadable table not reported: %+v", tb)
	}
	cols := columns(recs)
	for _, tb := range []string{"a_readable", "c_readable"} {
		if v := cols[name+"."+tb+".sjhm"]; v == nil || v.State != StatePlaintext {
			t.Errorf("%s: %+v", tb, v)
		}
	}
	if strings.Contains(string(jsonl(t, recs)), pass) {
		t.Error("password in output")
	}
	notes := strings.Join(recs[0].(*ServerRecord).Notes, "; ")
	if !strings.Contains(notes, "PROCESS") {
		t.Errorf("no note that encryption status came from table options: %q", notes)
	}
}

// TestNoKey: a table without any index is read from the start, with the
// reason stated, and never beyond the sample.
func TestNoKey(t *testing.T) {
	srv := testenv.MariaDB(t)
	name := srv.CreateDatabase(t, "nokey")
	srv.Exec(t, "CREATE TABLE `"+name+"`.heap (sfzh VARCHAR(18), note VARCHAR(40)) ENGINE=InnoDB")
	c := srv.Open(t, name)
	r := mrand.New(mrand.NewPCG(2, 2))
	insert(t, c, "heap", 3000, func(i int) string { return fmt.Sprintf("%s,'x'", q(genID(r))) })
	srv.Exec(t, "ANALYZE TABLE `"+name+"`.heap")
	recs, err := scan(t, Options{DSN: crypto.NewSecret(srv.DSN), Databases: []string{name}, Sample: 200})
	if err != nil {
		t.Fatal(err)
	}
	tb := tablesOf(recs)[name+".heap"]
	if tb == nil || tb.Method != "head" || tb.Sampled != 200 || !strings.Contains(tb.Reason, "no index") {
		t.Fatalf("table record %+v", tb)
	}
	if v := columns(recs)[name+".heap.sfzh"]; v == nil || v.State != StatePlaintext {
		t.Fatalf("verdict %+v", v)
	}
}

// handlerReads sums the server's Handler_read_* counters: rows the storage
// engine handed to the SQL layer, whatever the plan.
func handlerReads(t testing.TB, c *sql.DB) int64 {
	t.Helper()
	rows, err := c.Query("SHOW GLOBAL STATUS LIKE 'Handler_read%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sum int64
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

// TestSampleCostIndependentOfSize: sampling a 200k-row table reads about as
// many rows as sampling a 2k-row one, and never more than the sample plus
// the seeks, where a full scan or ORDER BY RAND() would read all 200k.
func TestSampleCostIndependentOfSize(t *testing.T) {
	srv := testenv.MariaDB(t)
	c := srv.Open(t, "")
	reads := map[int]int64{}
	const sample = 500
	for _, n := range []int{2000, 200000} {
		name := srv.CreateDatabase(t, fmt.Sprintf("size%d", n))
		srv.Exec(t,
			"CREATE TABLE `"+name+"`.t (id BIGINT PRIMARY KEY, sjhm CHAR(11), note VARCHAR(32))",
			fmt.Sprintf("INSERT INTO `%s`.t SELECT seq, CONCAT('138', LPAD(seq, 8, '0')), 'x' FROM `%s`.seq_1_to_%d", name, name, n),
			"ANALYZE TABLE `"+name+"`.t")
		before := handlerReads(t, c)
		recs, err := scan(t, Options{DSN: crypto.NewSecret(srv.DSN), Databases: []string{name}, Sample: sample})
		if err != nil {
			t.Fatal(err)
		}
		reads[n] = handlerReads(t, c) - before
		tb := tablesOf(recs)[name+".t"]
		if tb == nil || tb.Sampled != sample || tb.Method != "key_ranges" {
			t.Fatalf("%d rows: table record %+v", n, tb)
		}
		if v := columns(recs)[name+".t.sjhm"]; v == nil || v.Sampled != sample {
			t.Fatalf("%d rows: column %+v", n, v)
		}
	}
	t.Logf("handler reads: 2k rows %d, 200k rows %d", reads[2000], reads[200000])
	// The scan's own information_schema and status queries read some rows
	// too; what matters is that the big table costs no more than the small.
	if reads[200000] > 3*sample+2000 || reads[200000] > 2*reads[2000]+1000 {
		t.Fatalf("sampling 200k rows read %d rows (2k rows: %d)", reads[200000], reads[2000])
	}
}

// TestServerGoneMidScan: the server dies after the first table is emitted.
// The records already emitted stand, the error names the table being read,
// and the password appears nowhere.
func TestServerGoneMidScan(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private server")
	}
	srv := testenv.NewMariaDB(t, testenv.Config{})
	srv.Exec(t, "CREATE DATABASE yb")
	c := srv.Open(t, "yb")
	r := mrand.New(mrand.NewPCG(4, 4))
	for i := range 40 {
		srv.Exec(t, fmt.Sprintf("CREATE TABLE yb.t%02d (id INT PRIMARY KEY, sfzh CHAR(18))", i))
		insert(t, c, fmt.Sprintf("t%02d", i), 200, func(j int) string { return fmt.Sprintf("%d,%s", j, q(genID(r))) })
	}
	pass := "Gone-" + randHex(8)
	srv.Exec(t, "CREATE USER 'scanner'@'%' IDENTIFIED BY '"+pass+"'", "GRANT SELECT ON yb.* TO 'scanner'@'%'")

	var emitted []any
	killed := false
	err := Scan(context.Background(), Options{Engine: mysql.Engine{}, DSN: crypto.NewSecret(srv.DSNFor("scanner", pass, "")), Parallel: 1, Sample: 100, Seed: 1},
		func(rec any) {
			emitted = append(emitted, rec)
			if _, ok := rec.(*TableRecord); ok && !killed {
				killed = true
				srv.Kill(t)
			}
		})
	if err == nil {
		t.Fatal("no error after the server went away")
	}
	if strings.Contains(err.Error(), pass) {
		t.Fatalf("password in error: %v", err)
	}
	m := regexp.MustCompile(`^scan db: sample yb\.(t\d\d): `).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("error does not name the table: %v", err)
	}
	t.Logf("error: %v", err)
	tables := tablesOf(emitted)
	if tb := tables["yb.t00"]; tb == nil || tb.Error != "" {
		t.Fatalf("first table's record lost: %+v", tb)
	}
	if v := columns(emitted)["yb.t00.sfzh"]; v == nil || v.State != StatePlaintext {
		t.Fatalf("first table's verdict lost: %+v", v)
	}
	if tb := tables["yb."+m[1]]; tb == nil || tb.Error == "" {
		t.Errorf("failed table %s has no record with its error: %+v", m[1], tb)
	}
	if strings.Contains(string(jsonl(t, emitted)), pass) {
		t.Fatal("password in output")
	}
}

// TestConnectErrorHidesPassword: an unreachable server and a wrong password
// give errors that say what and where, without the password.
func TestConnectErrorHidesPassword(t *testing.T) {
	srv := testenv.MariaDB(t)
	for _, dsn := range []string{
		"u:Secret-Pw-123@tcp(127.0.0.1:1)/?timeout=2s",
		srv.DSNFor("nobody", "Secret-Pw-123", ""),
	} {
		_, err := scan(t, Options{DSN: crypto.NewSecret(dsn)})
		if err == nil {
			t.Fatalf("no error")
		}
		if strings.Contains(err.Error(), "Secret-Pw-123") || !strings.HasPrefix(err.Error(), "scan db: connect ") {
			t.Fatalf("error %q", err)
		}
	}
	if _, err := scan(t, Options{DSN: crypto.NewSecret(srv.DSN), Databases: []string{"no_such_db_x"}}); err == nil ||
		!strings.Contains(err.Error(), "no_such_db_x") {
		t.Fatalf("missing database: %v", err)
	}
}

// TestSessionLimits: each sampling connection carries the statement time
// limit (MariaDB's max_statement_time), and a tiny limit is not rounded to
// 0, which would mean none.
// TestDSNDatabase: a DSN naming a database scans that database only.
func TestDSNDatabase(t *testing.T) {
	srv := testenv.MariaDB(t)
	a, b := srv.CreateDatabase(t, "dsn_a"), srv.CreateDatabase(t, "dsn_b")
	srv.Exec(t, "CREATE TABLE `"+a+"`.t (id INT PRIMARY KEY)", "CREATE TABLE `"+b+"`.t (id INT PRIMARY KEY)")
	recs, err := scan(t, Options{DSN: crypto.NewSecret(srv.DSNFor("root", "", a))})
	if err != nil {
		t.Fatal(err)
	}
	tables := tablesOf(recs)
	if len(tables) != 1 || tables[a+".t"] == nil {
		t.Fatalf("tables %v", tables)
	}
}

// TestVariedSchema: identifiers in other encodings than the corpus's — full
// width, +86 with grouping, DECIMAL card numbers, a JSON column, a GBK
// column — and protection done by the server itself (AES_ENCRYPT as hex,
// base64 and binary; MD5), with hints only in comments.
func TestVariedSchema(t *testing.T) {
	srv := testenv.MariaDB(t)
	name := srv.CreateDatabase(t, "varied")
	srv.Exec(t, "CREATE TABLE `"+name+"`.t_cbry (ryid INT AUTO_INCREMENT PRIMARY KEY, "+
		"xm VARCHAR(20) COMMENT '姓名', zjhm VARCHAR(60) COMMENT '证件号码', lxfs VARCHAR(30), "+
		"c_003 VARCHAR(64) COMMENT '身份证号(加密)', c_004 VARBINARY(32), c_005 CHAR(32), c_006 VARCHAR(64), "+
		"kh DECIMAL(19,0), ext JSON, c_011 VARCHAR(20) COMMENT '身份证号(脱敏)', bz TEXT CHARACTER SET gbk, lsh CHAR(18)) "+
		"DEFAULT CHARSET=utf8mb4")
	c := srv.Open(t, name)
	r := mrand.New(mrand.NewPCG(21, 21))
	full := func(s string) string {
		var b strings.Builder
		for _, ch := range s {
			b.WriteRune(ch - '0' + '０')
		}
		return b.String()
	}
	insert(t, c, "t_cbry(xm, zjhm, lxfs, c_003, c_004, c_005, c_006, kh, ext, c_011, bz, lsh)", 1500, func(i int) string {
		id, mob, card := genID(r), genMobile(r), genCard(r)
		zj := id
		if i%3 == 0 && id[17] != 'X' {
			zj = full(id)
		}
		bz := "已办结"
		if r.Float64() < 0.4 {
			bz = "参保人身份证" + genID(r) + "，已核对"
		}
		return fmt.Sprintf("'张三',%s,%s,HEX(AES_ENCRYPT(%s,'k1')),AES_ENCRYPT(%s,'k1'),UPPER(MD5(%s)),TO_BASE64(AES_ENCRYPT(%s,'k1')),%s,%s,%s,%s,%s",
			q(zj), q("+86 "+mob[:3]+" "+mob[3:7]+" "+mob[7:]), q(id), q(mob), q(id), q(card), card,
			q(`{"mobile": "`+mob+`", "lvl": 2}`), q(id[:6]+"××××××××"+id[14:]), q(bz), q(genSerial(r)))
	})
	recs, err := scan(t, Options{DSN: crypto.NewSecret(srv.DSN), Databases: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"xm":    "none",
		"zjhm":  "plaintext/cn_resident_id",
		"lxfs":  "plaintext/cn_mobile",
		"c_003": "encrypted",
		"c_004": "encrypted",
		"c_005": "hashed",
		"c_006": "encrypted",
		"kh":    "plaintext/bank_card",
		"ext":   "plaintext/cn_mobile",
		"c_011": "masked/cn_resident_id",
		"bz":    "plaintext/cn_resident_id",
		"lsh":   "none",
	}
	if tb := tablesOf(recs)[name+".t_cbry"]; tb == nil || tb.Sampled != 1000 || tb.Method != "key_ranges" {
		t.Errorf("table record %+v, want 1000 rows by key ranges", tb)
	}
	cols := columns(recs)
	for col, w := range want {
		v := cols[name+".t_cbry."+col]
		if v == nil {
			t.Errorf("%s: no verdict", col)
			continue
		}
		got := v.State
		if v.State == StatePlaintext || v.State == StateMasked {
			got += "/" + string(v.Type)
		}
		if got != w {
			t.Errorf("%s: %s, want %s (%s)", col, got, w, v.Reason)
		}
		t.Logf("%s: %s/%s %s confidence, severity %q; %s; %s", col, v.State, v.Type, v.Confidence, v.Severity, v.Hint, v.Reason)
	}
	assertNoLeak(t, jsonl(t, recs))
}
