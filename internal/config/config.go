// Package config reads atrest's one YAML file into a validated Config.
//
// The flow is raw → translate → validate: the YAML is decoded strictly (unknown
// keys and wrong types are errors), then every reference and value is checked,
// and every error names file:line. Secrets never sit in the YAML: keys ending in
// _env name an environment variable and keys ending in _file name a file; they
// are resolved only when a run needs them, and never printed.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atrest/atrest/crypto/suite"
	"go.yaml.in/yaml/v3"
)

// MinLogRetention is the shortest journal retention the law allows: network
// logs are kept at least six months (Cybersecurity Law, as amended 2025).
const MinLogRetention = 180 * 24 * time.Hour

// Config is a validated configuration.
type Config struct {
	Path     string // the file it was read from
	Suite    string // installation default: "standard" or "sm" (crypto/suite)
	StateDir string
	// Location is the time zone of every printed time and of report
	// periods: the timezone key, or the host's.
	Location           *time.Location
	Journal            Journal
	FingerprintKeyFile string
	Sources            []Source
	FileRoots          []FileRoot
	Storage            []Storage
	Backups            []Backup
	Drills             []Drill
	HTTP               HTTP
	Notify             []Notify
}

type Journal struct {
	// Suite is the one a new journal takes (init makes its key of that
	// suite); an existing journal keeps the suite of its key and entry 1.
	Suite          string
	SigningKeyFile string
	Retention      time.Duration
	Anchor         *Anchor
	Syslog         *Syslog // nil: entries are not forwarded
}

// Notify is one notify[] entry: a webhook told of state changes.
type Notify struct {
	Name      string
	Format    string   // wecom, dingtalk or json
	URLEnv    string   // the URL holds the robot's key: from the environment only
	SecretEnv string   // dingtalk signing secret, optional
	On        []string // fail, recover, missed
}

// Syslog is journal.syslog: where every journal entry is forwarded as an
// RFC 5424 message. Transport defaults to tls.
type Syslog struct {
	Address   string
	Transport string // udp, tcp or tls
	CAFile    string // tls: the receiver's CA; empty: the system roots
}

type Anchor struct {
	Storage string
	Bucket  string
	Prefix  string
}

type Source struct {
	Name string
	// Driver is the source's database family (mysql, postgres); "" lets
	// the DSN's scheme say (engine/pick).
	Driver       string
	DSNEnv       string
	DSNFile      string
	Databases    []string
	ScanSchedule string
	Sample       int
}

type FileRoot struct {
	Name         string
	Paths        []string
	Exclude      []string
	ScanSchedule string
}

type Storage struct {
	Name         string
	Endpoint     string
	Secure       bool
	Region       string
	AccessKeyEnv string
	SecretKeyEnv string
}

type Backup struct {
	Name      string
	Suite     string // "standard" or "sm"
	Source    string
	Databases []string
	Storage   string
	Bucket    string
	Prefix    string
	// Recipients are age public keys (standard), or absolute paths of SM2
	// public keys in PEM (sm).
	Recipients []string
	// SigningKeyFile signs the job's manifests, a key of the job's suite:
	// by default the journal's key when the suites agree, else
	// state_dir/manifest-sm2.key or manifest-ed25519.key.
	SigningKeyFile string
	Schedule       string
	CheckSchedule  string
	RPO            time.Duration
	// Retention is how long a backup is kept: `backup prune` and serve
	// delete whole backups older than this, keeping at least KeepLast.
	Retention time.Duration
	// KeepLast is the fewest complete backups pruning leaves, whatever
	// their age (default DefaultKeepLast).
	KeepLast int
	// ReadSchedule is when serve runs `backup check --read`; "" never.
	ReadSchedule string
	Format       string // atrest (default), mysqldump or pg_dump
	KeyPattern   string
}

// DefaultKeepLast is keep_last when the YAML does not set it: a bad
// newest backup still leaves two behind it.
const DefaultKeepLast = 3

type Drill struct {
	Name         string
	Backup       string
	IdentityFile string
	TargetDSNEnv string
	Schedule     string
	Select       string // latest or random
	SelectWindow time.Duration
	Probes       []Probe
	// Definers is keep (default: as the README's restore by hand, the
	// definers' accounts must exist on the drill server) or strip.
	Definers string
	// RTO and RPO are the drill's targets (0: none): a drill that restores
	// more slowly, or restores a backup older than RPO, says "missed".
	RTO, RPO time.Duration
	// Tables and ExcludeTables choose a subset of the backup's tables to
	// drill: "db.table", or "table" where that names one table of the
	// backup. At most one of them is set; the rest is "not run".
	Tables, ExcludeTables []string
}

type Probe struct {
	Name string
	SQL  string
	// ExpectSHA256 is a canary: the lowercase hex SHA-256 of the value the
	// probe must return. The expected value itself is never in the YAML.
	ExpectSHA256 string
}

type HTTP struct {
	Listen    string
	UsersFile string
	// TrustedProxies are the reverse proxies (TLS terminators) in front of
	// the dashboard: only a request whose TCP peer is in one of them has its
	// X-Forwarded-For and X-Forwarded-Proto believed. Empty: none is.
	TrustedProxies []netip.Prefix
}

