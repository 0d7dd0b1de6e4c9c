package main

import (
	"fmt"
	"os"

	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/output"
	"github.com/spf13/cobra"
)

func newScanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Find identifiers stored in plaintext in files or MySQL/MariaDB columns",
	}
	cmd.AddCommand(newScanFilesCmd(), newScanDBCmd())
	return cmd
}

// commonFlags are the flags every reporting command shares.
type commonFlags struct {
	configPath string
	format     string
}

func (c *commonFlags) add(cmd *cobra.Command, formats string) {
	cmd.Flags().StringVar(&c.configPath, "config", "", "configuration file: journal the run and use the installation's fingerprint key")
	cmd.Flags().StringVar(&c.format, "format", "", "output format: "+formats+" (default: table on a terminal, jsonl otherwise)")
}

// outFormat is --format, or its default: table on a terminal, jsonl otherwise.
func (c *commonFlags) outFormat(cmd *cobra.Command) string {
	if c.format != "" {
		return c.format
	}
	if out, ok := cmd.OutOrStdout().(*os.File); ok {
		return output.DefaultFormat(out)
	}
	return "jsonl"
}

// writer opens the output in the chosen format on stdout.
func (c *commonFlags) writer(cmd *cobra.Command) (output.Writer, error) {
	w, err := output.New(c.outFormat(cmd), cmd.OutOrStdout())
	if err != nil {
		return nil, fmt.Errorf("%s: --format: %w", cmd.CommandPath(), err)
	}
	return w, nil
}

// loadConfig loads --config when given (nil otherwise).
func (c *commonFlags) loadConfig() (*config.Config, error) {
	if c.configPath == "" {
		return nil, nil
	}
	return config.Load(c.configPath)
}
