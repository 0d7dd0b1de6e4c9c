package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/atomicfile"
	"github.com/atrest/atrest/internal/fslock"
)

// Config says where entries go (journal.syslog in the config file).
type Config struct {
	Address   string // host:port of the receiver
	Transport string // udp, tcp or tls
	CAFile    string // tls: PEM CA bundle that signs the receiver's certificate; empty: the system roots
	// Hostname is the HOSTNAME field; default os.Hostname().
	Hostname string
}

const (
	// ConfirmAfter: syslog over TCP has no acknowledgement, so an entry
	// counts as delivered only once the connection is seen alive this long
	// after it was written (the receiver had that long to read it). After a
	// connection breaks, the entries not yet confirmed are sent again.
	ConfirmAfter = time.Second
	// maxBatch bounds the entries held in memory; the rest wait in the journal.
	maxBatch = 1000
	// Message size limits: 2048 bytes is what every UDP receiver must accept
	// (RFC 5426 §3.2); rsyslog's default maximum is 8 KiB.
	maxUDP    = 2048
	maxStream = 8192

	dialTimeout  = 3 * time.Second
	writeTimeout = 5 * time.Second
)

// Stats are the forwarder's figures for /metrics.
type Stats struct {
	Sent        uint64    // messages written (resent ones included)
	Resent      uint64    // messages sent again after a broken connection
	Errors      uint64    // failed connects and writes
	Forwarded   int       // the cursor: entries up to this seq are forwarded
	Backlog     int       // entries in the journal not forwarded yet
	LastSuccess time.Time // when the last message was written
	LastError   string    // the last failure, one line
}

// Forwarder sends journal entries after its cursor to one receiver. One
// forwarder per process; across processes the cursor file's lock lets one
// forward at a time (the daemon, or a CLI command when no daemon runs).
type Forwarder struct {
	cfg        Config
	journalDir string
	dir        string // cursor and lock
	tlsConfig  *tls.Config
	now        func() time.Time

	mu      sync.Mutex // one flush at a time in this process
	tail    *journal.Tailer
	pending []journal.Entry // read from the journal, after the cursor, not yet sent
	lastSeq int             // newest seq seen in the journal
	conn    net.Conn
	recent  []sentEntry // sent on conn, not yet confirmed (see ConfirmAfter)
	stats   Stats
}

type sentEntry struct {
	e  journal.Entry
	at time.Time
}

type cursorFile struct {
	Seq  int    `json:"seq"`
	Hash string `json:"hash"`
}

// New returns a Forwarder for the journal in journalDir, keeping its cursor
// in dir (created if missing). It checks the configuration, not the receiver.
func New(cfg Config, journalDir, dir string) (*Forwarder, error) {
	switch cfg.Transport {
	case "udp", "tcp", "tls":
	default:
		return nil, fmt.Errorf("syslog: transport %q: want udp, tcp or tls", cfg.Transport)
	}
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		return nil, fmt.Errorf("syslog: address %q: %w", cfg.Address, err)
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	f := &Forwarder{cfg: cfg, journalDir: journalDir, dir: dir, now: time.Now}
	if cfg.Transport == "tls" {
		host, _, _ := net.SplitHostPort(cfg.Address)
		f.tlsConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("syslog: ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("syslog: ca_file %s: no PEM certificate in it", cfg.CAFile)
			}
			f.tlsConfig.RootCAs = pool
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	return f, nil
}

// Stats returns the current figures.
func (f *Forwarder) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Run forwards until ctx is done, looking for new entries every interval and
// retrying a receiver that is down at the same pace.
func (f *Forwarder) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f.Flush(ctx)
		select {
		case <-ctx.Done():
			f.Close()
			return
		case <-t.C:
		}
	}
}

// Close drops the connection.
func (f *Forwarder) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop()
}

