// Package daemon is what `atrest serve` runs: a scheduler that triggers the
// configured scans, backups, checks and drills on their cron schedules, and
// an HTTP server for /healthz and /metrics.
//
// A run is a Job's Run func, the same function the CLI calls; the daemon
// adds the scheduling around it (one run per job at a time, jitter, catch-up
// of missed drills, graceful shutdown, reload) and journals every outcome,
// including runs it skipped or cancelled. The journal is the only state: the
// metrics are read back from it at start and kept up to date by following
// it, so a restart loses nothing and runs started from the CLI show too.
//
// The package never reads the wall clock directly (time comes from a Clock),
// never logs an identifier (a log line names the kind, the job and the
// outcome; details stay in the journal), and never opens or closes the
// journal: the caller owns it for the daemon's lifetime.
package daemon
