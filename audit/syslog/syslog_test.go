package syslog

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/testenv"
)

func TestFormat(t *testing.T) {
	e := journal.Entry{Seq: 42, Time: time.Date(2026, 12, 6, 9, 30, 0, 123456000, time.FixedZone("CST", 8*3600)),
		Actor: journal.Actor{OSUser: "dba", PID: 4711}, Kind: "backup.run", Subject: `yb-nightly "x"]`, Outcome: "fail",
		Detail: "上传失败", Hash: strings.Repeat("ab", 32)}
	got := string(Format(e, "his-db01", 0))
	want := `<108>1 2026-12-06T09:30:00.123456+08:00 his-db01 atrest 4711 backup.run [atrest@32473 seq="42" kind="backup.run" outcome="fail" hash="` +
		strings.Repeat("ab", 32) + `" user="dba" subject="yb-nightly \"x\"\]"] ` + "\ufeff" + `backup.run yb-nightly "x"]: fail — 上传失败`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(Format(journal.Entry{Seq: 1, Kind: "scan files", Outcome: "ok"}, "", 0)); !strings.HasPrefix(got, `<110>1 - - atrest - scan_files [`) {
		t.Errorf("empty fields: %s", got)
	}
	long := Format(journal.Entry{Seq: 1, Kind: "k", Outcome: "ok", Detail: strings.Repeat("长", 1000)}, "h", 300)
	if len(long) > 300 || !strings.Contains(string(long), `seq="1"`) || !isUTF8(long) {
		t.Errorf("cut message: %d bytes, valid UTF-8 %v", len(long), isUTF8(long))
	}
}

func isUTF8(b []byte) bool { return strings.ToValidUTF8(string(b), "?") == string(b) }

