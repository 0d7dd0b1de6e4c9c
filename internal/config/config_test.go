package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrest/atrest/crypto/suite"
	"github.com/emmansun/gmsm/sm2"
)

func TestExampleConfigIsValid(t *testing.T) {
	c, err := Load("../../configs/atrest.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Journal.Retention != 180*24*time.Hour || len(c.Backups) != 1 || c.Backups[0].RPO != 26*time.Hour {
		t.Fatalf("unexpected config: %+v", c)
	}
	if c.Journal.Anchor == nil || c.Journal.Anchor.Bucket != "atrest-journal" {
		t.Fatalf("anchor: %+v", c.Journal.Anchor)
	}
	if s := c.Journal.Syslog; s == nil || s.Transport != "tls" || s.CAFile != "/etc/atrest/syslog-ca.pem" {
		t.Fatalf("syslog: %+v", s)
	}
	if len(c.Notify) != 1 || c.Notify[0].Format != "wecom" || len(c.Notify[0].On) != 3 {
		t.Fatalf("notify: %+v", c.Notify)
	}
	if p := c.HTTP.TrustedProxies; len(p) != 2 || p[0].String() != "127.0.0.1/32" || p[1].String() != "10.20.0.0/16" {
		t.Fatalf("trusted_proxies: %v", p)
	}
	if c.Location.String() != "Asia/Shanghai" {
		t.Fatalf("timezone: %v", c.Location)
	}
	if d, ok := c.Drill("yb-nightly-drill"); !ok || len(d.Probes) != 1 {
		t.Fatalf("drill: %+v", d)
	}
}

