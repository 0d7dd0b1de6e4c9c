package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/backup/drill"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/pick"
	"github.com/atrest/atrest/internal/config"
)

// DrillRequest is what a drill run asks for beyond the configuration: the
// CLI's flags, or nothing for a scheduled drill.
type DrillRequest struct {
	// Name is a drills[] entry, or a backups[] job (then its one drills[]
	// entry, if it has one, gives identity, target and probes).
	Name         string
	BackupKey    string
	Identity     string // overrides identity_file
	TargetDSNEnv string // overrides target_dsn_env
	Keep         bool
	AllowSource  bool
	Parallel     int
}

// Drill runs the drill the request names and returns its record (nil
// when it could not start), the journal entry for it, and the error:
// a *drill.Failure for a drill that ran and failed, another error for one
// that could not run. atrest serve runs scheduled drills through it too.
func Drill(ctx context.Context, cfg *config.Config, req DrillRequest) (*drill.Record, journal.Entry, error) {
	opts, notes, err := drillOptions(ctx, cfg, req)
	if err != nil {
		return nil, DrillEntry(req.Name, nil, err), err
	}
	rec, err := drill.Run(ctx, opts)
	if rec != nil {
		rec.Notes = append(rec.Notes, notes...)
	}
	return rec, DrillEntry(req.Name, rec, err), err
}

// drillOptions resolves the request against the configuration: the job's
// bucket and prefix, the drill's identity, target and probes, the source
// to refuse, the key that signs manifests.
func drillOptions(ctx context.Context, cfg *config.Config, req DrillRequest) (drill.Options, []string, error) {
	var o drill.Options
	var notes []string
	d, job, err := ResolveDrill(cfg, req.Name)
	if err != nil {
		return o, nil, err
	}
	o = drill.Options{
		Job: drill.Job{Name: job.Name, Prefix: job.Prefix, Format: job.Format, KeyPattern: job.KeyPattern,
			Databases: job.Databases},
		BackupKey: req.BackupKey, Keep: req.Keep, AllowSourceServer: req.AllowSource, Parallel: req.Parallel,
	}
	targetEnv := req.TargetDSNEnv
	if d != nil {
		o.Drill, o.Select, o.SelectWindow, o.IdentityFile = d.Name, d.Select, d.SelectWindow, d.IdentityFile
		o.Definers = d.Definers
		o.RTOTarget, o.RPOTarget, o.Tables, o.ExcludeTables = d.RTO, d.RPO, d.Tables, d.ExcludeTables
		for _, p := range d.Probes {
			o.Probes = append(o.Probes, drill.Probe{Name: p.Name, SQL: p.SQL, ExpectSHA256: p.ExpectSHA256})
		}
		if targetEnv == "" {
			targetEnv = d.TargetDSNEnv
		}
	}
	if req.Identity != "" {
		o.IdentityFile = req.Identity
	}
	if targetEnv == "" {
		return o, nil, fmt.Errorf("no drill server: backup job %s has no drills[] entry; give --target-dsn-env NAME", job.Name)
	}
	dsn, err := config.Env("target_dsn_env", targetEnv)
	if err != nil {
		return o, nil, err
	}
	o.TargetDSN = crypto.NewSecret(dsn)
	// The drill server is of the source's family: the source's engine,
	// else the family of the job's dump format, else the DSN's scheme.
	driver := ""
	var seng engine.Engine
	var sdsn string
	src, hasSource := cfg.Source(job.Source)
	if hasSource {
		if len(o.Job.Databases) == 0 {
			o.Job.Databases = src.Databases
		}
		if seng, sdsn, err = SourceEngine(src); err != nil {
			notes = append(notes, fmt.Sprintf("the source's DSN is not available here (%s): the target was compared with the manifest's record of the source only", oneLine(err.Error())))
			driver = src.Driver
		} else {
			driver = seng.Name()
			o.SourceDSN = crypto.NewSecret(sdsn)
		}
	}
	dumps, thirdParty := pick.Format(job.Format)
	if thirdParty && driver == "" {
		driver = dumps.Name()
	}
	if o.Engine, err = pick.Engine(driver, dsn); err != nil {
		return o, nil, fmt.Errorf("%s: %w", targetEnv, err)
	}
	if thirdParty && dumps.Name() != o.Engine.Name() {
		return o, nil, fmt.Errorf("drill %s: format %s holds %s dumps and the source %s is %s", job.Name, job.Format, dumps.Name(), job.Source, o.Engine.Name())
	}
	if job.Format == "atrest" {
		if o.Keys, err = ManifestKeys(cfg); err != nil {
			return o, nil, fmt.Errorf("%w (run atrest init --config %s)", err, cfg.Path)
		}
	}
	if o.Store, err = OpenStore(ctx, cfg, job); err != nil {
		return o, nil, err
	}
	return o, notes, nil
}

