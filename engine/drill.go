package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Run is the drill run a Target serves.
type Run struct {
	// ID names the run (16 hex digits); the Target holds a lock named
	// after it on the server for as long as it is open, so that another
	// drill can tell a running drill's scratch databases from leftovers.
	ID  string
	Job string
	// Marker is written into every scratch database the run creates (a
	// table comment, a database comment): it proves that atrest made it.
	Marker string
	// Note records something the drill's record should say.
	Note func(format string, args ...any)
}

// Target is a drill server, open for one run: it creates and drops
// scratch databases, loads a dump into them and reads back what was
// loaded. It must never write to a database the run did not create, nor
// drop one that Scratch does not prove atrest's.
type Target interface {
	// Server is the target's identity, read when it was opened.
	Server() Server
	// DigestAlgorithm names the table digests Digests computes, which
	// match a manifest's only when its algorithm is the same.
	DigestAlgorithm() string
	Scratch
	Restore
	// Close releases the run's lock and the connections.
	Close()
}

// Scratch is the part of a Target that makes, finds and drops scratch
// databases.
type Scratch interface {
	// Create creates scratch database name, marked with the run's marker.
	// A name that exists already is refused with ErrExists: a drill loads
	// only into databases it created.
	Create(ctx context.Context, name string) error
	// Created lists the scratch databases this run created, in order.
	Created() []string
	// DropCreated drops those databases, and forgets where the load put
	// what, so that a retry starts afresh.
	DropCreated(ctx context.Context) error
	// List names the databases that start with prefix.
	List(ctx context.Context, prefix string) ([]string, error)
	// Marker reads database name's marker; ok is false when it has none.
	Marker(ctx context.Context, name string) (marker string, ok bool, err error)
	// Running reports whether the drill run runID still holds its lock.
	Running(ctx context.Context, runID string) (bool, error)
	// Drop drops database name, for a leftover the drill has proved
	// atrest's.
	Drop(ctx context.Context, name string) error
}

// Restore is the part of a Target that loads a dump and reads it back.
type Restore interface {
	// Load executes a dump into the first scratch database the run
	// created (an engine may create more beside it, for a dump of several
	// databases, and fails with ErrScratch when it cannot). A failed
	// statement ends the load with a *LoadError.
	Load(ctx context.Context, r io.Reader, opts LoadOptions) (*LoadResult, error)
	// Digests recomputes the rows, digest and DDL hash of every table the
	// load restored, named by the source database it came from.
	Digests(ctx context.Context, parallel int) ([]TableResult, error)
	// Count counts the rows of every table the load restored (for dumps
	// that carry no digests), named as Digests names them.
	Count(ctx context.Context) ([]TableResult, error)
	// Probe runs a read-only query in the restored data and returns the
	// first column of its first row (found false: no row; nil: NULL).
	Probe(ctx context.Context, query string) (value []byte, found bool, err error)
	// Refused reports whether err is the server refusing one statement
	// (the connection still good), not the server going away.
	Refused(err error) bool
	// Objects reads back the schema objects the load restored (views,
	// triggers, routines, events, sequences, indexes and constraints),
	// named by the source database and digested as the dump digests them.
	Objects(ctx context.Context) ([]Object, error)
	// MissingAccounts returns those of accounts (named as Definer.Account
	// names them) that the server lacks, and why says what a restore that
	// keeps definers meets then ("the README's restore fails with ERROR
	// 1449"). An error wrapping ErrAccounts says that the drill user may
	// not read the server's accounts.
	MissingAccounts(ctx context.Context, accounts []string) (missing []string, why string, err error)
}

// Definers say what a load does with the accounts a dump names as its
// objects' definers (MySQL) or owners (PostgreSQL).
const (
	// DefinersKeep: as the family's own client does (`mariadb < dump`,
	// psql): the accounts must exist on the server. The drill checks that
	// they do; the objects it loads still belong to the drill user, who
	// may not give objects away, and whose scratch database is not the
	// database the accounts have rights on.
	DefinersKeep = "keep"
	// DefinersStrip: the objects belong to the loading user (DEFINER=
	// clauses removed; pg_restore --no-owner); no account is needed.
	DefinersStrip = "strip"
)

// LoadOptions tune Restore.Load.
type LoadOptions struct {
	// Parallel is the number of connections that load rows at once.
	Parallel int
	// SourceDatabases are names a third-party dump of one database may
	// qualify its objects with, without saying so first.
	SourceDatabases []string
	// Definers is DefinersKeep (default) or DefinersStrip. Either way the
	// load records the accounts in LoadResult.Definers.
	Definers string
	// Tables, if set, makes the load a subset drill's: a statement that
	// creates, fills, alters or drops a table runs only when Tables says
	// yes to the table's source database and name, and views, triggers,
	// routines and events, which may refer to the tables left out, are not
	// loaded. Both are counted in LoadResult.Skipped under SubsetSkip plus
	// the verb. Only a Target that is a Subsetter honours it.
	Tables func(database, table string) bool
}

