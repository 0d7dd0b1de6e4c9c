package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/internal/config"
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
	selected := cfg.Backups
	if name != "" {
		job, ok := cfg.Backup(name)
		if !ok {
			return nil, fmt.Errorf("%s: --job %q is not a backups[] entry in %s", verb, name, cfg.Path)
		}
		selected = []config.Backup{*job}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("%s: no backups[] in %s", verb, cfg.Path)
	}
	return selected, nil
}
