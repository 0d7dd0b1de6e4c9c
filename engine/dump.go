package engine

import "time"

// DumpOptions select what Engine.Dump reads and how.
type DumpOptions struct {
	// Databases to dump; none means every database but the server's own.
	Databases []string
	// Parallel is the number of connections that read tables at once
	// (default 1), all in the same snapshot.
	Parallel int
}

// TableResult is what a manifest records about a dumped table, and what a
// drill recomputes from the restored one: they match exactly when the
// stored content is the same, whatever the row order.
type TableResult struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Rows     int64  `json:"rows"`
	Digest   string `json:"digest"`   // hex; see DumpResult.DigestAlgorithm
	DDLHash  string `json:"ddl_hash"` // SHA-256 hex of the table's definition, normalised
}

// Object names a view, trigger, routine or sequence.
type Object struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Type     string `json:"type"` // VIEW, TRIGGER, PROCEDURE, FUNCTION, SEQUENCE
}

// DumpResult describes a finished dump.
type DumpResult struct {
	Server Server `json:"server"`
	// SnapshotTime is when the snapshot was opened (this host's clock, UTC).
	SnapshotTime time.Time `json:"snapshot_time"`
	// The snapshot's place in the server's history, for point-in-time
	// recovery: MySQL's binlog file, position and GTID set, PostgreSQL's
	// WAL position.
	BinlogFile string `json:"binlog_file,omitempty"`
	BinlogPos  uint64 `json:"binlog_pos,omitempty"`
	GTID       string `json:"gtid,omitempty"`
	LSN        string `json:"lsn,omitempty"`
	// PositionExact is true when the position is that of the snapshot
	// itself rather than read near it.
	PositionExact bool `json:"position_exact"`
	// Consistency says how the snapshot was made; Notes say what could not
	// be had (a privilege, a binary log, …).
	Consistency string        `json:"consistency"`
	Notes       []string      `json:"notes,omitempty"`
	Parallel    int           `json:"parallel"` // connections actually used
	LockHeld    time.Duration `json:"lock_held_ns,omitempty"`

	Databases       []string      `json:"databases"`
	Tables          []TableResult `json:"tables"`
	Views           []Object      `json:"views,omitempty"`
	Triggers        []Object      `json:"triggers,omitempty"`
	Routines        []Object      `json:"routines,omitempty"`
	Sequences       []Object      `json:"sequences,omitempty"`
	DigestAlgorithm string        `json:"digest_algorithm"`
	Bytes           int64         `json:"bytes"` // SQL bytes written
	Started         time.Time     `json:"started"`
	Finished        time.Time     `json:"finished"`
}

// Objects lists the dumped views, triggers, routines and sequences.
func (r *DumpResult) Objects() []Object {
	var out []Object
	for _, list := range [][]Object{r.Views, r.Triggers, r.Routines, r.Sequences} {
		out = append(out, list...)
	}
	return out
}
