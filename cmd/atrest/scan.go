package main

import (
	"fmt"
	"os"

	"github.com/atrest/atrest/audit"
	"github.com/atrest/atrest/audit/dbsrc"

	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/output"
	"github.com/spf13/cobra"
)

func newScanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Find identifiers stored in plaintext in files or database columns (MySQL/MariaDB, PostgreSQL)",
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

// junitCommands write records that are test cases (--format junit).
var junitCommands = map[string]bool{"atrest backup check": true, "atrest drill run": true}

// writer opens the output in the chosen format on stdout.
func (c *commonFlags) writer(cmd *cobra.Command) (output.Writer, error) {
	if f := c.outFormat(cmd); f == "junit" && !junitCommands[cmd.CommandPath()] {
		// Its records are no test cases: an empty document would read as
		// a pass.
		return nil, fmt.Errorf("%s: --format junit is for backup check and drill run", cmd.CommandPath())
	}
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

// onlyFlag is --only: "plaintext" keeps what is wrong (SPEC §8).
type onlyFlag struct{ only string }

func (o *onlyFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.only, "only", "", `"plaintext": print only what is wrong (plaintext columns and findings, files not read, tables not sampled, a server with a weakness), and the summary`)
}

func (o *onlyFlag) check(cmd *cobra.Command) error {
	if o.only != "" && o.only != "plaintext" {
		return fmt.Errorf("%s: --only %q: the one choice is plaintext", cmd.CommandPath(), o.only)
	}
	return nil
}

// keep says whether --only lets a record through. The journal and the
// summary still count everything.
func (o *onlyFlag) keep(rec any) bool {
	if o.only == "" {
		return true
	}
	switch r := rec.(type) {
	case audit.FileRecord:
		return len(r.ByType) > 0 || r.NotRead != ""
	case *dbsrc.ColumnVerdict:
		return r.State == dbsrc.StatePlaintext
	case *dbsrc.TableRecord:
		return r.Error != "" || r.PlaintextColumns > 0
	case *dbsrc.ServerRecord:
		return r.Severity == dbsrc.SeverityHigh || r.Severity == dbsrc.SeverityMedium
	}
	return true // findings; a column of a database file scanned as a file
}
