// Package postgres is the PostgreSQL family behind the engine seam
// (Engine implements engine.Engine), through pgx; no wire protocol of its
// own.
//
// For a scan it reads the catalogs of the DSN's database (a record's
// "database" is a schema; the server record names the database) and
// samples tables at random points of an integer btree key, or from random
// pages (TABLESAMPLE SYSTEM) where there is no such key: never a full scan,
// never ORDER BY random().
//
// For a backup (dump.go) it opens one REPEATABLE READ transaction, exports
// its snapshot, and reads every table with COPY … TO STDOUT on parallel
// connections that import that snapshot; pg_dump, given the same snapshot,
// writes the schema before the data (--section=pre-data) and after it
// (post-data), as pgcopydb does: PostgreSQL's own DDL, with owners and
// grants left out. The output is a psql script: `psql -v ON_ERROR_STOP=1
// -f FILE` into an empty database restores it by hand, schemas keeping
// their names. Every table's digest is the sum of the SHA-256 of its COPY
// text rows (rowsum.go's algorithm on the server's own text, read in a
// session whose settings fix that text), so a drill recomputes it with the
// same COPY after restore, whatever the row order.
//
// For a drill (target.go) it creates a scratch database marked by its
// comment, loads psql scripts into it (atrest's, pg_dump's plain format,
// and its custom format read by pgdump.go), and digests what it loaded.
//
// Not dumped: roles, grants and ownership, large objects, and what pg_dump
// leaves out of a schema dump (subscriptions' connections …). The package
// never prints a row value or a password: errors carry statement numbers,
// table names and server messages with quoted values elided.
package postgres
