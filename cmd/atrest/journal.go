package main

import (
	"context"
	gocrypto "crypto"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/audit/syslog"
	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/internal/config"
)

// openJournal opens the installation's journal for appending, with its
// anchor when journal.anchor is configured.
func openJournal(cfg *config.Config) (*journal.Journal, error) {
	key, err := suite.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("journal: %w (run atrest init --config %s)", err, cfg.Path)
	}
	anchor, err := journalAnchor(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	j, err := journal.Open(cfg.JournalDir(), key, journal.Options{Anchor: anchor})
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", cfg.JournalDir(), err)
	}
	return j, nil
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
// is no journal and nothing to do.
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
	if err := j.Close(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	forwardSyslog(cfg)
	return nil
}

// syslogForwarder is the forwarder of journal.syslog, or nil when none is
// configured.
func syslogForwarder(cfg *config.Config) (*syslog.Forwarder, error) {
	s := cfg.Journal.Syslog
	if s == nil {
		return nil, nil
	}
	return syslog.New(syslog.Config{Address: s.Address, Transport: s.Transport, CAFile: s.CAFile},
		cfg.JournalDir(), filepath.Join(cfg.StateDir, "syslog"))
}

// forwardSyslog makes one bounded attempt to forward what this command
// journaled. A receiver that is down costs a few seconds at most and loses
// nothing: the entries wait in the journal for the next command or for
// atrest serve, which forwards continuously. The run's own outcome never
// depends on it; a failure is one line on stderr.
func forwardSyslog(cfg *config.Config) {
	f, err := syslogForwarder(cfg)
	if f == nil && err == nil {
		return
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = f.Flush(ctx)
		cancel()
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "atrest: warning: %s (the entries wait in the journal)\n", oneLine(err.Error()))
	}
}

// journalVerifyKey derives the checkpoint verification key (Ed25519 or SM2)
// from the journal's signing key.
func journalVerifyKey(cfg *config.Config) (gocrypto.PublicKey, error) {
	key, err := suite.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	return key.Public(), nil
}

// journalPublicKey is the journal's Ed25519 key, which signs and verifies
// manifests (the SM2 manifests of sm jobs arrive with issue 12's stage 2).
func journalPublicKey(cfg *config.Config) (ed25519.PublicKey, error) {
	key, err := crypto.LoadSigningKey(cfg.Journal.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	return key.Public().(ed25519.PublicKey), nil
}
