package config

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine/pick"
	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// The raw* types mirror the YAML exactly; the decoder rejects unknown keys.
type rawConfig struct {
	Suite              string        `yaml:"suite"`
	StateDir           string        `yaml:"state_dir"`
	Timezone           string        `yaml:"timezone"`
	Journal            rawJournal    `yaml:"journal"`
	FingerprintKeyFile string        `yaml:"fingerprint_key_file"`
	Sources            []rawSource   `yaml:"sources"`
	FileRoots          []rawFileRoot `yaml:"file_roots"`
	Storage            []rawStorage  `yaml:"storage"`
	Backups            []rawBackup   `yaml:"backups"`
	Drills             []rawDrill    `yaml:"drills"`
	HTTP               rawHTTP       `yaml:"http"`
	Notify             []rawNotify   `yaml:"notify"`
}

type rawJournal struct {
	Suite          string     `yaml:"suite"`
	SigningKeyFile string     `yaml:"signing_key_file"`
	Retention      string     `yaml:"retention"`
	Anchor         *rawAnchor `yaml:"anchor"`
	Syslog         *rawSyslog `yaml:"syslog"`
}

type rawNotify struct {
	Name      string   `yaml:"name"`
	Format    string   `yaml:"format"`
	URLEnv    string   `yaml:"url_env"`
	SecretEnv string   `yaml:"secret_env"`
	On        []string `yaml:"on"`
}

type rawSyslog struct {
	Address   string `yaml:"address"`
	Transport string `yaml:"transport"`
	CAFile    string `yaml:"ca_file"`
}

type rawAnchor struct {
	Storage string `yaml:"storage"`
	Bucket  string `yaml:"bucket"`
	Prefix  string `yaml:"prefix"`
}

type rawSource struct {
	Name         string   `yaml:"name"`
	Driver       string   `yaml:"driver"`
	DSNEnv       string   `yaml:"dsn_env"`
	DSNFile      string   `yaml:"dsn_file"`
	Databases    []string `yaml:"databases"`
	ScanSchedule string   `yaml:"scan_schedule"`
	Sample       int      `yaml:"sample"`
}

type rawFileRoot struct {
	Name         string   `yaml:"name"`
	Paths        []string `yaml:"paths"`
	Exclude      []string `yaml:"exclude"`
	ScanSchedule string   `yaml:"scan_schedule"`
}

type rawStorage struct {
	Name         string `yaml:"name"`
	Endpoint     string `yaml:"endpoint"`
	Secure       bool   `yaml:"secure"`
	Region       string `yaml:"region"`
	AccessKeyEnv string `yaml:"access_key_env"`
	SecretKeyEnv string `yaml:"secret_key_env"`
}

type rawBackup struct {
	Name           string   `yaml:"name"`
	Suite          string   `yaml:"suite"`
	SigningKeyFile string   `yaml:"signing_key_file"`
	Source         string   `yaml:"source"`
	Databases      []string `yaml:"databases"`
	Storage        string   `yaml:"storage"`
	Bucket         string   `yaml:"bucket"`
	Prefix         string   `yaml:"prefix"`
	Recipients     []string `yaml:"recipients"`
	Schedule       string   `yaml:"schedule"`
	CheckSchedule  string   `yaml:"check_schedule"`
	RPO            string   `yaml:"rpo"`
	Retention      string   `yaml:"retention"`
	KeepLast       *int     `yaml:"keep_last"`
	ReadSchedule   string   `yaml:"read_schedule"`
	Format         string   `yaml:"format"`
	KeyPattern     string   `yaml:"key_pattern"`
}

type rawDrill struct {
	Name          string     `yaml:"name"`
	Backup        string     `yaml:"backup"`
	IdentityFile  string     `yaml:"identity_file"`
	TargetDSNEnv  string     `yaml:"target_dsn_env"`
	Schedule      string     `yaml:"schedule"`
	Select        string     `yaml:"select"`
	SelectWindow  string     `yaml:"select_window"`
	Probes        []rawProbe `yaml:"probes"`
	RTO           string     `yaml:"rto"`
	RPO           string     `yaml:"rpo"`
	Tables        []string   `yaml:"tables"`
	ExcludeTables []string   `yaml:"exclude_tables"`
	Definers      string     `yaml:"definers"`
}

type rawProbe struct {
	Name         string `yaml:"name"`
	SQL          string `yaml:"sql"`
	ExpectSHA256 string `yaml:"expect_sha256"`
}

