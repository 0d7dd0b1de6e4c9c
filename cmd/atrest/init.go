package main

import (
	"fmt"
	"os"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto"
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
		Long: `init prepares an installation: it creates state_dir (mode 0700), the journal
directory, the fingerprint key (HMAC key for fingerprints) and the journal signing
key (ed25519), each mode 0600, where they are missing. An existing key is never
overwritten: losing the fingerprint key breaks correlation with earlier scans, and
losing the signing key breaks verification of earlier checkpoints.`,
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
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	for _, dir := range []string{cfg.StateDir, cfg.JournalDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("init: %w", err)
		}
	}
	out := cmd.OutOrStdout()
	var events []journal.Entry
	for _, k := range []struct {
		what, path string
		gen        func() ([]byte, error)
	}{
		{"fingerprint key", cfg.FingerprintKeyFile, crypto.NewFingerprintKey},
		{"journal signing key", cfg.Journal.SigningKeyFile, crypto.NewSigningKey},
	} {
		created, err := crypto.EnsureKeyFile(k.path, k.gen)
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		state := "kept (exists)"
		if created {
			state = "created"
			events = append(events, journal.Entry{Kind: "key.create", Subject: k.what, Outcome: "ok", Detail: k.path})
		}
		fmt.Fprintf(out, "%-20s %s  %s\n", k.what, k.path, state)
	}
	fmt.Fprintf(out, "%-20s %s\n", "state directory", cfg.StateDir)
	events = append(events, journal.Entry{Kind: "init", Subject: cfg.Path, Outcome: "ok",
		Figures: map[string]any{"keys_created": len(events)}})
	if err := record(cfg, events...); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	fmt.Fprintf(out, "%-20s %s\n", "journal", cfg.JournalDir())
	return nil
}
