package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/internal/jobs"
)

// objects lists the keys in yb-nightly's bucket.
func (e *backupEnv) objects(t *testing.T) []string {
	t.Helper()
	return listKeys(t, e, e.vals.Bucket)
}

// complete lists the backups (data object and manifest) in e's bucket.
func (e *backupEnv) complete(t *testing.T) []string {
	t.Helper()
	keys := e.objects(t)
	var out []string
	for _, k := range keys {
		if _, manifest, ok := backup.ListedKey(k); ok && !manifest && slices.Contains(keys, backup.ManifestKey(k)) {
			out = append(out, k)
		}
	}
	return out
}

// entries reads e's journal: every entry of a kind (prefix).
func (e *backupEnv) entries(t *testing.T, kind string) []journal.Entry {
	t.Helper()
	var out []journal.Entry
	for en, err := range journal.Query(filepath.Join(e.dir, "state", "journal"), journal.Filter{Kind: kind}) {
		if err != nil {
			t.Fatalf("journal: %v", err)
		}
		out = append(out, en)
	}
	return out
}

// journaledOK is the set of keys the journal records as made: backup.run
// ok and backup.found.
func (e *backupEnv) journaledOK(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, en := range e.entries(t, "backup") {
		switch {
		case en.Kind == "backup.run" && en.Outcome == "ok":
			out[en.Detail] = true
		case en.Kind == jobs.KindBackupFound && en.Outcome == "found":
			k, _, _ := strings.Cut(en.Detail, jobs.FoundSep)
			out[k] = true
		}
	}
	return out
}

// verifyJournal runs audit verify: the record holds, whatever happened.
func (e *backupEnv) verifyJournal(t *testing.T) {
	t.Helper()
	if out, stderr, code := atrest(t, "audit", "verify", "--config", e.cfg); code != exitOK {
		t.Errorf("audit verify: exit %d\n%s%s", code, out, stderr)
	}
}

// smallDisk mounts a tmpfs of size at dir for the test (it needs root:
// without it the test is skipped, and the /dev/full test still runs).
func smallDisk(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s): a full state filesystem needs root; TestJournalCheckpointOnFullDevice covers ENOSPC without it", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}

// fill writes to a file in dir until its filesystem is full and returns
// the file, to remove when space should come back.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	// Bytes smaller than a buffer still fit: take them too.
	for {
		if _, err := f.Write(buf[:512]); err != nil {
			break
		}
	}
	return path
}

// atrestProc runs one command line as a process of its own (the test
// binary re-executed as atrest, see TestMain), for what needs one: a PID
// of its own, a kill -9, two runs at once.
func atrestProc(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	if os.Getenv("XDG_CONFIG_HOME") == "" || !strings.HasPrefix(os.Getenv("XDG_CONFIG_HOME"), os.TempDir()) {
		t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ATREST_TEST_AS_MAIN=1")
	return cmd
}

// atrestRun runs a command line in a process of its own to its end.
func atrestRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := atrestProc(t, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	}
	t.Fatalf("%v: %v", args, err)
	return "", "", -1
}