type rawHTTP struct {
	Listen         string   `yaml:"listen"`
	UsersFile      string   `yaml:"users_file"`
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// translator turns a rawConfig into a Config, collecting errors with the
// line of the offending key (found by walking the YAML node tree).
type translator struct {
	path string
	dir  string
	root *yaml.Node
	errs []error
}

// fail records an error at the key path given as strings (map keys) and ints
// (list indexes); the line is that of the deepest node found.
func (t *translator) fail(at []any, format string, args ...any) {
	line := t.line(at)
	t.errs = append(t.errs, fmt.Errorf("%s:%d: %s", t.path, line, fmt.Sprintf(format, args...)))
}

func (t *translator) line(at []any) int {
	n := t.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, step := range at {
		var next *yaml.Node
		switch s := step.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == s {
						line = n.Content[i].Line
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && s < len(n.Content) {
				next = n.Content[s]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

func at(p ...any) []any { return p }

func (t *translator) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(t.dir, p)
}

func (t *translator) duration(where []any, key, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := ParseDuration(s)
	if err != nil {
		t.fail(append(where, key), "%s: %v", key, err)
	}
	return d
}

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (t *translator) name(where []any, kind, name string, seen map[string]bool) {
	if name == "" {
		t.fail(where, "%s without a name", kind)
		return
	}
	if seen[name] {
		t.fail(append(where, "name"), "%s %q defined twice", kind, name)
	}
	seen[name] = true
}

func (t *translator) translate(r *rawConfig) *Config {
	c := &Config{Path: t.path, StateDir: t.abs(r.StateDir), FingerprintKeyFile: t.abs(r.FingerprintKeyFile)}
	if r.StateDir == "" {
		t.fail(nil, "state_dir is required")
	}
	c.Suite = t.suite(at("suite"), r.Suite, "standard")
	c.Journal.Suite = t.suite(at("journal", "suite"), r.Journal.Suite, c.Suite)
	if r.FingerprintKeyFile == "" {
		c.FingerprintKeyFile = filepath.Join(c.StateDir, "fingerprint.key")
	}
	c.Location = time.Local
	if r.Timezone != "" {
		loc, err := time.LoadLocation(r.Timezone)
		if err != nil || r.Timezone == "Local" {
			t.fail(at("timezone"), "timezone %q is not an IANA time zone name (Asia/Shanghai, UTC)", r.Timezone)
		} else {
			c.Location = loc
		}
	}
	c.Journal.SigningKeyFile = t.abs(r.Journal.SigningKeyFile)
	if c.Journal.SigningKeyFile == "" {
		c.Journal.SigningKeyFile = filepath.Join(c.StateDir, "journal.key")
	}
	c.Journal.Retention = t.duration(at("journal"), "retention", r.Journal.Retention, MinLogRetention)
	if c.Journal.Retention < MinLogRetention {
		t.fail(at("journal", "retention"), "journal.retention %s is shorter than six months (180d), the legal minimum for logs", r.Journal.Retention)
	}

	storage := map[string]bool{}
	for i, s := range r.Storage {
		w := at("storage", i)
		t.name(w, "storage", s.Name, storage)
		if s.Endpoint == "" {
			t.fail(w, "storage %q: endpoint is required", s.Name)
		}
		if s.AccessKeyEnv == "" || s.SecretKeyEnv == "" {
			t.fail(w, "storage %q: access_key_env and secret_key_env are required", s.Name)
		}
		region := s.Region
		if region == "" {
			region = "us-east-1"
		}
		c.Storage = append(c.Storage, Storage{Name: s.Name, Endpoint: s.Endpoint, Secure: s.Secure, Region: region,
			AccessKeyEnv: s.AccessKeyEnv, SecretKeyEnv: s.SecretKeyEnv})
	}
	if a := r.Journal.Anchor; a != nil {
		if !storage[a.Storage] {
			t.fail(at("journal", "anchor", "storage"), "journal.anchor.storage %q is not a storage[] entry", a.Storage)
		}
		if a.Bucket == "" {
			t.fail(at("journal", "anchor"), "journal.anchor.bucket is required")
		}
		c.Journal.Anchor = &Anchor{Storage: a.Storage, Bucket: a.Bucket, Prefix: a.Prefix}
	}
	if s := r.Journal.Syslog; s != nil {
		w := at("journal", "syslog")
		if _, port, err := net.SplitHostPort(s.Address); err != nil || port == "" {
			t.fail(append(w, "address"), "journal.syslog.address %q: want host:port", s.Address)
		}
		transport := s.Transport
		if transport == "" {
			transport = "tls"
		}
		if transport != "udp" && transport != "tcp" && transport != "tls" {
			t.fail(append(w, "transport"), "journal.syslog.transport %q: want udp, tcp or tls", s.Transport)
		}
		if s.CAFile != "" && transport != "tls" {
			t.fail(append(w, "ca_file"), "journal.syslog.ca_file is for transport tls, not %s", transport)
		}
		c.Journal.Syslog = &Syslog{Address: s.Address, Transport: transport, CAFile: t.abs(s.CAFile)}
	}

	sources := map[string]bool{}
	for i, s := range r.Sources {
		w := at("sources", i)
		t.name(w, "source", s.Name, sources)
		if (s.DSNEnv == "") == (s.DSNFile == "") {
			t.fail(w, "source %q: set exactly one of dsn_env and dsn_file", s.Name)
		}
		if s.Sample < 0 {
			t.fail(append(w, "sample"), "source %q: sample must be positive", s.Name)
		}
		if _, err := pick.Engine(s.Driver, ""); err != nil {
			t.fail(append(w, "driver"), "source %q: %v", s.Name, err)
		}
		c.Sources = append(c.Sources, Source{Name: s.Name, Driver: s.Driver, DSNEnv: s.DSNEnv, DSNFile: t.abs(s.DSNFile),
			Databases: s.Databases, ScanSchedule: t.schedule(w, "scan_schedule", s.ScanSchedule), Sample: s.Sample})
	}

	roots := map[string]bool{}
	for i, f := range r.FileRoots {
		w := at("file_roots", i)
		t.name(w, "file root", f.Name, roots)
		if len(f.Paths) == 0 {
			t.fail(w, "file root %q: paths is empty", f.Name)
		}
		paths := make([]string, len(f.Paths))
		for j, p := range f.Paths {
			paths[j] = t.abs(p)
		}
		c.FileRoots = append(c.FileRoots, FileRoot{Name: f.Name, Paths: paths, Exclude: f.Exclude,
			ScanSchedule: t.schedule(w, "scan_schedule", f.ScanSchedule)})
	}

	backups := map[string]bool{}
	for i, b := range r.Backups {
		w := at("backups", i)
		t.name(w, "backup", b.Name, backups)
		c.Backups = append(c.Backups, t.backup(w, b, c, sources, storage))
	}

	drills := map[string]bool{}
	for i, d := range r.Drills {
		w := at("drills", i)
		t.name(w, "drill", d.Name, drills)
		c.Drills = append(c.Drills, t.drill(w, d, backups, c))
	}

	notifies := map[string]bool{}
	for i, n := range r.Notify {
		w := at("notify", i)
		t.name(w, "notify target", n.Name, notifies)
		if n.Format != "wecom" && n.Format != "dingtalk" && n.Format != "json" {
			t.fail(append(w, "format"), "notify %q: format %q: want wecom, dingtalk or json", n.Name, n.Format)
		}
		if n.URLEnv == "" {
			t.fail(w, "notify %q: url_env is required (the webhook URL holds a key: never in the YAML)", n.Name)
		}
		if n.SecretEnv != "" && n.Format != "dingtalk" {
			t.fail(append(w, "secret_env"), "notify %q: secret_env is for dingtalk robots that sign", n.Name)
		}
		on := n.On
		if len(on) == 0 {
			on = []string{"fail", "recover", "missed"}
		}
		for _, e := range on {
			if e != "fail" && e != "recover" && e != "missed" {
				t.fail(append(w, "on"), "notify %q: on: %q: want fail, recover or missed", n.Name, e)
			}
		}
		c.Notify = append(c.Notify, Notify{Name: n.Name, Format: n.Format, URLEnv: n.URLEnv, SecretEnv: n.SecretEnv, On: on})
	}
	c.HTTP = HTTP{Listen: r.HTTP.Listen, UsersFile: t.abs(r.HTTP.UsersFile)}
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = "127.0.0.1:8080"
	}
	if c.HTTP.UsersFile == "" {
		c.HTTP.UsersFile = filepath.Join(c.StateDir, "users")
	}
	c.HTTP.TrustedProxies = t.proxies(r.HTTP.TrustedProxies)
	return c
}

// proxies reads http.trusted_proxies: CIDRs (10.0.0.0/8) or single
// addresses (127.0.0.1, ::1), each the address of a reverse proxy whose
// X-Forwarded-For and X-Forwarded-Proto the dashboard believes.
func (t *translator) proxies(list []string) []netip.Prefix {
	var out []netip.Prefix
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			if p != p.Masked() {
				t.fail(at("http", "trusted_proxies", i), "http.trusted_proxies: %q has host bits set: did you mean %s?", s, p.Masked())
				continue
			}
			out = append(out, p)
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		t.fail(at("http", "trusted_proxies", i), "http.trusted_proxies: %q is not an address or a CIDR (10.0.0.0/8, 127.0.0.1)", s)
	}
	return out
}

func (t *translator) backup(w []any, b rawBackup, c *Config, sources, storage map[string]bool) Backup {
	out := Backup{Name: b.Name, Source: b.Source, Databases: b.Databases, Storage: b.Storage, Bucket: b.Bucket,
		Prefix: b.Prefix, Recipients: b.Recipients, Format: b.Format, KeyPattern: b.KeyPattern,
		Schedule: t.schedule(w, "schedule", b.Schedule), CheckSchedule: t.schedule(w, "check_schedule", b.CheckSchedule),
		ReadSchedule: t.schedule(w, "read_schedule", b.ReadSchedule), KeepLast: DefaultKeepLast,
		Suite: t.suite(append(w, "suite"), b.Suite, c.Suite), SigningKeyFile: t.abs(b.SigningKeyFile)}
	if out.Format == "" {
		out.Format = "atrest"
	}
	switch out.Format {
	case "atrest":
		if !sources[b.Source] {
			t.fail(append(w, "source"), "backup %q: source %q is not a sources[] entry", b.Name, b.Source)
		}
		out.Recipients = t.recipients(w, b, out.Suite)
		if out.SigningKeyFile == "" {
			out.SigningKeyFile = manifestKeyFile(c, out.Suite)
		}
	case "mysqldump", "pg_dump":
		if b.KeyPattern == "" {
			t.fail(w, "backup %q: format %s needs key_pattern (e.g. \"yb/*.sql.gz\")", b.Name, out.Format)
		}
	default:
		t.fail(append(w, "format"), "backup %q: format %q is not atrest, mysqldump or pg_dump", b.Name, b.Format)
	}
	if !storage[b.Storage] {
		t.fail(append(w, "storage"), "backup %q: storage %q is not a storage[] entry", b.Name, b.Storage)
	}
	if b.Bucket == "" {
		t.fail(w, "backup %q: bucket is required", b.Name)
	}
	out.RPO = t.duration(w, "rpo", b.RPO, 26*time.Hour)
	out.Retention = t.duration(w, "retention", b.Retention, 30*24*time.Hour)
	if out.Retention <= 0 {
		t.fail(append(w, "retention"), "backup %q: retention must be longer than 0", b.Name)
	}
	if b.KeepLast != nil {
		out.KeepLast = *b.KeepLast
		if out.KeepLast < 1 {
			t.fail(append(w, "keep_last"), "backup %q: keep_last %d: keep at least 1 backup", b.Name, out.KeepLast)
		}
	}
	return out
}

// suite checks a suite name; "" takes def.
func (t *translator) suite(where []any, name, def string) string {
	if name == "" {
		return def
	}
	if _, err := suite.Get(name); err != nil {
		t.fail(where, "%v", err)
		return def
	}
	return name
}

// recipients checks a job's recipients against its suite: age public keys
// for standard; for sm, paths (relative to the config file) of SM2 public
// keys in PEM, read and parsed now. A key of the other kind is an error
// here, not a surprise at 01:30.
func (t *translator) recipients(w []any, b rawBackup, suiteName string) []string {
	if len(b.Recipients) == 0 {
		if suiteName == "sm" {
			t.fail(w, "backup %q: recipients is empty (suite sm: paths of SM2 public keys in PEM)", b.Name)
		} else {
			t.fail(w, "backup %q: recipients is empty (age public keys, age1…)", b.Name)
		}
	}
	out := make([]string, len(b.Recipients))
	for j, rcp := range b.Recipients {
		where := append(w, "recipients", j)
		rcp = strings.TrimSpace(rcp)
		out[j] = rcp
		isAge := strings.HasPrefix(rcp, "age1")
		if suiteName != "sm" {
			if _, err := age.ParseX25519Recipient(rcp); err != nil {
				hint := ""
				if !isAge {
					hint = "; SM2 public keys need suite: sm"
				}
				t.fail(where, "backup %q: recipient %d is not an age public key (age1…)%s", b.Name, j+1, hint)
			}
			continue
		}
		if isAge {
			t.fail(where, "backup %q: recipient %d is an age public key, but the job's suite is sm: its recipients are paths of SM2 public keys in PEM (openssl pkey -pubout)", b.Name, j+1)
			continue
		}
		out[j] = t.abs(rcp)
		data, err := os.ReadFile(out[j])
		if err != nil {
			t.fail(where, "backup %q: recipient %d: %v", b.Name, j+1, err)
			continue
		}
		if r, err := suite.ParseRecipient(data); err != nil || r.Suite() != suite.SM {
			t.fail(where, "backup %q: recipient %d: %s is not an SM2 public key in PEM (openssl pkey -pubout writes one)", b.Name, j+1, out[j])
		}
	}
	return out
}

// manifestKeyFile is where a job's manifest signing key lives by default:
// the journal's key when the suites agree, else one key per suite in
// state_dir that every job of that suite shares (SPEC §7: an sm job beside
// a standard journal signs with an SM2 key of its own).
func manifestKeyFile(c *Config, suiteName string) string {
	if suiteName == c.Journal.Suite {
		return c.Journal.SigningKeyFile
	}
	if suiteName == "sm" {
		return filepath.Join(c.StateDir, "manifest-sm2.key")
	}
	return filepath.Join(c.StateDir, "manifest-ed25519.key")
}
