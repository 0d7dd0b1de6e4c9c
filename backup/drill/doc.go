// Package drill proves that a backup restores: it picks a backup of a job,
// streams it from object storage (SHA-256 → age or sm → zstd, or a third-party
// dump's gzip/zstd) into a fresh scratch database on a drill server, checks
// every table's row count, content digest and DDL hash against the signed
// manifest, runs the DBA's probe queries, measures RTO and RPO, and drops
// the scratch database again. It knows no database family: the drill
// server is an engine.Target, whose engine loads, digests and marks; the
// choice, the stream, the verdicts and the rules of what may be dropped are
// here, written once.
//
// A drill that ran and failed returns a *Failure whose Class says what kind
// of failure it was (transport, integrity, restore, probe, key, no_backup),
// so an operator knows whether the backup, the key, the network or the
// drill server is to blame. Other errors mean the drill could not run.
//
// What the package must never do:
//   - write to a database it did not create in the same run: it loads only
//     into databases named atrest_drill_<job>_<time>, created without IF NOT
//     EXISTS (an existing name is refused), and refuses a target that is the
//     backup's source server unless told otherwise;
//   - drop a database it did not create: it drops its own scratch databases,
//     and leftovers of crashed drills of the same job only when their marker
//     says atrest made them and no running drill holds their lock;
//   - print or store row values or credentials: errors name statements,
//     tables and classes, probes report true or false, never their value.
//
// Memory stays bounded whatever the size of the backup: the object streams
// through fixed buffers, and the engines' loaders hold a few statements at a
// time.
package drill
