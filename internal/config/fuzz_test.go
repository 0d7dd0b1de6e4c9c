package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// FuzzParse: a config file is typed by people and copied between hosts;
// whatever it holds, Parse never panics or hangs, and refuses it in one
// line that names the file (file:line where there is a line), or accepts
// it whole: an accepted config parses again to the same result.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../../configs/atrest.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, s := range []string{
		"state_dir: /tmp/x\n",
		"state_dir: /tmp/x\nfile_rots: []\n",
		"journal:\n  retention: 1d\n",
		"backups:\n  - name: a\n    source: nope\n",
		"sources:\n  - name: s\n    dsn_env: X\n    scan_schedule: \"61 * * * *\"\n",
		"a: &a [*a]\n",
		"state_dir: !!binary aGVsbG8=\n",
		"- 1\n- 2\n",
		"{",
		"\t",
		"backups:\n  - name: b\n    rpo: 99999999999999d\n",
		"state_dir: x\nstate_dir: y\n",
	} {
		f.Add([]byte(s))
	}
	const path = "/etc/atrest/fuzz.yaml"
	lineRef := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `(:\d+)?: `)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(path, data)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("multi-line error %q", msg)
			}
			if !lineRef.MatchString(msg) {
				t.Fatalf("error does not begin with the file (and line): %q", msg)
			}
			return
		}
		again, err := Parse(path, data)
		if err != nil || again.StateDir != c.StateDir || len(again.Backups) != len(c.Backups) || len(again.Sources) != len(c.Sources) {
			t.Fatalf("accepted once, not the same the second time: %v", err)
		}
	})
}
