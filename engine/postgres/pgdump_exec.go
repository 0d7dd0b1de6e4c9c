package postgres

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/atrest/atrest/engine"
	"github.com/jackc/pgx/v5/pgconn"
)

// findPgDump finds pg_dump: on the PATH, else the newest of Debian's
// /usr/lib/postgresql/<version>/bin.
func findPgDump() (string, error) {
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	if len(dirs) > 0 {
		return dirs[0], nil
	}
	return "", errors.New("pg_dump not found: a PostgreSQL backup takes its schema from pg_dump; install postgresql-client of the server's major version or newer")
}

func majorOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// pgDumpArgs runs pg_dump for the schema sections of a dump.
type pgDumpArgs struct {
	bin      string
	dsn      string
	snapshot string
	schemas  []string // none: the whole database
}

// section runs pg_dump --section=name in the dump's snapshot and copies
// its script to out: owners and grants left out (as a drill restores as
// its own user), "CREATE SCHEMA public" made idempotent (pg_dump writes it
// when public is named, and every new database has it), and pg_dump's
// trailer dropped, since the dump is not complete until atrest's own.
func (a pgDumpArgs) section(ctx context.Context, name string, out *engine.Output) error {
	conninfo, password, err := withoutPassword(a.dsn)
	if err != nil {
		return err
	}
	args := []string{"--dbname=" + conninfo, "--snapshot=" + a.snapshot, "--section=" + name,
		"--no-owner", "--no-privileges", "--no-security-labels", "--no-subscriptions", "--no-publications"}
	for _, s := range a.schemas {
		args = append(args, `--schema="`+strings.ReplaceAll(s, `"`, `""`)+`"`)
	}
	cmd := exec.CommandContext(ctx, a.bin, args...)
	// The password goes through the environment, never the command line
	// that ps shows.
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGAPPNAME=atrest")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pg_dump: %w", err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	for sc.Scan() {
		line := sc.Bytes()
		switch string(line) {
		case Trailer:
			continue
		case "CREATE SCHEMA public;":
			line = []byte("CREATE SCHEMA IF NOT EXISTS public;")
		}
		out.Put(append(line, '\n'))
	}
	serr := sc.Err()
	if serr != nil {
		cmd.Process.Kill()
	}
	if err := cmd.Wait(); err != nil {
		msg := strings.Join(strings.Fields(stderr.String()), " ")
		if len(msg) > 400 {
			msg = msg[:400] + "…"
		}
		return fmt.Errorf("pg_dump --section=%s: %v: %s", name, err, msg)
	}
	if serr != nil {
		return fmt.Errorf("pg_dump --section=%s: %w", name, serr)
	}
	return out.Err()
}

// withoutPassword returns the DSN without its password (for a command
// line), and the password.
func withoutPassword(dsn string) (string, string, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "", "", invalidDSN(err)
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", invalidDSN(err)
		}
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		q.Del("password")
		u.RawQuery = q.Encode()
		return u.String(), cfg.Password, nil
	}
	var kept []string
	for _, kv := range splitConninfo(dsn) {
		if !strings.HasPrefix(kv, "password=") {
			kept = append(kept, kv)
		}
	}
	return strings.Join(kept, " "), cfg.Password, nil
}

// splitConninfo cuts a keyword=value conninfo into its pairs, honouring
// single-quoted values with backslash escapes.
func splitConninfo(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(c)
			i++
			cur.WriteByte(s[i])
		case c == '\'':
			quoted = !quoted
			cur.WriteByte(c)
		case (c == ' ' || c == '\t' || c == '\n') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	// "key = value" with blanks around '=' joins back to key=value.
	var joined []string
	for i := 0; i < len(out); i++ {
		switch {
		case out[i] == "=" && len(joined) > 0 && i+1 < len(out):
			joined[len(joined)-1] += "=" + out[i+1]
			i++
		case strings.HasSuffix(out[i], "=") && i+1 < len(out) && !strings.Contains(out[i+1], "="):
			joined = append(joined, out[i]+out[i+1])
			i++
		case strings.HasPrefix(out[i], "=") && len(joined) > 0:
			joined[len(joined)-1] += out[i]
		default:
			joined = append(joined, out[i])
		}
	}
	return joined
}
