package postgres

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/atrest/atrest/engine"
)

// items splits a script the way the loader does and returns what it saw:
// "sql: …", "copy: … | data", "meta: …".
func items(t testing.TB, in string) ([]string, error) {
	t.Helper()
	s := newScript(strings.NewReader(in), 1<<20)
	var out []string
	for {
		it, err := s.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch it.kind {
		case itemSQL:
			out = append(out, "sql: "+string(it.text))
		case itemMeta:
			out = append(out, "meta: "+string(it.text))
		case itemCopy:
			stmt := string(it.text)
			data, err := io.ReadAll(s.copyData())
			if err != nil {
				return out, err
			}
			out = append(out, "copy: "+stmt+" | "+string(data))
		}
	}
}

func TestScript(t *testing.T) {
	in := `-- a comment; with a semicolon
SET client_encoding = 'UTF8';
\restrict abc
CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;b' $body$;
CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); INSERT INTO u VALUES (2));
SELECT E'it\'s;', 'don''t;', "we;ird", $$x;$$, $1 /* c; /* nested; */ */;
COPY public.t (a, b) FROM stdin;
1	x;y
2	\N
\.
COPY (SELECT 1) TO STDOUT;
\unrestrict abc
`
	got, err := items(t, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"sql: SET client_encoding = 'UTF8'",
		`meta: \restrict abc`,
		"sql: CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;b' $body$",
		"sql: CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); INSERT INTO u VALUES (2))",
		`sql: SELECT E'it\'s;', 'don''t;', "we;ird", $$x;$$, $1  `,
		"copy: COPY public.t (a, b) FROM stdin | 1\tx;y\n2\t\\N\n",
		"sql: COPY (SELECT 1) TO STDOUT",
		`meta: \unrestrict abc`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestScriptTruncated(t *testing.T) {
	for _, in := range []string{
		"SELECT 'open",
		"CREATE FUNCTION f() AS $$ body",
		"SELECT 1 /* open comment",
		"COPY t (a) FROM stdin;\n1\n2\n",
		"INSERT INTO t VALUES (1)",
	} {
		if _, err := items(t, in); !errors.Is(err, engine.ErrTruncated) {
			t.Errorf("%q: %v, want ErrTruncated", in, err)
		}
	}
}

func TestTrailer(t *testing.T) {
	for in, want := range map[string]bool{
		"x;\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict k\n\n": true,
		"x;\n-- PostgreSQL database dump complete\n":                               true,
		"x;\n-- PostgreSQL database dump complete\nSELECT 1;\n":                    false,
		"": false,
	} {
		if got := endsWithTrailer([]byte(in)); got != want {
			t.Errorf("endsWithTrailer(%q) = %v", in, got)
		}
	}
}

func TestClassify(t *testing.T) {
	for in, want := range map[string]string{
		"ALTER TABLE public.t OWNER TO app":                      "skip ALTER … OWNER TO",
		"GRANT SELECT ON t TO app":                               "skip GRANT",
		"CREATE ROLE app":                                        "skip CREATE ROLE",
		"CREATE DATABASE x":                                      "skip CREATE DATABASE",
		"ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES":           "skip ALTER DEFAULT PRIVILEGES",
		"SET ROLE app":                                           "skip SET ROLE",
		"SET SESSION AUTHORIZATION app":                          "skip SET ROLE",
		"SET search_path = x":                                    "run SET",
		"SELECT pg_catalog.set_config('search_path', '', false)": "run SET",
		"COPY t FROM '/etc/passwd'":                              "skip COPY",
		"CREATE SUBSCRIPTION s CONNECTION 'host=x'":              "skip CREATE SUBSCRIPTION",
		"CREATE TABLE t (a int)":                                 "run CREATE TABLE",
		"CREATE UNIQUE INDEX i ON t (a)":                         "run CREATE UNIQUE INDEX",
	} {
		verb, skip := classify(item{kind: itemSQL, text: []byte(in)})
		got := "run " + verb
		if skip {
			got = "skip " + verb
		}
		if got != want {
			t.Errorf("classify(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestCustomArchive: the committed archives (pg_dump 15 -Fc, compressed
// and not, with a large object) print as pg_restore would, and every
// damage is named: a cut is a truncation, a flipped byte in the data a
// malformed archive.
func TestCustomArchive(t *testing.T) {
	for _, name := range []string{"testdata/small.dump", "testdata/small-uncompressed.dump"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		a, st, err := customScript(bytes.NewReader(raw), &out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sql := out.String()
		for _, want := range []string{"CREATE TABLE public.t", "COPY public.t (id, v) FROM stdin;\n1\ta\n2\tb\\tc\n3\t\\N\n\\.\n", "CREATE VIEW public.w", Trailer} {
			if !strings.Contains(sql, want) {
				t.Errorf("%s: the script lacks %q", name, want)
			}
		}
		if st.largeObjects != 1 || a.dbName != "fz" || !strings.HasPrefix(a.dumpedBy, "15.") {
			t.Errorf("%s: %+v, archive of %s by %s", name, st, a.dbName, a.dumpedBy)
		}
		if _, err := (Engine{}).CheckDump(bytes.NewReader(raw)); err != nil {
			t.Errorf("%s: check: %v", name, err)
		}
		for _, cut := range []int{3, 40, len(raw) / 2, len(raw) - 1} {
			if _, err := (Engine{}).CheckDump(bytes.NewReader(raw[:cut])); !errors.Is(err, engine.ErrTruncated) {
				t.Errorf("%s cut at %d: %v, want ErrTruncated", name, cut, err)
			}
		}
	}
	raw, _ := os.ReadFile("testdata/small.dump")
	bad := append([]byte{}, raw...)
	bad[bytes.Index(bad, []byte{0x78, 0x9c})+4] ^= 0x55 // inside the first block's zlib stream
	if _, err := (Engine{}).CheckDump(bytes.NewReader(bad)); err == nil {
		t.Error("a flipped byte in compressed data went unnoticed")
	}
	if _, err := (Engine{}).CheckDump(bytes.NewReader(append(raw, 0))); !errors.Is(err, engine.ErrMalformed) {
		t.Errorf("a byte after the archive: %v", err)
	}
}

// FuzzScript: any input either splits or fails with an error, within the
// statement limit, and never panics or loops.
func FuzzScript(f *testing.F) {
	for _, s := range []string{
		"SELECT 1;", "COPY t (a) FROM stdin;\n1\n\\.\n", "\\connect x\nSELECT $a$;$a$;",
		"SELECT E'\\'';", "/* /* */ */ SELECT ';';", "CREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 2);",
		"$1;$$", "COPY t FROM STDIN;", "-- PostgreSQL database dump complete\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s := newScript(bytes.NewReader(in), 4096)
		for range len(in) + 2 {
			it, err := s.next()
			if err != nil {
				return
			}
			if len(it.text) > 4096 {
				t.Fatalf("statement of %d bytes over the limit", len(it.text))
			}
			if it.kind == itemCopy {
				if err := s.copyData().drain(); err != nil {
					return
				}
			}
		}
		t.Fatal("more items than input bytes")
	})
}

// FuzzCustomArchive: damaged or hostile archives are refused with an
// error, never a panic, and never allocate beyond their bounds.
func FuzzCustomArchive(f *testing.F) {
	for _, name := range []string{"testdata/small.dump", "testdata/small-uncompressed.dump"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:len(raw)/2])
	}
	f.Add([]byte("PGDMP\x01\x0e\x00\x04\x08\x01"))
	f.Fuzz(func(t *testing.T, in []byte) {
		customScript(bytes.NewReader(in), io.Discard)
	})
}