// SubsetSkip prefixes the LoadResult.Skipped keys of the statements a
// subset load left out on purpose.
const SubsetSkip = "subset: "

// Subsetter is a Target whose Load honours LoadOptions.Tables; a drill of
// a subset refuses a Target that is not one (it would load everything).
type Subsetter interface {
	LoadsSubsets() bool
}

// Definer is an account that a dump's objects name as their definer or
// owner: a restore that keeps definers needs it on its server.
type Definer struct {
	Account string `json:"account"` // 'user'@'host' (MySQL); a role (PostgreSQL)
	// Objects name the first few objects, kind first ("view yb.v_x").
	Objects []string `json:"objects"`
	Count   int      `json:"count"` // objects that name it, in all
}

// maxDefinerObjects bounds Definer.Objects.
const maxDefinerObjects = 3

// AddDefiner counts object (kind and name) as one that names account.
func AddDefiner(list []Definer, account, object string) []Definer {
	for i := range list {
		if list[i].Account == account {
			list[i].Count++
			if len(list[i].Objects) < maxDefinerObjects {
				list[i].Objects = append(list[i].Objects, object)
			}
			return list
		}
	}
	return append(list, Definer{Account: account, Objects: []string{object}, Count: 1})
}

// LoadedTable is a table a load created or inserted into.
type LoadedTable struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Rows     int64  `json:"rows"` // rows the statements reported
}

// LoadResult sums up a load.
type LoadResult struct {
	Databases  []string       `json:"databases"`
	Tables     []LoadedTable  `json:"tables"`
	Statements int64          `json:"statements"` // statements executed
	Skipped    map[string]int `json:"skipped,omitempty"`
	Rows       int64          `json:"rows"`
	Bytes      int64          `json:"bytes"` // bytes read from the input
	// Complete is true when the input ended with its dump tool's trailer
	// ("-- Dump completed", "-- PostgreSQL database dump complete"): a
	// dump cut at a statement boundary loads without error, but not
	// completely.
	Complete bool          `json:"complete"`
	Duration time.Duration `json:"duration_ns"`
	// Definers are the accounts the dump's objects name, in the order
	// first met.
	Definers []Definer `json:"definers,omitempty"`
	// Notes say what the load did differently from the family's own
	// client (events created disabled, definers stripped).
	Notes []string `json:"notes,omitempty"`
}

// Errors a Target's methods wrap.
var (
	// ErrExists: a scratch database by that name is there already.
	ErrExists = errors.New("already exists")
	// ErrScratch: the load needed another scratch database and could not
	// create it; the drill could not run, the backup is not to blame.
	ErrScratch = errors.New("cannot create a further scratch database")
	// ErrTruncated: the input ended inside a statement, a string or a
	// comment. A dump cut short at a row boundary would otherwise load a
	// valid-looking partial statement.
	ErrTruncated = errors.New("input ends inside a statement (truncated dump?)")
	// ErrMalformed: the input is not a well-formed dump of its format (a
	// pg_dump archive whose structure is broken).
	ErrMalformed = errors.New("malformed dump")
	// ErrAccounts: the drill user may not read the server's accounts.
	ErrAccounts = errors.New("may not read the server's accounts")
)

// LoadError is a statement of a dump that failed to load. It names the
// statement by number and line, its verb and table, never its text: a
// backup's statements carry personal data.
type LoadError struct {
	Statement int64  // 1-based number of the statement in the input
	Line      int    // line of the input where it starts
	Verb      string // INSERT, CREATE TABLE, COPY …
	Table     string // the table, quoted, when the statement has one
	// Object is the view, trigger, routine, event, index or sequence a
	// CREATE makes, quoted, so that a refused CREATE names what is lost.
	Object string
	// Err is the server's error with the values it quotes elided, a
	// transport error, or a parse error of the input (ErrTruncated …).
	Err error
	// Refused is true when the server refused the statement (a restore
	// failure), false when the connection failed or the input is bad.
	Refused bool
	// Hint, if set, says what to change on the drill server.
	Hint string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "load: statement %d (line %d", e.Statement, e.Line)
	if e.Verb != "" {
		b.WriteString(", " + e.Verb)
	}
	if e.Object != "" {
		b.WriteString(" " + e.Object)
	} else if e.Table != "" {
		b.WriteString(" " + e.Table)
	}
	b.WriteString("): ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// Truncated reports whether the input ended inside a statement.
func (e *LoadError) Truncated() bool { return errors.Is(e.Err, ErrTruncated) }

// Malformed reports whether the input is not a well-formed dump.
func (e *LoadError) Malformed() bool { return errors.Is(e.Err, ErrMalformed) }