// ResolveDrill finds the drills[] entry and its job, or the job and its
// one drills[] entry.
func ResolveDrill(cfg *config.Config, name string) (*config.Drill, *config.Backup, error) {
	if d, ok := cfg.Drill(name); ok {
		job, ok := cfg.Backup(d.Backup)
		if !ok {
			return nil, nil, fmt.Errorf("drill %s: backup %q is not a backups[] entry in %s", name, d.Backup, cfg.Path)
		}
		return d, job, nil
	}
	job, ok := cfg.Backup(name)
	if !ok {
		return nil, nil, fmt.Errorf("--job %q is neither a drills[] entry nor a backups[] job in %s", name, cfg.Path)
	}
	var refs []*config.Drill
	for i := range cfg.Drills {
		if cfg.Drills[i].Backup == name {
			refs = append(refs, &cfg.Drills[i])
		}
	}
	switch len(refs) {
	case 0:
		return nil, job, nil
	case 1:
		return refs[0], job, nil
	}
	names := make([]string, len(refs))
	for i, d := range refs {
		names[i] = d.Name
	}
	return nil, nil, fmt.Errorf("backup job %s has %d drills (%s): name one with --job", name, len(refs), strings.Join(names, ", "))
}

// DrillEntry is the journal entry of a drill run: figures are counts and
// durations (the failure class as a one-key map; targets with rto_met and
// rpo_met where judged; subset and tables_not_run), the backup key, the
// failure's words and a missed target go in the detail. A drill that
// passed but missed a target stays outcome ok: the backup is proven.
func DrillEntry(subject string, rec *drill.Record, err error) journal.Entry {
	e := journal.Entry{Kind: "drill.run", Subject: subject, Outcome: "ok"}
	var detail []string
	if rec != nil {
		p := rec.Phases
		e.Figures = map[string]any{
			"rpo_seconds": rec.RPOSeconds, "seconds": rec.Seconds,
			"tables": len(rec.Tables), "tables_matched": rec.TablesMatched, "rows": rec.Rows,
			"bytes": rec.Bytes, "sql_bytes": rec.SQLBytes, "probes": len(rec.Probes),
			"digests_verified": rec.Digests == "verified", "retried": rec.Retried,
			"scratch_dropped": rec.Dropped, "leftovers_dropped": len(rec.Cleaned),
			"phases": map[string]any{
				"select_seconds": p.SelectSeconds, "download_seconds": p.DownloadSeconds,
				"decrypt_seconds": p.DecryptSeconds, "decompress_seconds": p.DecompressSeconds,
				"load_seconds": p.LoadSeconds, "verify_seconds": p.VerifySeconds,
				"probe_seconds": p.ProbeSeconds, "cleanup_seconds": p.CleanupSeconds,
			},
		}
		if rec.Status == drill.StatusPass {
			e.Figures["rto_seconds"] = rec.RTOSeconds
		}
		// Targets: the report's 8.1.4.9a and /metrics read them.
		if rec.RTOTargetSeconds > 0 {
			e.Figures["rto_target_seconds"] = rec.RTOTargetSeconds
		}
		if rec.RTO != "" {
			e.Figures["rto_met"] = rec.RTO == drill.TargetMet
		}
		if rec.RPOTargetSeconds > 0 {
			e.Figures["rpo_target_seconds"] = rec.RPOTargetSeconds
		}
		if rec.RPO != "" {
			e.Figures["rpo_met"] = rec.RPO == drill.TargetMet
		}
		if rec.Subset {
			e.Figures["subset"] = true
			e.Figures["tables_not_run"] = rec.TablesNotRun
		}
		if rec.Failure != "" {
			e.Figures["failure"] = map[string]any{rec.Failure: 1}
		}
		if rec.Suite != "" {
			e.Figures["suite"] = map[string]any{rec.Suite: 1} // the backup's; the report's 8.1.10.9 reads it
		}
		if rec.Backup != "" {
			detail = append(detail, "backup "+rec.Backup)
		}
	}
	if rec != nil && err == nil {
		// The outcome stays ok (the backup restored and verified); a
		// missed target is said with its figure.
		if missed := rec.Missed(); len(missed) > 0 {
			detail = append(detail, "targets missed: "+strings.Join(missed, "; "))
		}
	}
	var f *drill.Failure
	switch {
	case errors.As(err, &f):
		e.Outcome = "fail"
		detail = append(detail, f.Class+": "+f.Detail)
	case err != nil:
		e.Outcome = "error"
		detail = append(detail, oneLine(err.Error()))
	}
	e.Detail = strings.Join(detail, "; ")
	if rec != nil && rec.Backup != "" && e.Outcome != "error" {
		state := journal.BackupRestored
		if e.Outcome == "fail" {
			state = journal.BackupRestoreFailed
		}
		e.Items = []journal.Item{{Kind: journal.ItemBackup, Name: rec.Backup, State: state}}
	}
	return e
}
