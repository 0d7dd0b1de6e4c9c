package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// byHandMarker precedes the README's by-hand restore of an sm backup.
const byHandMarker = "<!-- this block is run as it stands by the tests (testenv.SMRestoreByHand) -->\n```sh\n"

// SMRestoreByHand returns the README's by-hand restore of an sm backup
// (openssl, coreutils, zstd, mariadb; section "Restoring an sm backup by
// hand"), the block after its marker as it stands, with obj and key
// pointing at the test's object and SM2 private key: the tests run what
// the README tells people to run.
func SMRestoreByHand(t testing.TB, obj, key string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(moduleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), byHandMarker)
	block, _, ok2 := strings.Cut(after, "\n```\n")
	if !ok || !ok2 {
		t.Fatal("README: no by-hand sm restore block after its marker")
	}
	setObj := regexp.MustCompile(`(?m)^obj=.*$`)
	setKey := regexp.MustCompile(`(?m)^key=.*$`)
	if !setObj.MatchString(block) || !setKey.MatchString(block) {
		t.Fatal("README block does not set obj= and key=")
	}
	block = setObj.ReplaceAllLiteralString(block, "obj="+obj)
	return setKey.ReplaceAllLiteralString(block, "key="+key)
}

// moduleRoot is the directory of go.mod above the test's working directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
