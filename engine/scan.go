package engine

import (
	"context"
	"math/big"
	"time"
)

// ScanOptions tune a scan's connections.
type ScanOptions struct {
	// Parallel is the number of connections the scan opens at most.
	Parallel int
	// StatementTimeout bounds each statement on the server.
	StatementTimeout time.Duration
}

// Scanner is what a database scan needs of a server: the server's record,
// the tables, and readers on connections of their own. It reads and never
// writes; a user with SELECT alone must be enough.
type Scanner interface {
	// Server describes the server and this connection: version, the
	// settings that say whether data is encrypted at rest and in transit,
	// and the notes and severity those settings deserve.
	Server(ctx context.Context) (*ServerRecord, error)
	// Tables lists the base tables of databases (none: the DSN's
	// database, else every database but the server's own), with their
	// columns, sampling key and encryption at rest, in a stable order; and
	// the databases it looked in. A database that does not exist or
	// cannot be seen is an error.
	Tables(ctx context.Context, databases []string) ([]*Table, []string, error)
	// Reader opens a reader on a connection of its own, for one worker.
	Reader(ctx context.Context) (Reader, error)
	// Refused reports whether err is the server refusing or aborting one
	// statement (no privilege, statement timeout, a missing table): the
	// connection is still good. Anything else ends the scan.
	Refused(err error) bool
	// Where names the server and user for messages: user@host:port.
	Where() string
	// Redactor scrubs the DSN's password from messages.
	Redactor() Redactor
	Close() error
}

// Row receives one row of sampled values, one per column asked for, nil
// for NULL. The slices are valid during the call only: they are judged
// then and never kept.
type Row func(values [][]byte)

// Reader reads sampled rows of one table at a time, on one connection,
// inside a read-only transaction that Begin opens and End closes. Every
// read is an index seek or a bounded scan: never a full scan, never a sort
// of the table.
type Reader interface {
	Begin(ctx context.Context) error
	End()
	// Head reads the first limit rows in whatever order the server keeps
	// them.
	Head(ctx context.Context, t *Table, cols []*Column, limit int, row Row) (int, error)
	// Bounds returns the least and greatest value of t.Key in decimal;
	// "" for an empty table.
	Bounds(ctx context.Context, t *Table) (lo, hi string, err error)
	// Range reads up to limit rows with from ≤ key < to (to nil: no upper
	// bound) in key order, and returns the key of the last row read, in
	// decimal.
	Range(ctx context.Context, t *Table, cols []*Column, from, to *big.Int, limit int, row Row) (n int, last string, err error)
	Close()
}

// BlockSampler is what a Reader may also do: read about limit rows from
// random pages of a table, at a cost that does not grow with the table
// (PostgreSQL's TABLESAMPLE SYSTEM). A scan uses it for large tables with
// no integer key.
type BlockSampler interface {
	Blocks(ctx context.Context, t *Table, cols []*Column, limit int, seed uint64, row Row) (int, error)
}

// Table is a base table to sample.
type Table struct {
	Database string // the namespace a table name is qualified with: a MySQL database, a PostgreSQL schema
	Name     string
	Storage  string // storage engine where the server has several (InnoDB, Aria)
	Rows     int64  // the server's estimate
	Columns  []*Column
	// Key is the integer column of the index sampled by ranges, nil when
	// there is none (KeyWhyNot says why); KeyIndex names that index.
	Key       *Column
	KeyIndex  string
	KeyWhyNot string
	// Encrypted says whether the table is encrypted at rest, and
	// Encryption how that was established ("unknown" where the server
	// cannot tell: then Encrypted is false, since nothing proved it).
	Encrypted  bool
	Encryption string
}

// Column is one column of a table.
type Column struct {
	Name     string
	DataType string // lower case, the family's own name (varchar, jsonb …)
	// ColumnType is the full type as the server prints it (varchar(20),
	// character varying(20)).
	ColumnType string
	Comment    string
	// Sampled is true when the column's type can hold an identifier and
	// the scan reads it.
	Sampled bool
}

// Severities, worst first.
const (
	SeverityHigh   = "high"   // identifiers in plaintext in a table not encrypted at rest
	SeverityMedium = "medium" // plaintext in an encrypted table; unkeyed hashes of identifiers; no TLS
	SeverityLow    = "low"    // masked identifiers
)

// ServerRecord gives the server's encryption, transport and logging
// settings; the engine fills in what its family has (fields of the other
// family stay empty).
type ServerRecord struct {
	Record  string `json:"record"` // always "server"
	Address string `json:"address"`
	User    string `json:"user"`
	Version string `json:"version"`
	Flavor  string `json:"flavor"` // mariadb | mysql | postgres
	// Catalog is, on PostgreSQL, the database connected to; the database
	// fields of the other records then name its schemas.
	Catalog string `json:"catalog,omitempty"`

	InnodbEncryptTables    string `json:"innodb_encrypt_tables,omitempty"`
	InnodbEncryptLog       string `json:"innodb_encrypt_log,omitempty"`
	DefaultTableEncryption string `json:"default_table_encryption,omitempty"` // MySQL 8
	LogBin                 string `json:"log_bin,omitempty"`
	BinlogEncryption       string `json:"binlog_encryption,omitempty"` // encrypt_binlog on MariaDB
	RequireSecureTransport string `json:"require_secure_transport,omitempty"`
	HaveSSL                string `json:"have_ssl,omitempty"`

	// PostgreSQL: the server's ssl setting, how it stores passwords, and
	// what it writes to its logs (statements there hold values in clear).
	SSL                     string `json:"ssl,omitempty"`
	PasswordEncryption      string `json:"password_encryption,omitempty"`
	LogStatement            string `json:"log_statement,omitempty"`
	LogMinDurationStatement string `json:"log_min_duration_statement,omitempty"`
	LogConnections          string `json:"log_connections,omitempty"`
	LoggingCollector        string `json:"logging_collector,omitempty"`

	TLS        bool     `json:"tls"` // this connection is encrypted
	TLSVersion string   `json:"tls_version,omitempty"`
	Databases  []string `json:"databases"`
	Tables     int      `json:"tables"`
	Severity   string   `json:"severity,omitempty"`
	Notes      []string `json:"notes,omitempty"`
}

func (*ServerRecord) Kind() string { return "server" }
