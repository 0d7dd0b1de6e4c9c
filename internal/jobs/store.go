package jobs

import (
	"context"
	"fmt"
	"os"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/internal/config"
)

// OpenStore connects to the job's bucket with the storage's credentials,
// so that wrong credentials, a missing bucket or an unreachable endpoint
// stop the run before any work, in s3store's one-line words.
func OpenStore(ctx context.Context, cfg *config.Config, job *config.Backup) (*s3store.Store, error) {
	return OpenBucket(ctx, cfg, job.Storage, job.Bucket)
}

// OpenBucket opens bucket on the storage[] entry named storage, with the
// credentials its _env keys name.
func OpenBucket(ctx context.Context, cfg *config.Config, storage, bucket string) (*s3store.Store, error) {
	st, ok := cfg.StorageByName(storage)
	if !ok {
		return nil, fmt.Errorf("storage %q is not a storage[] entry", storage)
	}
	access, err := config.Env("storage "+st.Name+": access_key_env", st.AccessKeyEnv)
	if err != nil {
		return nil, err
	}
	secret, err := config.Env("storage "+st.Name+": secret_key_env", st.SecretKeyEnv)
	if err != nil {
		return nil, err
	}
	return s3store.New(ctx, s3store.Config{Endpoint: st.Endpoint, Secure: st.Secure, Region: st.Region,
		AccessKey: access, SecretKey: crypto.NewSecret(secret), Bucket: bucket})
}

// LoadIdentity reads an identity file: age-keygen's format, or an SM2
// private key in PEM (sm).
func LoadIdentity(path string) ([]suite.Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	ids, err := suite.ParseIdentities(data)
	if err != nil {
		return nil, fmt.Errorf("identity %s: %s", path, oneLine(err.Error()))
	}
	return ids, nil
}

// SourceEngine resolves a sources[] entry's DSN and its engine.
func SourceEngine(src *config.Source) (engine.Engine, string, error) {
	spec, err := SourceScan(src)
	return spec.Engine, spec.DSN, err
}

// OpenAnchor opens the bucket of journal.anchor (configured) at this
// host's prefix.
func OpenAnchor(ctx context.Context, cfg *config.Config) (backup.JournalAnchor, error) {
	a := cfg.Journal.Anchor
	store, err := OpenBucket(ctx, cfg, a.Storage, a.Bucket)
	if err != nil {
		return backup.JournalAnchor{}, err
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return backup.JournalAnchor{Store: store, Prefix: a.Prefix + host + "/"}, nil
}

// ManifestKeys are the public halves of every key this installation signs
// manifests with, of both suites (config.ManifestKeyFiles): what check,
// drill, prune and Reconcile trust a manifest by.
func ManifestKeys(cfg *config.Config) (backup.Keys, error) {
	return backup.LoadKeys(cfg.ManifestKeyFiles())
}
