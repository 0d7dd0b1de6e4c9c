package main

import (
	"crypto/ed25519"
	"fmt"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/internal/config"
)

// openJournal opens the installation's journal for appending.
func openJournal(cfg *config.Config) (*journal.Journal, error) {
	key, err := crypto.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("journal: %w (run atrest init --config %s)", err, cfg.Path)
	}
	j, err := journal.Open(cfg.JournalDir(), key, journal.Options{})
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", cfg.JournalDir(), err)
	}
	return j, nil
}

// record appends entries for one run and closes the journal, which signs a
// checkpoint over them. Without a config there is no journal and nothing to do.
func record(cfg *config.Config, entries ...journal.Entry) error {
	if cfg == nil || len(entries) == 0 {
		return nil
	}
	j, err := openJournal(cfg)
	if err != nil {
		return err
	}
	if _, err := j.AppendBatch(entries); err != nil {
		j.Close()
		return fmt.Errorf("journal: %w", err)
	}
	return j.Close()
}

// journalPublicKey derives the checkpoint verification key from the signing key.
func journalPublicKey(cfg *config.Config) (ed25519.PublicKey, error) {
	key, err := crypto.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	return key.Public().(ed25519.PublicKey), nil
}
