package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/config"
	"github.com/spf13/cobra"
)

type initOptions struct {
	configPath string
}

func newInitCmd() *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init --config FILE",
		Short: "Create the state directory and the keys the config names (never overwrites a key)",
		Long: `init prepares an installation. Given a config file that does not exist yet, it
first writes a starter there (state_dir beside it, the host's time zone, a file
root to fill in; every other key is in configs/atrest.example.yaml).

It creates state_dir (mode 0700), the journal
directory, the fingerprint key (HMAC key for fingerprints), the journal signing
key (ed25519, or for an sm journal an SM2 private key in PEM, as openssl genpkey
writes it) and the manifest signing key of every backup job whose suite differs
from the journal's (SM2 for sm jobs, ed25519 for standard ones), each mode 0600,
where they are missing. An existing key is never overwritten: losing the
fingerprint key breaks correlation with earlier scans, and losing the signing key
breaks verification of earlier checkpoints. A kept key of the other suite than the
config asks for is reported: a journal keeps the suite of its key for life.

init needs no network: it does not contact the databases, the object storage or
the journal anchor.`,
		Example: "  atrest init --config /etc/atrest/atrest.yaml",
		Args:    requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInit(cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.configPath, "config", "", "configuration file (required)")
	cmd.MarkFlagRequired("config")
	return cmd
}

func runInit(cmd *cobra.Command, o initOptions) error {
	out := cmd.OutOrStdout()
	if _, err := os.Stat(o.configPath); errors.Is(err, fs.ErrNotExist) {
		if err := writeStarterConfig(o.configPath); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		fmt.Fprintf(out, "%-20s %s  written (a starter: edit it, then run init again)\n", "config", o.configPath)
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	for _, dir := range []string{cfg.StateDir, cfg.JournalDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("init: %w", err)
		}
	}
	var events []journal.Entry
	for _, k := range initKeys(cfg) {
		created, err := crypto.EnsureKeyFile(k.path, k.gen)
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		state := "created"
		if created {
			events = append(events, journal.Entry{Kind: "key.create", Subject: k.what, Outcome: "ok", Detail: k.path})
		} else if state, err = keptKey(k); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		fmt.Fprintf(out, "%-20s %s  %s\n", k.what, k.path, state)
	}
	fmt.Fprintf(out, "%-20s %s\n", "state directory", cfg.StateDir)
	events = append(events, journal.Entry{Kind: "init", Subject: cfg.Path, Outcome: "ok",
		Figures: map[string]any{"keys_created": len(events)}})
	// Keys and the local journal need no network: init journals without the
	// anchor, whose bucket may not exist yet; the next run's checkpoint is
	// copied there.
	local := *cfg
	local.Journal.Anchor = nil
	if err := record(&local, events...); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if cfg.Journal.Anchor != nil {
		fmt.Fprintf(out, "%-20s %s/%s (not contacted by init; the next run copies its checkpoint there)\n", "journal anchor", cfg.Journal.Anchor.Storage, cfg.Journal.Anchor.Bucket)
	}
	fmt.Fprintf(out, "%-20s %s\n", "journal", cfg.JournalDir())
	return nil
}

// initKey is a key file init makes when it is missing; suite is nil for the
// fingerprint key, which any suite uses.
type initKey struct {
	what, path string
	gen        func() ([]byte, error)
	suite      suite.Suite
}

// initKeys lists the installation's keys: the fingerprint key, the journal
// key of the journal's suite, and the manifest key of each job of another
// suite (one file per path: jobs of one suite share it by default).
func initKeys(cfg *config.Config) []initKey {
	js, _ := suite.Get(cfg.Journal.Suite) // config checked the name
	keys := []initKey{
		{"fingerprint key", cfg.FingerprintKeyFile, crypto.NewFingerprintKey, nil},
		{"journal signing key", cfg.Journal.SigningKeyFile, js.NewSigningKey, js},
	}
	seen := map[string]bool{cfg.Journal.SigningKeyFile: true}
	for _, b := range cfg.Backups {
		if b.Format != "atrest" || seen[b.SigningKeyFile] {
			continue
		}
		seen[b.SigningKeyFile] = true
		s, _ := suite.Get(b.Suite)
		keys = append(keys, initKey{"manifest key (" + s.Name() + ")", b.SigningKeyFile, s.NewSigningKey, s})
	}
	return keys
}

// keptKey describes a key init left as it was, and says so when it is of
// another suite than the config asks for.
func keptKey(k initKey) (string, error) {
	if k.suite == nil {
		return "kept (exists)", nil
	}
	key, err := suite.LoadSigningKey(k.path)
	if err != nil {
		return "", err
	}
	has, err := suite.Of(key)
	if err != nil {
		return "", err
	}
	if has == k.suite {
		return "kept (exists)", nil
	}
	if k.what == "journal signing key" {
		return fmt.Sprintf("kept (exists, a key of suite %s: the journal stays %s, as a journal keeps its suite for life)", has.Name(), has.Name()), nil
	}
	return fmt.Sprintf("kept (exists, a key of suite %s where %s is needed: the jobs of suite %s cannot sign their manifests with it)",
		has.Name(), k.suite.Name(), k.suite.Name()), nil
}

// starterConfig is what init writes where no config exists: enough to scan
// files and keep a journal, with pointers to the rest.
const starterConfig = `# atrest configuration, written by atrest init. Every key, with what it is for:
# configs/atrest.example.yaml in the source, or README.md "Configuration".
# Secrets never sit here: a key ending in _env names an environment variable,
# one ending in _file names a file. Relative paths are relative to this file.

state_dir: atrest-state          # keys, the journal (state_dir/journal/) and local state
# timezone: Asia/Shanghai        # default: this host's

journal:
  retention: 180d                # at least six months, as the law asks
  # anchor: {storage: backup-s3, bucket: atrest-journal}   # copies of the checkpoints

file_roots:
  - name: exports                # scan with: atrest scan files --config THIS_FILE
    paths: [/srv/exports]        # the shares where exports land
    # scan_schedule: "0 3 * * 0" # for atrest serve

# sources:                       # databases to scan and back up
#   - {name: yb-prod, dsn_env: YB_DSN, databases: [yb]}
# storage:                       # S3-compatible object storage
#   - {name: backup-s3, endpoint: "s3.example:9000", access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
# backups, drills, notify, http: see configs/atrest.example.yaml
`

func writeStarterConfig(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(starterConfig); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
