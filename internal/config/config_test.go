package config

import (
	"strings"
	"testing"
	"time"
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
		{"duplicate name", "state_dir: /x\nfile_roots:\n  - {name: r, paths: [/a]}\n  - {name: r, paths: [/b]}\n", "c.yaml:4: file root \"r\" defined twice"},
		{"syslog transport", "state_dir: /x\njournal:\n  syslog:\n    address: h:514\n    transport: relp\n", "c.yaml:5: journal.syslog.transport \"relp\""},
		{"syslog address", "state_dir: /x\njournal:\n  syslog: {address: loghost}\n", "c.yaml:3: journal.syslog.address \"loghost\""},
		{"unknown driver", "state_dir: /x\nsources:\n  - name: a\n    dsn_env: A\n    driver: oracle\n", "c.yaml:5: source \"a\": driver \"oracle\" is not one of mysql, postgres"},
		{"unknown format", "state_dir: /x\nstorage:\n  - {name: s, endpoint: e, access_key_env: A, secret_key_env: B}\nbackups:\n  - name: b\n    storage: s\n    bucket: x\n    format: pg_dumpall\n", "c.yaml:8: backup \"b\": format \"pg_dumpall\" is not atrest, mysqldump or pg_dump"},
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
