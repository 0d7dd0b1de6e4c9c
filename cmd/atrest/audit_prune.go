package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/internal/config"
)

type auditPruneOptions struct {
	configPath string
	dryRun     bool
}

func newAuditPruneCmd() *cobra.Command {
	var o auditPruneOptions
	cmd := &cobra.Command{
		Use:   "prune [--config FILE] [--dry-run]",
		Short: "Delete journal segments older than journal.retention, below the newest anchored checkpoint",
		Long: `prune deletes whole journal segments (one a month at most) whose every entry is
older than journal.retention (at least 180 days, as the law asks), never the
newest segment, and only below the newest checkpoint the anchor bucket holds,
so the anchor still proves what the deleted entries added up to. The journal
must verify first; nothing is pruned from a broken one.

It leaves state_dir/journal/base.json: the last deleted entry's hash and a
checkpoint signed at exactly its size. audit verify starts from there and
says so ("entries 1..N pruned"); a checkpoint kept with audit checkpoint that
is older than the pruned entries can no longer be held against them. The prune
is journaled (journal.prune). atrest serve prunes once a day.

--dry-run lists what would go.`,
		Example: `  atrest audit prune --config /etc/atrest/atrest.yaml --dry-run`,
		Args:    requireNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(o.configPath)
			if err != nil {
				return err
			}
			res, err := pruneJournal(cmd.Context(), cfg, o.dryRun)
			if err != nil {
				return fmt.Errorf("audit prune: %w", err)
			}
			out := cmd.OutOrStdout()
			verb := "deleted"
			if o.dryRun {
				verb = "would delete"
			}
			if len(res.Segments) > 0 {
				fmt.Fprintf(out, "journal %s: %s %s", cfg.JournalDir(), verb, strings.Join(res.Segments, ", "))
				if res.Through > 0 {
					fmt.Fprintf(out, " (entries up to %d)", res.Through)
				}
				fmt.Fprintln(out)
			} else {
				fmt.Fprintf(out, "journal %s: nothing to prune (retention %s)\n", cfg.JournalDir(), backup.HumanDuration(cfg.Journal.Retention))
			}
			if res.Reason != "" {
				fmt.Fprintf(out, "  kept from here: %s\n", res.Reason)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.configPath, "config", defaultConfigPath(), "configuration file ($ATREST_CONFIG, else /etc/atrest/atrest.yaml)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "list what would be deleted; delete nothing")
	return cmd
}