// LoadRecipients reads the job's recipients as keys of its suite.
func (b *Backup) LoadRecipients() ([]suite.Recipient, error) {
	out := make([]suite.Recipient, len(b.Recipients))
	for i, r := range b.Recipients {
		text := []byte(r)
		if b.Suite == "sm" {
			data, err := os.ReadFile(r)
			if err != nil {
				return nil, fmt.Errorf("recipient %d: %w", i+1, err)
			}
			text = data
		}
		rcp, err := suite.ParseRecipient(text)
		if err != nil {
			return nil, fmt.Errorf("recipient %d: %w", i+1, err)
		}
		if rcp.Suite().Name() != b.Suite {
			return nil, fmt.Errorf("recipient %d is a key of suite %s, the job's suite is %s", i+1, rcp.Suite().Name(), b.Suite)
		}
		out[i] = rcp
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no recipients: a backup is never stored unencrypted")
	}
	return out, nil
}

// Source returns the source named name.
func (c *Config) Source(name string) (*Source, bool) {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], true
		}
	}
	return nil, false
}

// FileRoot returns the file root named name.
func (c *Config) FileRoot(name string) (*FileRoot, bool) {
	for i := range c.FileRoots {
		if c.FileRoots[i].Name == name {
			return &c.FileRoots[i], true
		}
	}
	return nil, false
}

// StorageByName returns the storage named name.
func (c *Config) StorageByName(name string) (*Storage, bool) {
	for i := range c.Storage {
		if c.Storage[i].Name == name {
			return &c.Storage[i], true
		}
	}
	return nil, false
}

// Backup returns the backup job named name.
func (c *Config) Backup(name string) (*Backup, bool) {
	for i := range c.Backups {
		if c.Backups[i].Name == name {
			return &c.Backups[i], true
		}
	}
	return nil, false
}

// Drill returns the drill named name.
func (c *Config) Drill(name string) (*Drill, bool) {
	for i := range c.Drills {
		if c.Drills[i].Name == name {
			return &c.Drills[i], true
		}
	}
	return nil, false
}

// JournalDir is where the journal's segments live.
func (c *Config) JournalDir() string { return filepath.Join(c.StateDir, "journal") }

// ManifestKeyFiles are the signing key files whose keys sign this
// installation's manifests, each once: the journal's, each atrest job's
// signing_key_file, and the per-suite defaults in state_dir, which a job
// that switched suites signed its earlier backups with. A manifest is
// trusted when one of them verifies it (backup.LoadKeys).
func (c *Config) ManifestKeyFiles() []string {
	files := []string{c.Journal.SigningKeyFile}
	for _, b := range c.Backups {
		if b.Format == "atrest" {
			files = append(files, b.SigningKeyFile)
		}
	}
	for _, s := range suite.Names {
		files = append(files, manifestKeyFile(c, s))
	}
	var out []string
	for _, f := range files {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Env returns the value of the environment variable named by an _env key, or
// an error that names the key and the variable but never a value.
func Env(what, name string) (string, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return "", fmt.Errorf("%s: environment variable %s is not set", what, name)
	}
	return v, nil
}

// DSN resolves the source's DSN from dsn_env or dsn_file.
func (s *Source) DSN() (string, error) {
	if s.DSNEnv != "" {
		return Env("source "+s.Name+": dsn_env", s.DSNEnv)
	}
	data, err := os.ReadFile(s.DSNFile)
	if err != nil {
		return "", fmt.Errorf("source %s: dsn_file: %w", s.Name, err)
	}
	return strings.TrimSpace(string(data)), nil
}

// Load reads, decodes and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates YAML read from path.
func Parse(path string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var raw rawConfig
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty configuration", path)
		}
		return nil, yamlError(path, err)
	}
	t := translator{path: path, dir: filepath.Dir(path), root: &root}
	cfg := t.translate(&raw)
	if len(t.errs) > 0 {
		return nil, t.errs[0]
	}
	return cfg, nil
}

var (
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
)

// yamlError turns yaml.v3's multi-line errors into "file:line: message".
func yamlError(path string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	// One line, whatever the YAML quoted back (a scalar with newlines).
	m := strings.Join(strings.Fields(msgs[0]), " ")
	if s := yamlLine.FindStringSubmatch(m); s != nil {
		msg := s[2]
		if f := unknownField.FindStringSubmatch(msg); f != nil {
			msg = "unknown key " + f[1]
			if k := closestKey(f[1], f[2]); k != "" {
				msg += " (did you mean " + k + "?)"
			}
		}
		msg = strings.Replace(msg, "cannot unmarshal !!", "wrong type: ", 1)
		return fmt.Errorf("%s:%s: %s", path, s[1], msg)
	}
	return fmt.Errorf("%s: %s", path, strings.TrimPrefix(m, "yaml: "))
}

// closestKey is the key of the raw config type named typeName nearest to
// the unknown key (one or two edits away), or "".
func closestKey(unknown, typeName string) string {
	t, ok := rawTypes()[typeName]
	if !ok {
		return ""
	}
	best, bestD := "", 3
	for i := 0; i < t.NumField(); i++ {
		k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if d := editDistance(unknown, k); k != "" && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// rawTypes maps the names of the raw config structs (as the YAML decoder
// names them in its errors) to their types.
func rawTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || out["config."+t.Name()] != nil {
			return
		}
		out["config."+t.Name()] = t
		for i := 0; i < t.NumField(); i++ {
			walk(t.Field(i).Type)
		}
	}
	walk(reflect.TypeOf(rawConfig{}))
	return out
}

// editDistance is the Levenshtein distance, with a swap of two neighbours
// counting as one edit (dns_env for dsn_env).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// ParseDuration accepts Go durations plus a day suffix ("30d", "180d", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, 'd'); i > 0 {
		days, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		d := time.Duration(days) * 24 * time.Hour
		if rest := s[i+1:]; rest != "" {
			r, err := time.ParseDuration(rest)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			d += r
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (use e.g. 26h, 30d)", s)
	}
	return d, nil
}
