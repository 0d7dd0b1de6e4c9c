package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/backup/s3store"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/crypto/suite"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/jobs"
)

func newBackupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Make encrypted MySQL/MariaDB backups in object storage, and check any job's backups",
		Long: `A backup is a consistent snapshot of the job's databases as plain SQL, compressed
(zstd) and encrypted (age, or SM4 for a job of suite sm, to the job's recipients:
producing a backup needs no secret) on the way to S3-compatible storage, plus a
manifest uploaded last and signed with the job's key (Ed25519, or SM2). The manifest records every table's row count and
content digest, the snapshot's binlog position, the sizes and the SHA-256 of the SQL
and of the stored object. No manifest, no backup.

Objects, under the job's prefix (UTC time with milliseconds, a random tag):
  <prefix><job>/YYYY/MM/DD/<job>-YYYYMMDDTHHMMSS.mmmZ-<tag>.sql.zst.age
  <prefix><job>/YYYY/MM/DD/<job>-YYYYMMDDTHHMMSS.mmmZ-<tag>.sql.zst.age.manifest.json
  (.sql.zst.sm4 for suite sm)

Restore by hand:  age -d -i backup.agekey X.sql.zst.age | zstd -d | mariadb
(an sm backup: openssl pkeyutl, openssl enc -sm4-ctr, zstd; README, "Restoring an sm
backup by hand")`,
	}
	cmd.AddCommand(newBackupRunCmd(), newBackupCheckCmd(), newBackupPruneCmd())
	return cmd
}

// loadJob loads the configuration and finds the job.
func loadJob(verb, path, name string) (*config.Config, *config.Backup, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	job, ok := cfg.Backup(name)
	if !ok {
		return cfg, nil, fmt.Errorf("%s: --job %q is not a backups[] entry in %s", verb, name, cfg.Path)
	}
	return cfg, job, nil
}

// selectJobs returns the backups[] job named name, or every job when name
// is "" (verb names the command in errors).
func selectJobs(cfg *config.Config, verb, name string) ([]config.Backup, error) {
	jobs := cfg.Backups
	if name != "" {
		job, ok := cfg.Backup(name)
		if !ok {
			return nil, fmt.Errorf("%s: --job %q is not a backups[] entry in %s", verb, name, cfg.Path)
		}
		jobs = []config.Backup{*job}
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("%s: no backups[] in %s", verb, cfg.Path)
	}
	return jobs, nil
}

// openStore connects to the job's bucket with the storage's credentials,
// so that wrong credentials, a missing bucket or an unreachable endpoint
// stop the run before any work, in s3store's one-line words.
func openStore(ctx context.Context, cfg *config.Config, job *config.Backup) (*s3store.Store, error) {
	return openBucket(ctx, cfg, job.Storage, job.Bucket)
}

// openBucket opens bucket on the storage[] entry named storage, with the
// credentials its _env keys name.
func openBucket(ctx context.Context, cfg *config.Config, storage, bucket string) (*s3store.Store, error) {
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

// loadIdentity reads an identity file: age-keygen's format, or an SM2
// private key in PEM (sm).
func loadIdentity(path string) ([]suite.Identity, error) {
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

// sourceEngine resolves a sources[] entry's DSN and its engine.
func sourceEngine(src *config.Source) (engine.Engine, string, error) {
	spec, err := jobs.SourceScan(src)
	return spec.Engine, spec.DSN, err
}
