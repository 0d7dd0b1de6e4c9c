package suite_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/testenv"
)

// TestRestoreByHand runs the README's commands (openssl, coreutils, zstd,
// mariadb) on an object this package wrote, into a throwaway MariaDB, and
// checks that a damaged object stops at the tag check with nothing loaded.
func TestRestoreByHand(t *testing.T) {
	for _, tool := range [][2]string{{"openssl", "openssl"}, {"zstd", "zstd"}, {"bash", "bash"}} {
		suite.NeedTool(t, tool[0], tool[1])
	}
	db := testenv.MariaDB(t)
	database := db.CreateDatabase(t, "byhand")
	dir := t.TempDir()
	keyPath, pubPath, _ := suite.OpenSSLKey(t, dir)
	pub, _ := os.ReadFile(pubPath)
	mine, err := suite.ParseRecipient(pub)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := suite.KeyPair(t, suite.SM) // a second recipient: the key id must pick the right line

	var sql bytes.Buffer
	fmt.Fprintf(&sql, "CREATE DATABASE IF NOT EXISTS `%s`;\nUSE `%s`;\n", database, database)
	sql.WriteString("CREATE TABLE psn (psn_no CHAR(20) PRIMARY KEY, name VARCHAR(40)) DEFAULT CHARSET=utf8mb4;\n")
	for i := range 3000 {
		fmt.Fprintf(&sql, "INSERT INTO psn VALUES ('P%019d','参保人%d');\n", i, i)
	}
	var obj bytes.Buffer
	w, err := suite.SM.Encrypt(&obj, []suite.Recipient{other, mine})
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := zstd.NewWriter(w)
	zw.Write(sql.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	cnf := fmt.Sprintf("[client]\nhost=%s\nport=%d\nuser=%s\npassword=%s\ndefault-character-set=utf8mb4\n", db.Host, db.Port, db.User, db.Password)
	suite.WriteFile(t, home, ".my.cnf", []byte(cnf))
	run := func(object []byte) (string, error) {
		objPath := suite.WriteFile(t, dir, "x.sql.zst.sm4", object)
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", testenv.SMRestoreByHand(t, objPath, keyPath))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	count := func() int {
		var n int
		c := db.Open(t, database)
		if err := c.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ?", database).Scan(&n); err != nil || n == 0 {
			return -1
		}
		if err := c.QueryRow("SELECT COUNT(*) FROM psn").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	bad := bytes.Clone(obj.Bytes())
	bad[len(bad)/2] ^= 0x20
	out, err := run(bad)
	if err == nil || !strings.Contains(out, "tag mismatch") {
		t.Fatalf("a damaged object got past the tag check: %v\n%s", err, out)
	}
	if n := count(); n != -1 {
		t.Fatalf("a damaged object loaded %d rows", n)
	}

	if out, err := run(obj.Bytes()); err != nil {
		t.Fatalf("by-hand restore: %v\n%s", err, out)
	}
	if n := count(); n != 3000 {
		t.Fatalf("by-hand restore loaded %d rows, want 3000", n)
	}
	var name string
	if err := db.Open(t, database).QueryRow("SELECT name FROM psn WHERE psn_no = 'P0000000000000002999'").Scan(&name); err != nil || name != "参保人2999" {
		t.Fatalf("row 2999: %q %v", name, err)
	}
}
