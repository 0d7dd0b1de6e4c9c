package mysql

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/atrest/atrest/engine"
)

func splitAll(t testing.TB, r io.Reader) ([]string, bool, error) {
	t.Helper()
	sp := newSplitter(r, 1<<20)
	var out []string
	for {
		s, _, err := sp.next(nil)
		if err == io.EOF {
			return out, sp.complete, nil
		}
		if err != nil {
			return out, sp.complete, err
		}
		out = append(out, string(s))
	}
}

func TestSplitter(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"plain", "SELECT 1;\nSELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		{"quotes hold delimiters", `INSERT INTO t VALUES ('a;b',"c;d",'it\'s','x''y','\\');`,
			[]string{`INSERT INTO t VALUES ('a;b',"c;d",'it\'s','x''y','\\')`}},
		{"escaped backslash before quote", `SELECT 'a\\';SELECT 2;`, []string{`SELECT 'a\\'`, "SELECT 2"}},
		{"backtick", "CREATE TABLE `a;b``c` (x int);", []string{"CREATE TABLE `a;b``c` (x int)"}},
		{"backtick has no escapes", "SELECT `a\\`;SELECT 1;", []string{"SELECT `a\\`", "SELECT 1"}},
		{"leading comments trimmed", "-- c;\n# d;\n/* e; */ SELECT 1;", []string{"SELECT 1"}},
		{"comment inside kept", "SELECT 1 -- x;'\n + 1;", []string{"SELECT 1 -- x;'\n + 1"}},
		{"block comment inside", "SELECT /* ; ' */ 1;", []string{"SELECT /* ; ' */ 1"}},
		{"double dash without space is minus", "SELECT 1--1;", []string{"SELECT 1--1"}},
		{"conditional comment is code", "/*!40101 SET NAMES utf8 */;\n/*!40103 SET TIME_ZONE='+00:00' */;",
			[]string{"/*!40101 SET NAMES utf8 */", "/*!40103 SET TIME_ZONE='+00:00' */"}},
		{"delimiter", "DELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT ';;'; END;;\nDELIMITER ;\nSELECT 2;",
			[]string{"CREATE PROCEDURE p() BEGIN SELECT 1; SELECT ';;'; END", "SELECT 2"}},
		{"delimiter lower case, $$", "delimiter $$\nSELECT 1; SELECT 2$$\ndelimiter ;\n", []string{"SELECT 1; SELECT 2"}},
		{"empty statements", ";;\n;SELECT 1;;", []string{"SELECT 1"}},
		{"sandbox line", "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump\nSELECT 1;", []string{"SELECT 1"}},
		{"crlf", "SELECT 1;\r\nSELECT 2;\r\n", []string{"SELECT 1", "SELECT 2"}},
		{"newline in string", "INSERT INTO t VALUES ('a\nb;c');", []string{"INSERT INTO t VALUES ('a\nb;c')"}},
		{"only comments", "-- nothing\n/* here */\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(c.in), iotest.OneByteReader(strings.NewReader(c.in))} {
				got, _, err := splitAll(t, r)
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
					t.Fatalf("got %q\nwant %q", got, c.want)
				}
			}
		})
	}
}

func TestSplitterTruncated(t *testing.T) {
	for _, in := range []string{
		"INSERT INTO t VALUES (1),(2)", // cut at a row boundary: valid SQL, but not a whole statement
		"INSERT INTO t VALUES ('abc",
		"SELECT 1 /* never closed",
		"SELECT `x",
		"SELECT 'a\\",
	} {
		_, _, err := splitAll(t, strings.NewReader(in))
		if !errors.Is(err, engine.ErrTruncated) {
			t.Errorf("%q: err = %v, want engine.ErrTruncated", in, err)
		}
	}
}

func TestSplitterTrailer(t *testing.T) {
	_, complete, err := splitAll(t, strings.NewReader("SELECT 1;\n\n-- Dump completed on 2026-01-01 00:00:00\n"))
	if err != nil || !complete {
		t.Fatalf("complete = %v, %v; want true", complete, err)
	}
	_, complete, _ = splitAll(t, strings.NewReader("-- Dump completed on x\nSELECT 1;\n"))
	if complete {
		t.Fatal("trailer followed by a statement counted as complete")
	}
	_, complete, _ = splitAll(t, strings.NewReader("SELECT 1;\n"))
	if complete {
		t.Fatal("no trailer counted as complete")
	}
}

func TestSplitterLines(t *testing.T) {
	sp := newSplitter(strings.NewReader("SELECT 1;\n-- c\nSELECT 'a\nb';\n\nSELECT 3;"), 1<<20)
	var lines []int
	for {
		_, line, err := sp.next(nil)
		if err != nil {
			break
		}
		lines = append(lines, line)
	}
	if len(lines) != 3 || lines[0] != 1 || lines[1] != 3 || lines[2] != 6 {
		t.Fatalf("lines %v, want [1 3 6]", lines)
	}
}

func TestSplitterMaxStatement(t *testing.T) {
	sp := newSplitter(strings.NewReader("INSERT INTO t VALUES ('"+strings.Repeat("x", 5000)+"');"), 1000)
	if _, _, err := sp.next(nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

// FuzzSplitter: any input splits without panicking, and the same way
// whatever the sizes of the reads.
func FuzzSplitter(f *testing.F) {
	for _, s := range []string{
		"SELECT 1;", "DELIMITER ;;\nSELECT 1;;\nDELIMITER ;\n", "INSERT INTO t VALUES ('a\\'b', \"c\", `d`);",
		"/*!40101 SET x=1 */;-- c\n#d\n/* e */", "SELECT 'unterminated", "/*M!999999\\- sandbox */\nSELECT 2;",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		a, ca, ea := splitAll(t, bytes.NewReader(in))
		b, cb, eb := splitAll(t, iotest.OneByteReader(bytes.NewReader(in)))
		if strings.Join(a, "\x00") != strings.Join(b, "\x00") || ca != cb || (ea == nil) != (eb == nil) {
			t.Fatalf("bulk %q %v %v\none-byte %q %v %v", a, ca, ea, b, cb, eb)
		}
		for _, s := range a {
			if s == "" {
				t.Fatalf("empty statement from %q", in)
			}
		}
	})
}