func TestConfigErrorsGiveFileAndLine(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown key", "state_dir: /x\nstate_dri: /y\n", "c.yaml:2: unknown key state_dri"},
		{"wrong type", "state_dir: /x\nsources:\n  - name: a\n    dsn_env: A\n    sample: lots\n", "c.yaml:5: wrong type"},
		{"no state_dir", "journal: {retention: 200d}\n", "c.yaml:1: state_dir is required"},
		{"short retention", "state_dir: /x\njournal:\n  retention: 90d\n", "c.yaml:3: journal.retention 90d is shorter than six months"},
		{"undefined source", "state_dir: /x\nstorage:\n  - {name: s, endpoint: e, access_key_env: A, secret_key_env: B}\nbackups:\n  - name: b\n    source: nope\n    storage: s\n    bucket: x\n    recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p]\n", "c.yaml:6: backup \"b\": source \"nope\" is not a sources[] entry"},
		{"bad recipient", "state_dir: /x\nsources: [{name: a, dsn_env: A}]\nstorage:\n  - {name: s, endpoint: e, access_key_env: A, secret_key_env: B}\nbackups:\n  - name: b\n    source: a\n    storage: s\n    bucket: x\n    recipients:\n      - age1nope\n", "c.yaml:11: backup \"b\": recipient 1 is not an age public key"},
		{"bad cron", "state_dir: /x\nfile_roots:\n  - name: r\n    paths: [/x]\n    scan_schedule: \"61 * * * *\"\n", "c.yaml:5: scan_schedule"},
		{"step beyond minutes", "state_dir: /x\nfile_roots:\n  - name: r\n    paths: [/x]\n    scan_schedule: \"*/61 * * * *\"\n", "c.yaml:5: scan_schedule \"*/61 * * * *\": step /61 in \"*/61\": the minute field runs 0-59"},
		{"step beyond seconds", "state_dir: /x\nfile_roots:\n  - name: r\n    paths: [/x]\n    scan_schedule: \"0-30/90 * * * * *\"\n", "c.yaml:5: scan_schedule \"0-30/90 * * * * *\": step /90 in \"0-30/90\": the second field runs 0-59"},
		{"step beyond hours", "state_dir: /x\nfile_roots:\n  - name: r\n    paths: [/x]\n    scan_schedule: \"0 1,*/24 * * *\"\n", "c.yaml:5: scan_schedule \"0 1,*/24 * * *\": step /24 in \"*/24\": the hour field"},
		{"keep_last 0", backupYAML + "    keep_last: 0\n", "c.yaml:11: backup \"b\": keep_last 0: keep at least 1 backup"},
		{"bad read_schedule", backupYAML + "    read_schedule: \"0 4 * * 8\"\n", "c.yaml:11: read_schedule"},
		{"duplicate name", "state_dir: /x\nfile_roots:\n  - {name: r, paths: [/a]}\n  - {name: r, paths: [/b]}\n", "c.yaml:4: file root \"r\" defined twice"},
		{"syslog transport", "state_dir: /x\njournal:\n  syslog:\n    address: h:514\n    transport: relp\n", "c.yaml:5: journal.syslog.transport \"relp\""},
		{"syslog address", "state_dir: /x\njournal:\n  syslog: {address: loghost}\n", "c.yaml:3: journal.syslog.address \"loghost\""},
		{"unknown driver", "state_dir: /x\nsources:\n  - name: a\n    dsn_env: A\n    driver: oracle\n", "c.yaml:5: source \"a\": driver \"oracle\" is not one of mysql, postgres"},
		{"unknown format", "state_dir: /x\nstorage:\n  - {name: s, endpoint: e, access_key_env: A, secret_key_env: B}\nbackups:\n  - name: b\n    storage: s\n    bucket: x\n    format: pg_dumpall\n", "c.yaml:8: backup \"b\": format \"pg_dumpall\" is not atrest, mysqldump or pg_dump"},
		{"bad timezone", "state_dir: /x\ntimezone: Beijing\n", "c.yaml:2: timezone \"Beijing\" is not an IANA time zone name"},
		{"notify format", "state_dir: /x\nnotify:\n  - name: n\n    format: slack\n    url_env: U\n", "c.yaml:4: notify \"n\": format \"slack\""},
		{"notify on", "state_dir: /x\nnotify:\n  - {name: n, format: wecom, url_env: U, on: [failure]}\n", "c.yaml:3: notify \"n\": on: \"failure\""},
		{"trusted proxy", "state_dir: /x\nhttp:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - proxy.example\n", "c.yaml:5: http.trusted_proxies: \"proxy.example\" is not an address or a CIDR"},
		{"trusted proxy host bits", "state_dir: /x\nhttp:\n  trusted_proxies: [10.1.2.3/8]\n", "c.yaml:3: http.trusted_proxies: \"10.1.2.3/8\" has host bits set: did you mean 10.0.0.0/8?"},
		{"definers value", backupYAML + "drills:\n  - {name: d, backup: b, target_dsn_env: D}\n  - name: e\n    backup: b\n    target_dsn_env: D\n    definers: kept\n", "c.yaml:16: drill \"e\": definers \"kept\" is not keep or strip (did you mean keep?)"},
		{"definers key", backupYAML + "drills:\n  - name: e\n    backup: b\n    target_dsn_env: D\n    definer: strip\n", "c.yaml:15: unknown key definer (did you mean definers?)"},
		{"near miss", "state_dir: /x\nsources:\n  - name: a\n    dns_env: A\n", "c.yaml:4: unknown key dns_env (did you mean dsn_env?)"},
		{"empty", "", "c.yaml: empty configuration"},
		{"bad yaml", "state_dir: [\n", "c.yaml:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(c.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %v, want prefix %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

// backupYAML is a valid config whose last line is a backups[] entry's key,
// line 10: a test adds one more key at line 11.
const backupYAML = "state_dir: /x\nsources: [{name: a, dsn_env: A}]\nstorage:\n  - {name: s, endpoint: e, access_key_env: A, secret_key_env: B}\nbackups:\n  - name: b\n    source: a\n    storage: s\n    bucket: x\n    recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p]\n"

// definers defaults to keep, what the README's restore by hand does.
func TestDrillDefiners(t *testing.T) {
	c, err := Parse("c.yaml", []byte(backupYAML+"drills:\n  - {name: d, backup: b, target_dsn_env: D}\n  - {name: e, backup: b, target_dsn_env: D, definers: strip}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Drill("d"); d.Definers != "keep" {
		t.Errorf("default definers %q", d.Definers)
	}
	if e, _ := c.Drill("e"); e.Definers != "strip" {
		t.Errorf("definers %q", e.Definers)
	}
}

func TestBackupDefaultsAndNewKeys(t *testing.T) {
	c, err := Parse("c.yaml", []byte(backupYAML))
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Backups[0]; b.KeepLast != DefaultKeepLast || b.ReadSchedule != "" || b.Retention != 30*24*time.Hour {
		t.Fatalf("defaults: %+v", b)
	}
	c, err = Parse("c.yaml", []byte(backupYAML+"    keep_last: 7\n    read_schedule: \"*/20 * * * * *\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Backups[0]; b.KeepLast != 7 || b.ReadSchedule != "*/20 * * * * *" {
		t.Fatalf("keys: %+v", b)
	}
	for _, ok := range []string{"*/59 * * * *", "0 */23 * * *", "@every 61s", "*/5 * * * * *", "0 0 */30 * *"} {
		if _, err := ParseSchedule(ok); err != nil {
			t.Errorf("ParseSchedule(%q): %v", ok, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"26h": 26 * time.Hour, "30d": 720 * time.Hour, "1d12h": 36 * time.Hour} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseDuration("soon"); err == nil {
		t.Error("ParseDuration(soon) succeeded")
	}
}

// suiteConfig is a config with one backup job of the given suite line and
// recipients, in dir (so relative recipient paths resolve there).
func suiteConfig(top, job, recipients string) string {
	return "state_dir: /var/lib/atrest\n" + top +
		"sources: [{name: a, dsn_env: A}]\n" +
		"storage:\n  - {name: s, endpoint: e, access_key_env: A, secret_key_env: B}\n" +
		"backups:\n  - name: b\n    source: a\n    storage: s\n    bucket: x\n" + job +
		"    recipients:\n      - " + recipients + "\n"
}

func TestSuites(t *testing.T) {
	dir := t.TempDir()
	priv, err := suite.SM.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := suite.ParseSigningKey(priv)
	pub, _ := suite.MarshalPublicKey(&k.(*sm2.PrivateKey).PublicKey)
	os.WriteFile(filepath.Join(dir, "backup-sm2.pub"), pub, 0o644)
	os.WriteFile(filepath.Join(dir, "backup-sm2.key"), priv, 0o600)
	os.WriteFile(filepath.Join(dir, "age.pub"), []byte("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"), 0o644)
	const ageKey = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	path := filepath.Join(dir, "c.yaml")

	// Defaults: standard everywhere, manifests signed by the journal key.
	c, err := Parse(path, []byte(suiteConfig("", "", ageKey)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Suite != "standard" || c.Journal.Suite != "standard" || c.Backups[0].Suite != "standard" ||
		c.Backups[0].SigningKeyFile != c.Journal.SigningKeyFile {
		t.Errorf("defaults: %+v %+v", c, c.Backups[0])
	}

	// An sm job beside a standard journal: relative recipient path made
	// absolute, its own SM2 manifest key, recipients that load.
	c, err = Parse(path, []byte(suiteConfig("", "    suite: sm\n", "backup-sm2.pub")))
	if err != nil {
		t.Fatal(err)
	}
	b := c.Backups[0]
	if b.Suite != "sm" || b.Recipients[0] != filepath.Join(dir, "backup-sm2.pub") || b.SigningKeyFile != "/var/lib/atrest/manifest-sm2.key" {
		t.Errorf("sm job: %+v", b)
	}
	if rs, err := b.LoadRecipients(); err != nil || len(rs) != 1 || rs[0].Suite() != suite.SM {
		t.Errorf("load sm recipients: %v", err)
	}

	// sm installation: journal and jobs follow; a job may stay standard.
	c, err = Parse(path, []byte(suiteConfig("suite: sm\n", "    suite: standard\n", ageKey)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Journal.Suite != "sm" || c.Backups[0].Suite != "standard" || c.Backups[0].SigningKeyFile != "/var/lib/atrest/manifest-ed25519.key" {
		t.Errorf("sm installation with a standard job: %+v %+v", c.Journal, c.Backups[0])
	}
	c, err = Parse(path, []byte(suiteConfig("suite: sm\n", "", "backup-sm2.pub")))
	if err != nil || c.Backups[0].Suite != "sm" || c.Backups[0].SigningKeyFile != c.Journal.SigningKeyFile {
		t.Errorf("sm installation: %v %+v", err, c)
	}

	for _, x := range []struct{ name, yaml, want string }{
		{"age key in an sm job", suiteConfig("", "    suite: sm\n", ageKey),
			"c.yaml:12: backup \"b\": recipient 1 is an age public key, but the job's suite is sm"},
		{"age key in an sm installation", suiteConfig("suite: sm\n", "", ageKey),
			"c.yaml:12: backup \"b\": recipient 1 is an age public key, but the job's suite is sm"},
		{"SM2 key in a standard job", suiteConfig("", "", "backup-sm2.pub"),
			"c.yaml:11: backup \"b\": recipient 1 is not an age public key (age1…); SM2 public keys need suite: sm"},
		{"missing SM2 key file", suiteConfig("", "    suite: sm\n", "nope.pub"),
			"c.yaml:12: backup \"b\": recipient 1: open " + filepath.Join(dir, "nope.pub")},
		{"private key as a recipient", suiteConfig("", "    suite: sm\n", "backup-sm2.key"),
			"c.yaml:12: backup \"b\": recipient 1: " + filepath.Join(dir, "backup-sm2.key") + " is not an SM2 public key"},
		{"age key in a file for an sm job", suiteConfig("", "    suite: sm\n", "age.pub"),
			"c.yaml:12: backup \"b\": recipient 1: " + filepath.Join(dir, "age.pub") + " is not an SM2 public key"},
		{"unknown suite", suiteConfig("suite: gm\n", "", ageKey), "c.yaml:2: suite \"gm\" is not standard or sm"},
		{"unknown journal suite", suiteConfig("journal:\n  suite: sm3\n", "", ageKey), "c.yaml:3: suite \"sm3\" is not standard or sm"},
		{"unknown job suite", suiteConfig("", "    suite: SM\n", ageKey), "c.yaml:10: suite \"SM\" is not standard or sm"},
	} {
		t.Run(x.name, func(t *testing.T) {
			_, err := Parse(path, []byte(x.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, x.want)) {
				t.Fatalf("got %v\nwant prefix %s", err, filepath.Join(dir, x.want))
			}
		})
	}
}

// drillYAML is backupYAML with a drills[] entry of job b whose last key is
// on line 14: a test adds keys from line 15 on.
const drillYAML = backupYAML + "drills:\n  - name: d\n    backup: b\n    target_dsn_env: DRILL_DSN\n"

// The targets, the subset and canaries of SPEC §8: parsed, and every mistake
// a file:line error that never echoes what was written as the hash.
func TestDrillTargetsSubsetAndCanaries(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	c, err := Parse("c.yaml", []byte(drillYAML+"    rto: 30m\n    rpo: 26h\n    tables: [cb_ryxx, yb.js_jsmx]\n    probes:\n      - {name: canary, sql: \"SELECT 1\", expect_sha256: \""+strings.ToUpper(sum)+"\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Drills[0]
	if d.RTO != 30*time.Minute || d.RPO != 26*time.Hour || strings.Join(d.Tables, ",") != "cb_ryxx,yb.js_jsmx" || d.ExcludeTables != nil {
		t.Fatalf("drill: %+v", d)
	}
	if d.Probes[0].ExpectSHA256 != sum {
		t.Fatalf("expect_sha256 %q, want it lowercased", d.Probes[0].ExpectSHA256)
	}
	if c, err = Parse("c.yaml", []byte(drillYAML)); err != nil || c.Drills[0].RTO != 0 || c.Drills[0].RPO != 0 {
		t.Fatalf("no targets: %v %+v", err, c.Drills[0])
	}
	const secret = "张三|110101199003071234"
	for _, tc := range []struct{ name, yaml, want string }{
		{"value as hash", "    probes:\n      - {name: canary, sql: \"SELECT 1\", expect_sha256: \"" + secret + "\"}\n", "c.yaml:16: drill \"d\": probe 1 (canary): expect_sha256 is not a SHA-256 in hex"},
		{"short hash", "    probes:\n      - name: canary\n        sql: SELECT 1\n        expect_sha256: abcdef\n", "c.yaml:18: drill \"d\": probe 1 (canary): expect_sha256 is not a SHA-256"},
		{"bad rto", "    rto: soon\n", "c.yaml:15: rto:"},
		{"zero rpo", "    rpo: 0s\n", "c.yaml:15: drill \"d\": rpo must be longer than 0"},
		{"both lists", "    tables: [a]\n    exclude_tables: [b]\n", "c.yaml:16: drill \"d\": set tables or exclude_tables, not both"},
		{"empty tables", "    tables: []\n", "c.yaml:15: drill \"d\": tables is empty"},
		{"twice", "    exclude_tables: [a, b, a]\n", "c.yaml:15: drill \"d\": exclude_tables: \"a\" is listed twice"},
		{"not a name", "    tables:\n      - a\n      - yb.\n", "c.yaml:17: drill \"d\": tables 2: \"yb.\" is not a table name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(drillYAML+tc.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want prefix %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "110101") || strings.Contains(err.Error(), "张三") || strings.Contains(err.Error(), "abcdef") {
				t.Fatalf("the error echoes the expect_sha256 value: %v", err)
			}
		})
	}
	// A subset needs a manifest naming the tables: not of a third-party dump.
	dump := "state_dir: /x\nstorage:\n  - {name: s, endpoint: e, access_key_env: A, secret_key_env: B}\nbackups:\n  - {name: b, storage: s, bucket: x, format: mysqldump, key_pattern: \"yb/*.sql.gz\"}\ndrills:\n  - name: d\n    backup: b\n    target_dsn_env: D\n    tables: [cb_ryxx]\n"
	if _, err := Parse("c.yaml", []byte(dump)); err == nil || !strings.HasPrefix(err.Error(), "c.yaml:10: drill \"d\": tables: backup \"b\" is a mysqldump dump") {
		t.Fatalf("subset of a mysqldump job: %v", err)
	}
}
