package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/atrest/atrest/internal/testenv"
)

// TestScanDBUnreadableTableExit3 is issue 16.4 for scan db: a table that
// could not be sampled makes the scan exit 3 (ran, found nothing wrong in
// what it read, could not read everything), never 0; plaintext found
// elsewhere still exits 1, which wins over 3.
func TestScanDBUnreadableTableExit3(t *testing.T) {
	db := testenv.MariaDB(t)
	name := db.CreateDatabase(t, "exit3")
	db.Exec(t,
		"CREATE TABLE `"+name+"`.orders (id INT PRIMARY KEY, note VARCHAR(40))",
		"INSERT INTO `"+name+"`.orders SELECT seq, CONCAT('订单 ', seq) FROM `"+name+"`.seq_1_to_200",
		"CREATE TABLE `"+name+"`.locked (id INT PRIMARY KEY, sjhm VARCHAR(11))",
		"INSERT INTO `"+name+"`.locked SELECT seq, CONCAT('1381234', LPAD(seq, 4, '0')) FROM `"+name+"`.seq_1_to_200",
		"CREATE TABLE `"+name+"`.people (id INT PRIMARY KEY, sjhm VARCHAR(11))",
		"INSERT INTO `"+name+"`.people SELECT seq, CONCAT('1391234', LPAD(seq, 4, '0')) FROM `"+name+"`.seq_1_to_200")
	user, pass := "exit3_"+randSuffix(), "Exit3-Pw-"+randSuffix()
	db.Exec(t, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, pass),
		fmt.Sprintf("GRANT SELECT ON `%s`.orders TO '%s'@'%%'", name, user),
		fmt.Sprintf("GRANT INSERT ON `%s`.locked TO '%s'@'%%'", name, user))
	t.Cleanup(func() { db.Exec(t, fmt.Sprintf("DROP USER '%s'@'%%'", user)) })
	dsn := db.DSNFor(user, pass, "")

	out, stderr, code := atrest(t, "scan", "db", "--dsn", dsn, "--database", name, "--format", "jsonl")
	t.Logf("exit %d: %s", code, strings.TrimSpace(stderr))
	if code != exitPartial || !strings.Contains(stderr, "1 table(s) could not be sampled") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("unreadable table: exit %d, want 3; stderr %q", code, stderr)
	}
	var errs int
	for _, r := range records(t, out) {
		if r["record"] == "table" && r["error"] != nil {
			errs++
		}
		if r["record"] == "summary" && r["table_errors"] != float64(1) {
			t.Errorf("summary %v", r)
		}
	}
	if errs != 1 {
		t.Errorf("%d table records with an error, want 1", errs)
	}

	// Plaintext in what could be read: 1 wins over 3.
	db.Exec(t, fmt.Sprintf("GRANT SELECT ON `%s`.people TO '%s'@'%%'", name, user))
	if _, stderr, code := atrest(t, "scan", "db", "--dsn", dsn, "--database", name, "--format", "jsonl"); code != exitFound {
		t.Errorf("plaintext beside an unreadable table: exit %d, want 1: %s", code, stderr)
	}
	// Everything it sees read, and clean: 0.
	db.Exec(t, fmt.Sprintf("REVOKE SELECT ON `%s`.people FROM '%s'@'%%'", name, user),
		fmt.Sprintf("REVOKE INSERT ON `%s`.locked FROM '%s'@'%%'", name, user))
	if _, stderr, code := atrest(t, "scan", "db", "--dsn", dsn, "--database", name, "--format", "jsonl"); code != exitOK {
		t.Errorf("clean and whole: exit %d, want 0: %s", code, stderr)
	}
}

func randSuffix() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}
