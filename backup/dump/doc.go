// Package dump makes consistent logical backups of MySQL/MariaDB databases as
// plain SQL, computes an order-independent content digest of every table
// from the very rows it dumps, and loads such dumps (and mysqldump's) back
// for restore drills.
//
// The pieces and the one promise that ties them together:
//
//   - Dump reads every table inside one consistent snapshot (REPEATABLE READ,
//     START TRANSACTION WITH CONSISTENT SNAPSHOT; with several connections,
//     each opens its snapshot while a brief global read lock is held) and
//     writes SQL that `mariadb < file.sql` loads.
//   - TableDigest and Digests recompute the digest of a live table. They read
//     rows through the same code and the same canonical encoding as Dump, so a
//     restored table matches its backup exactly when its content is the same.
//   - Load executes a dump statement by statement into a scratch database,
//     rewriting CREATE DATABASE and USE to the target, in parallel where the
//     dump allows it.
//
// The package never prints or returns row values: errors carry statement
// numbers, table names and server messages with quoted values elided, since
// backed-up rows may hold personal identifiers.
package dump