// Flush forwards every entry after the cursor, in order, as far as the
// receiver takes them. It returns nil when nothing is left, or when another
// process holds the cursor (it is forwarding); otherwise the error that
// stopped it, the entries left waiting in the journal.
func (f *Forwarder) Flush(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	lock, err := fslock.TryOpen(filepath.Join(f.dir, "lock"))
	if err != nil {
		return f.fail(fmt.Errorf("syslog: %w", err))
	}
	if lock == nil {
		return nil
	}
	defer lock.Close()
	cur, err := f.readCursor()
	if err != nil {
		return f.fail(err)
	}
	for {
		if err := f.fill(cur); err != nil {
			return f.fail(err)
		}
		f.stats.Forwarded, f.stats.Backlog = cur, f.lastSeq-cur
		if len(f.pending) == 0 {
			// Nothing new: still look at the connection, to confirm what
			// was sent (or to send it again if the receiver went away).
			if f.conn == nil || len(f.recent) == 0 {
				return nil
			}
			if err := f.alive(); err != nil {
				f.drop()
				return f.retryUnconfirmed(&cur, err)
			}
			f.confirm()
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		sent, err := f.send(ctx)
		if sent > 0 {
			last := f.pending[sent-1]
			f.pending = f.pending[sent:]
			cur = last.Seq
			if werr := f.writeCursor(cursorFile{Seq: last.Seq, Hash: last.Hash}); werr != nil {
				return f.fail(werr)
			}
			f.stats.Forwarded, f.stats.Backlog = cur, f.lastSeq-cur
		}
		if err != nil {
			return f.retryUnconfirmed(&cur, err)
		}
	}
}

// retryUnconfirmed puts the entries not confirmed on the broken connection
// back in front of pending, moves the cursor back before them, and returns
// the error that broke it.
func (f *Forwarder) retryUnconfirmed(cur *int, err error) error {
	if f.rewind() > 0 {
		*cur = f.pending[0].Seq - 1
		if werr := f.writeCursor(cursorFile{Seq: *cur}); werr != nil {
			return f.fail(werr)
		}
		f.stats.Forwarded, f.stats.Backlog = *cur, f.lastSeq-*cur
	}
	return f.fail(err)
}

// fill reads new journal entries after cur into pending, at most maxBatch.
// When it had to leave entries out, it forgets its place in the journal and
// reads again from the start next time (cheap next to a receiver that was
// down long enough to pile up maxBatch entries).
func (f *Forwarder) fill(cur int) error {
	// Another process may have moved the cursor past what is pending.
	for len(f.pending) > 0 && f.pending[0].Seq <= cur {
		f.pending = f.pending[1:]
	}
	if len(f.pending) >= maxBatch {
		return nil
	}
	if f.tail == nil {
		f.tail = journal.NewTailer(f.journalDir)
	}
	overflow := false
	_, err := f.tail.Poll(func(e journal.Entry) {
		if e.Seq > f.lastSeq {
			f.lastSeq = e.Seq
		}
		if e.Seq <= cur || (len(f.pending) > 0 && e.Seq <= f.pending[len(f.pending)-1].Seq) {
			return
		}
		if len(f.pending) >= maxBatch {
			overflow = true
			return
		}
		f.pending = append(f.pending, e)
	})
	if err != nil {
		return fmt.Errorf("syslog: read journal: %w", err)
	}
	if overflow {
		f.tail = nil
	}
	return nil
}

// send writes pending entries in order and returns how many were written
// on a connection still alive afterwards.
func (f *Forwarder) send(ctx context.Context) (int, error) {
	if f.conn == nil {
		if err := f.dial(ctx); err != nil {
			return 0, err
		}
	}
	max := maxStream
	if f.cfg.Transport == "udp" {
		max = maxUDP
	}
	n := 0
	for _, e := range f.pending {
		msg := Format(e, f.cfg.Hostname, max)
		if f.cfg.Transport != "udp" {
			msg = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
		}
		f.conn.SetWriteDeadline(f.now().Add(writeTimeout))
		if _, err := f.conn.Write(msg); err != nil {
			f.drop()
			return n, fmt.Errorf("syslog: send to %s: %w", f.cfg.Address, err)
		}
		f.stats.Sent++
		f.stats.LastSuccess = f.now()
		f.recent = append(f.recent, sentEntry{e: e, at: f.stats.LastSuccess})
		n++
		if ctx.Err() != nil {
			break
		}
	}
	// A receiver that died takes writes into its kernel's buffer and answers
	// with a reset: look for that before calling the batch sent.
	if err := f.alive(); err != nil {
		f.drop()
		return 0, err
	}
	f.confirm()
	return n, nil
}

func (f *Forwarder) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: dialTimeout}
	var (
		c   net.Conn
		err error
	)
	switch f.cfg.Transport {
	case "tls":
		td := tls.Dialer{NetDialer: &d, Config: f.tlsConfig}
		c, err = td.DialContext(ctx, "tcp", f.cfg.Address)
	default:
		c, err = d.DialContext(ctx, f.cfg.Transport, f.cfg.Address)
	}
	if err != nil {
		return fmt.Errorf("syslog: connect to %s (%s): %w", f.cfg.Address, f.cfg.Transport, err)
	}
	f.conn, f.recent = c, nil
	return nil
}

// alive reports a connection the peer has closed or reset. A syslog
// receiver never writes, so a read that times out means the peer is there.
func (f *Forwarder) alive() error {
	if f.cfg.Transport == "udp" {
		return nil
	}
	time.Sleep(20 * time.Millisecond) // one loopback round trip for a reset to come back, with room
	f.conn.SetReadDeadline(f.now().Add(time.Millisecond))
	var b [1]byte
	_, err := f.conn.Read(b[:])
	f.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		return nil
	}
	return fmt.Errorf("syslog: %s closed the connection: %w", f.cfg.Address, err)
}

// rewind puts the unconfirmed entries back in front of pending and returns
// how many.
func (f *Forwarder) rewind() int {
	var again []journal.Entry
	for _, s := range f.recent {
		if len(f.pending) == 0 || s.e.Seq < f.pending[0].Seq {
			again = append(again, s.e)
		}
	}
	f.recent = nil
	f.pending = append(again, f.pending...)
	f.stats.Resent += uint64(len(again))
	return len(again)
}

// confirm drops the entries written at least ConfirmAfter before a
// connection that has just been seen alive.
func (f *Forwarder) confirm() {
	cut := f.now().Add(-ConfirmAfter)
	i := 0
	for i < len(f.recent) && !f.recent[i].at.After(cut) {
		i++
	}
	f.recent = f.recent[i:]
}

func (f *Forwarder) drop() {
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}

func (f *Forwarder) fail(err error) error {
	f.stats.Errors++
	f.stats.LastError = err.Error()
	return err
}

func (f *Forwarder) readCursor() (int, error) {
	b, err := os.ReadFile(filepath.Join(f.dir, "cursor"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("syslog: cursor: %w", err)
	}
	var c cursorFile
	if err := json.Unmarshal(b, &c); err != nil || c.Seq < 0 {
		return 0, fmt.Errorf("syslog: cursor %s: not a cursor record", filepath.Join(f.dir, "cursor"))
	}
	return c.Seq, nil
}

func (f *Forwarder) writeCursor(c cursorFile) error {
	b, _ := json.Marshal(c)
	if err := atomicfile.Write(filepath.Join(f.dir, "cursor"), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("syslog: cursor: %w", err)
	}
	return nil
}
