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

// Object is a schema object beside the tables' rows: a view, trigger,
// routine, event or sequence, or one of a table's indexes and constraints
// (named table.name). A backup records them and a drill reads them back
// from the restored database with the same Digest, so that a restore that
// lost or changed one is caught and named.
type Object struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	// Type is one of the Obj* constants.
	Type string `json:"type"`
	// Digest is the SHA-256 (hex) of the object's definition as the server
	// prints it, normalised for what a restore rewrites without changing
	// the object (definer, quoting, blanks, an event's ENABLE/DISABLE, the
	// scratch database's name): equal digests, the same definition.
	Digest string `json:"digest,omitempty"`
	// Definer is the account the object runs as or belongs to where a
	// restore needs it to exist: MySQL's DEFINER ('user'@'host'), empty
	// for indexes and constraints and on PostgreSQL (whose dumps leave
	// owners out).
	Definer string `json:"definer,omitempty"`
	// Value is a sequence's current value ("42", or "42 (not yet called)").
	Value string `json:"value,omitempty"`
}

// Object types.
const (
	ObjView             = "VIEW"
	ObjMaterializedView = "MATERIALIZED VIEW"
	ObjTrigger          = "TRIGGER"
	ObjProcedure        = "PROCEDURE"
	ObjFunction         = "FUNCTION"
	ObjEvent            = "EVENT"
	ObjSequence         = "SEQUENCE"
	ObjIndex            = "INDEX"
	ObjPrimaryKey       = "PRIMARY KEY"
	ObjUnique           = "UNIQUE"
	ObjForeignKey       = "FOREIGN KEY"
	ObjCheck            = "CHECK"
	ObjExclusion        = "EXCLUSION"
)

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

	Databases []string      `json:"databases"`
	Tables    []TableResult `json:"tables"`
	Views     []Object      `json:"views,omitempty"`
	Triggers  []Object      `json:"triggers,omitempty"`
	Routines  []Object      `json:"routines,omitempty"`
	Sequences []Object      `json:"sequences,omitempty"`
	Events    []Object      `json:"events,omitempty"`
	// Keys are the tables' indexes and constraints, which their DDLHash
	// covers too: listed to name the one a restore lost.
	Keys            []Object  `json:"keys,omitempty"`
	DigestAlgorithm string    `json:"digest_algorithm"`
	Bytes           int64     `json:"bytes"` // SQL bytes written
	Started         time.Time `json:"started"`
	Finished        time.Time `json:"finished"`
}

// Objects lists the dumped views, triggers, routines, sequences, events,
// indexes and constraints.
func (r *DumpResult) Objects() []Object {
	var out []Object
	for _, list := range [][]Object{r.Views, r.Triggers, r.Routines, r.Sequences, r.Events, r.Keys} {
		out = append(out, list...)
	}
	return out
}