// journalWith makes a journal in dir with entries numbered from 1.
func appendEntries(t *testing.T, dir string, key ed25519.PrivateKey, from, to int) {
	t.Helper()
	j, err := journal.Open(dir, key, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i <= to; i++ {
		if _, err := j.Append(journal.Entry{Kind: "scan.files", Subject: "exports-" + strconv.Itoa(i), Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

var seqRE = regexp.MustCompile(`\[atrest@32473 seq="(\d+)"`)

// receivedSeqs is the seq of each message received, in order of arrival.
func receivedSeqs(t *testing.T, r *testenv.Rsyslog) []int {
	t.Helper()
	var seqs []int
	for _, l := range r.Received() {
		m := seqRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("message without atrest structured data: %q", l)
		}
		n, _ := strconv.Atoi(m[1])
		seqs = append(seqs, n)
	}
	return seqs
}

// waitFor polls the receiver's file until it holds at least n messages.
func waitFor(t *testing.T, r *testenv.Rsyslog, n int) []int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := receivedSeqs(t, r)
		if len(s) >= n || time.Now().After(deadline) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inOrderNoneLost checks that 1..n all arrived and that first arrivals are
// in journal order (repeats after a reconnect are allowed).
func inOrderNoneLost(t *testing.T, seqs []int, n int) {
	t.Helper()
	seen := map[int]bool{}
	next := 1
	for _, s := range seqs {
		if seen[s] {
			continue
		}
		if s != next {
			t.Fatalf("first arrival of %d where %d was due; arrivals %v", s, next, seqs)
		}
		seen[s] = true
		next++
	}
	if next != n+1 {
		t.Fatalf("entries %d..%d never arrived; arrivals %v", next, n, seqs)
	}
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestForwardToRsyslog(t *testing.T) {
	for _, transport := range []string{"udp", "tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			r := testenv.StartRsyslog(t, transport)
			dir := t.TempDir()
			jdir := filepath.Join(dir, "journal")
			key := newKey(t)
			appendEntries(t, jdir, key, 1, 5)
			f, err := New(Config{Address: r.Addr, Transport: transport, CAFile: r.CAFile, Hostname: "atrest-test"}, jdir, filepath.Join(dir, "syslog"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ctx := context.Background()
			if err := f.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			appendEntries(t, jdir, key, 6, 8)
			if err := f.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			inOrderNoneLost(t, waitFor(t, r, 8), 8)
			if st := f.Stats(); st.Forwarded != 8 || st.Backlog != 0 {
				t.Errorf("stats %+v", st)
			}
			msgs := r.Received()
			if !strings.Contains(msgs[0], "atrest-test atrest ") || !strings.Contains(msgs[0], `kind="scan.files" outcome="ok" hash="`) {
				t.Errorf("first message as received: %q", msgs[0])
			}
			// A second forwarder (the next CLI command) starts from the cursor.
			appendEntries(t, jdir, key, 9, 9)
			g, _ := New(Config{Address: r.Addr, Transport: transport, CAFile: r.CAFile}, jdir, filepath.Join(dir, "syslog"))
			defer g.Close()
			if err := g.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if s := waitFor(t, r, 9); len(s) != 9 {
				t.Errorf("after a second forwarder: %v", s)
			}
		})
	}
}

// The receiver goes away and comes back: entries journaled meanwhile wait
// in the journal (counted as backlog) and arrive in order, none lost.
func TestReceiverRestart(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			r := testenv.StartRsyslog(t, transport)
			dir := t.TempDir()
			jdir := filepath.Join(dir, "journal")
			key := newKey(t)
			f, err := New(Config{Address: r.Addr, Transport: transport, CAFile: r.CAFile}, jdir, filepath.Join(dir, "syslog"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ctx := context.Background()
			appendEntries(t, jdir, key, 1, 10)
			if err := f.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, r, 10)
			// Once the connection is seen alive a while after them, they are
			// confirmed and will not be sent again.
			time.Sleep(ConfirmAfter + 100*time.Millisecond)
			if err := f.Flush(ctx); err != nil {
				t.Fatal(err)
			}

			r.Stop()
			appendEntries(t, jdir, key, 11, 20)
			// The first flush may write into the dead connection; by the
			// second, the forwarder knows the receiver is gone.
			f.Flush(ctx)
			if err := f.Flush(ctx); err == nil {
				t.Fatal("flush to a stopped receiver succeeded")
			}
			if st := f.Stats(); st.Backlog != 10 || st.Errors == 0 {
				t.Errorf("while down: stats %+v, want a backlog of 10", st)
			}

			r.Restart(t)
			appendEntries(t, jdir, key, 21, 25)
			var err2 error
			for i := 0; i < 50; i++ {
				if err2 = f.Flush(ctx); err2 == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err2 != nil {
				t.Fatalf("flush after restart: %v", err2)
			}
			inOrderNoneLost(t, waitFor(t, r, 25), 25)
			if st := f.Stats(); st.Backlog != 0 || st.Forwarded != 25 {
				t.Errorf("after restart: stats %+v", st)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Address: "127.0.0.1:514", Transport: "relp"}, `transport "relp"`},
		{Config{Address: "127.0.0.1", Transport: "tcp"}, `address "127.0.0.1"`},
		{Config{Address: "127.0.0.1:6514", Transport: "tls", CAFile: "/nonexistent/ca.pem"}, "ca_file"},
	} {
		_, err := New(c.cfg, t.TempDir(), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.cfg, err, c.want)
		}
	}
}

func FuzzFormat(f *testing.F) {
	f.Add(1, "backup.run", "yb", "ok", "detail", "host")
	f.Add(2, "", "]\"\\", "fail", "\x00\xff长", "")
	f.Fuzz(func(t *testing.T, seq int, kind, subject, outcome, detail, host string) {
		msg := Format(journal.Entry{Seq: seq, Kind: kind, Subject: subject, Outcome: outcome, Detail: detail}, host, 2048)
		if len(msg) > 2048 {
			t.Fatalf("message of %d bytes", len(msg))
		}
		if !strings.Contains(string(msg), fmt.Sprintf(`[atrest@32473 seq="%d"`, seq)) {
			t.Fatalf("no structured data: %q", msg)
		}
	})
}
