package testenv

import (
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestMariaDBShared(t *testing.T) {
	a := MariaDB(t)
	b := MariaDB(t)
	if a != b && a.Dir != "" {
		t.Fatal("two throwaway servers for one test binary")
	}
	c := a.Open(t, "")
	var v string
	if err := c.QueryRow("SELECT VERSION()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	t.Logf("server %s on port %d", v, a.Port)
	name := a.CreateDatabase(t, "testenv")
	a.Exec(t, "CREATE TABLE `"+name+"`.t (id INT PRIMARY KEY)", "INSERT INTO `"+name+"`.t VALUES (1),(2)")
	var n int
	if err := a.Open(t, name).QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v", n, err)
	}
}

func TestEncryptedMariaDB(t *testing.T) {
	db := EncryptedMariaDB(t)
	name := db.CreateDatabase(t, "enc")
	db.Exec(t,
		"CREATE TABLE `"+name+"`.enc (id INT PRIMARY KEY) ENCRYPTED=YES",
		"CREATE TABLE `"+name+"`.plain (id INT PRIMARY KEY) ENCRYPTED=NO")
	c := db.Open(t, "")
	rows, err := c.Query("SELECT NAME, ENCRYPTION_SCHEME FROM information_schema.INNODB_TABLESPACES_ENCRYPTION WHERE NAME LIKE ?", name+"/%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var n string
		var s int
		if err := rows.Scan(&n, &s); err != nil {
			t.Fatal(err)
		}
		got[strings.TrimPrefix(n, name+"/")] = s
	}
	if got["enc"] != 1 || got["plain"] != 0 {
		t.Fatalf("encryption schemes %v, want enc=1 plain=0", got)
	}
}

func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private server")
	}
	db := NewMariaDB(t, Config{})
	db.Kill(t)
	if err := db.ping(); err == nil {
		t.Fatal("server answers after Kill")
	}
}
