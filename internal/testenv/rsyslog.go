package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Rsyslog is a real rsyslogd receiving syslog on a loopback port and writing
// every message it gets, as received, one per line, to Out.
type Rsyslog struct {
	Transport string // udp, tcp or tls
	Addr      string // 127.0.0.1:PORT
	CAFile    string // tls: the CA that signed the server's certificate
	Out       string // received messages, one per line (%rawmsg%)

	dir  string
	conf string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRsyslog starts rsyslogd with one input of the given transport (udp,
// tcp or tls) on a free loopback port, and stops it at the end of the test.
// A missing rsyslogd (or, for tls, its GnuTLS driver) skips the test on a
// developer machine and fails it in CI.
func StartRsyslog(t testing.TB, transport string) *Rsyslog {
	t.Helper()
	bin := findBinary("rsyslogd")
	if bin == "" {
		if _, err := os.Stat("/usr/sbin/rsyslogd"); err == nil {
			bin = "/usr/sbin/rsyslogd"
		}
	}
	if bin == "" {
		missing(t, "rsyslogd not found; install the Debian packages rsyslog and rsyslog-gnutls")
	}
	if transport == "tls" {
		if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"); err != nil && !anyGlob("/usr/lib/*/rsyslog/lmnsd_gtls.so") {
			missing(t, "rsyslog's GnuTLS driver not found; install the Debian package rsyslog-gnutls")
		}
	}
	dir := t.TempDir()
	r := &Rsyslog{Transport: transport, dir: dir, Out: filepath.Join(dir, "received.log"), conf: filepath.Join(dir, "rsyslog.conf")}
	if err := os.MkdirAll(filepath.Join(dir, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if transport == "udp" {
		port, err = freeUDPPort()
	}
	if err != nil {
		t.Fatal(err)
	}
	r.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	if err := r.writeConfig(port); err != nil {
		t.Fatal(err)
	}
	if err := r.start(bin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

func anyGlob(pattern string) bool {
	m, _ := filepath.Glob(pattern)
	return len(m) > 0
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("testenv: " + msg)
	}
	t.Skip("testenv: " + msg)
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func (r *Rsyslog) writeConfig(port int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "global(workDirectory=%q maxMessageSize=\"64k\"", filepath.Join(r.dir, "work"))
	if r.Transport == "tls" {
		ca, cert, key, err := writeServerCert(r.dir)
		if err != nil {
			return err
		}
		r.CAFile = ca
		fmt.Fprintf(&b, " defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q", ca, cert, key)
	}
	b.WriteString(")\n")
	switch r.Transport {
	case "udp":
		fmt.Fprintf(&b, "module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"atrest\")\n", port)
	case "tcp":
		fmt.Fprintf(&b, "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"atrest\")\n", port)
	case "tls":
		fmt.Fprintf(&b, "module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n"+
			"input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"atrest\")\n", port)
	default:
		return fmt.Errorf("testenv: rsyslog transport %q: want udp, tcp or tls", r.Transport)
	}
	fmt.Fprintf(&b, "template(name=\"raw\" type=\"string\" string=\"%%rawmsg%%\\n\")\n"+
		"ruleset(name=\"atrest\") { action(type=\"omfile\" file=%q template=\"raw\" flushOnTXEnd=\"on\" asyncWriting=\"off\") }\n", r.Out)
	return os.WriteFile(r.conf, []byte(b.String()), 0o600)
}

func (r *Rsyslog) start(bin string) error {
	cmd := exec.Command(bin, "-n", "-f", r.conf, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	log, err := os.OpenFile(filepath.Join(r.dir, "rsyslogd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("testenv: start rsyslogd: %w", err)
	}
	r.cmd, r.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); log.Close(); close(r.done) }()
	// Ready when the port accepts (tcp, tls) or after the process settles (udp).
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			out, _ := os.ReadFile(filepath.Join(r.dir, "rsyslogd.log"))
			return fmt.Errorf("testenv: rsyslogd exited at start: %s", tail(out, 800))
		default:
		}
		if r.Transport == "udp" {
			if _, err := os.Stat(filepath.Join(r.dir, "rsyslogd.pid")); err == nil {
				time.Sleep(200 * time.Millisecond)
				return nil
			}
		} else if c, err := net.DialTimeout("tcp", r.Addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.Stop()
	return fmt.Errorf("testenv: rsyslogd did not listen on %s within 15 s", r.Addr)
}

// Stop shuts rsyslogd down (SIGTERM, then SIGKILL after 10 s). Received
// messages stay in Out.
func (r *Rsyslog) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
	r.cmd = nil
}

// Restart starts rsyslogd again on the same port and configuration.
func (r *Rsyslog) Restart(t testing.TB) {
	t.Helper()
	r.Stop()
	bin := findBinary("rsyslogd")
	if bin == "" {
		bin = "/usr/sbin/rsyslogd"
	}
	os.Remove(filepath.Join(r.dir, "rsyslogd.pid"))
	if err := r.start(bin); err != nil {
		t.Fatal(err)
	}
}

// Received returns the messages received so far, one per line.
func (r *Rsyslog) Received() []string {
	b, _ := os.ReadFile(r.Out)
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// writeServerCert makes a throwaway CA and a certificate for 127.0.0.1
// signed by it, PEM files in dir.
func writeServerCert(dir string) (caFile, certFile, keyFile string, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "atrest test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", "", "", err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return "", "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return "", "", "", err
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	for _, f := range []struct {
		path, typ string
		der       []byte
	}{{caFile, "CERTIFICATE", caDER}, {certFile, "CERTIFICATE", srvDER}, {keyFile, "EC PRIVATE KEY", keyDER}} {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), 0o600); err != nil {
			return "", "", "", err
		}
	}
	return caFile, certFile, keyFile, nil
}
