// Package engine is the seam between atrest's jobs and the database families
// they work on. A family implements Engine once (engine/mysql: MySQL and
// MariaDB; engine/postgres: PostgreSQL); the scan (audit/dbsrc), the backup
// pipeline (backup) and the restore drill (backup/drill) are written once
// against it and know no family. engine/pick chooses the family for a DSN:
// it is the one place where a DSN's scheme or a source's driver: is read.
//
// What each job asks of a database, one small interface per role:
//
//   - a scan: the server's own record, the tables with their columns,
//     sampling key and encryption at rest, and rows read a little at a time
//     (Scanner, Reader);
//   - a backup: a consistent snapshot written as SQL that the family's own
//     client loads, with every table's row count and content digest read
//     from the very rows dumped (Engine.Dump);
//   - a drill: the server's identity (to refuse the source), scratch
//     databases marked as atrest's (to drop only what atrest made), a loader,
//     and the digests of what was loaded (Target).
//
// The package holds the vocabulary (the interfaces and the plain values
// that cross them) and the few helpers both families share (RowSum, the
// digest's arithmetic; EachBySize; Redactor). It must never import a
// database driver, and nothing in it may carry a row value or a password.
package engine

import (
	"context"
	"io"
)

// Engine is one database family.
type Engine interface {
	// Name is the family in manifests and messages: "mysql", "postgres".
	Name() string
	// DSN reads what atrest may say about a DSN: never its password.
	DSN(dsn string) (DSN, error)
	// Identify names the server dsn reaches, so that a drill can refuse
	// to restore onto the server a backup came from.
	Identify(ctx context.Context, dsn string) (Server, error)
	// SameServer says why a and b (from Identify or a manifest) are the
	// same server, or "" when nothing says so.
	SameServer(a, b Server) string
	// Scan connects for a database scan.
	Scan(ctx context.Context, dsn string, opts ScanOptions) (Scanner, error)
	// Dump writes a consistent snapshot of the databases to w as SQL that
	// the family's own client loads, and says what it dumped.
	Dump(ctx context.Context, dsn string, opts DumpOptions, w io.Writer) (*DumpResult, error)
	// Target connects to a drill server for one drill run.
	Target(ctx context.Context, dsn string, run Run) (Target, error)
	// CheckDump reads a dump another tool of the family made (mysqldump,
	// pg_dump), decoded, to its end, and says what made it whole, or why
	// it is not (an error wrapping ErrTruncated or ErrMalformed).
	CheckDump(r io.Reader) (string, error)
}

// DSN is what may be said about a DSN.
type DSN struct {
	// Redacted is the DSN with its password replaced by ***.
	Redacted string
	// Address is where it connects (host:port, or a socket path), to
	// compare two DSNs.
	Address string
	User    string
	// Database is the database the DSN names ("" if none).
	Database string
	// TLS is what the DSN asks of transport security: one of the TLS*
	// constants.
	TLS string
}

// What a DSN asks of TLS.
const (
	TLSOff        = "off"        // never
	TLSPreferred  = "preferred"  // if the server offers it; a man in the middle can refuse
	TLSUnverified = "unverified" // always, without checking the server's certificate
	TLSVerified   = "verified"   // always, with the certificate checked
)

// Server identifies a database server.
type Server struct {
	Version string `json:"version"`
	// UUID is the server's own lasting identity where it has one (MySQL's
	// @@server_uuid, PostgreSQL's system identifier); MariaDB has none, so
	// there it is "<@@server_id>@<@@hostname>".
	UUID string `json:"uuid"`
	Host string `json:"host"` // the server's name for itself
	Port int    `json:"port"`
}
