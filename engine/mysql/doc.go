// Package mysql is the MySQL and MariaDB family behind the engine seam
// (Engine implements engine.Engine). For a scan it reads information_schema
// and samples tables at random points of an integer key (scan*.go); for a
// backup it makes consistent logical backups as plain SQL and computes an
// order-independent content digest of every table from the very rows it
// dumps; for a drill it loads such dumps (and mysqldump's) into scratch
// databases it marks as atrest's, and digests what it loaded (target.go).
//
// The pieces of the backup and the one promise that ties them together:
//
//   - Dump reads every table inside one consistent snapshot (REPEATABLE READ,
//     START TRANSACTION WITH CONSISTENT SNAPSHOT; with several connections,
//     each opens its snapshot while a brief global read lock is held) and
//     writes SQL that `mariadb < file.sql` loads.
//   - TableDigest and Digests recompute the digest of a live table. They read
//     rows through the same query, the same driver path and the same
//     canonical encoding (encoding.go) as Dump, so a restored table matches
//     its backup exactly when its stored content is the same, whatever the
//     row order.
//   - Load executes a dump statement by statement into a scratch database,
//     rewriting CREATE DATABASE, USE and database qualifiers to the target,
//     running INSERTs on several connections and, with DeferIndexes,
//     adding InnoDB tables' secondary keys once their rows are in
//     (deferkeys.go).
//
// The SQL format (atrest-sql/1): a header that sets utf8mb4, time zone
// +00:00, no unique or foreign key checks and sql_mode NO_AUTO_VALUE_ON_ZERO
// (saving the old values, restored at the end); per database CREATE
// DATABASE IF NOT EXISTS and USE lines, every table (DROP TABLE IF EXISTS,
// SHOW CREATE TABLE), the rows as multi-row INSERTs of about 1 MiB that name
// their columns (binary strings as X'…', BIT as b'…', FLOAT at full
// precision), then views in dependency order, triggers (after the rows, so
// loading fires none), routines and events between DELIMITER lines under
// their own sql_mode (events, as mariadb-dump --events writes them, also
// under their own time zone and as they were, ENABLEd or not); and
// mysqldump's "-- Dump completed" trailer. No statement names a database
// other than CREATE DATABASE and USE. Every view, trigger, routine, event,
// key and constraint is listed with the digest of its definition and its
// definer (objects.go), which a drill compares with what it restored.
//
// Not dumped: users and grants (a restore needs the definers' accounts;
// the drill checks that they exist), the history rows of system-versioned
// tables (the table is recreated WITH SYSTEM VERSIONING with its current
// rows). Names of the dumped database inside trigger and routine bodies are
// kept as written; Load rewrites them, the mariadb client does not.
//
// The package never prints or returns row values: errors carry statement
// numbers, lines, table names and server messages with quoted values
// elided, since backed-up rows may hold personal identifiers.
package mysql
