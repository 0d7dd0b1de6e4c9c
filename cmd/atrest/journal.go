package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/internal/config"
)

// openJournal opens the installation's journal for appending, with its
// anchor when journal.anchor is configured.
func openJournal(cfg *config.Config) (*journal.Journal, error) {
	key, err := crypto.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("journal: %w (run atrest init --config %s)", err, cfg.Path)
	}
	anchor, err := journalAnchor(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	// The journal's errors begin "journal: " and name the file.
	return journal.Open(cfg.JournalDir(), key, journal.Options{Anchor: anchor})
}

// journalAnchor is the bucket that keeps copies of the checkpoints, or nil.
// Each host writes under <prefix><hostname>/, so installations can share a
// bucket without refusing each other's copies.
func journalAnchor(ctx context.Context, cfg *config.Config) (journal.Anchor, error) {
	a := cfg.Journal.Anchor
	if a == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := openBucket(ctx, cfg, a.Storage, a.Bucket)
	if err != nil {
		return nil, fmt.Errorf("journal anchor: %s", oneLine(err.Error()))
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return backup.JournalAnchor{Store: store, Prefix: a.Prefix + host + "/"}, nil
}

// record appends entries for one run and closes the journal, which signs a
// checkpoint over them (and copies it to the anchor). Without a config there
// is no journal and nothing to do. The errors are the journal's own, which
// begin "journal: " already.
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
		return err
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
