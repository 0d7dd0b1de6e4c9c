// Package backup makes encrypted backups of databases in object storage and
// describes them so that they can be checked and restored without trust in
// the storage. It knows no database family: the source's engine.Engine
// writes the SQL and says what it holds.
//
// A backup is two objects under <prefix><job>/YYYY/MM/DD/:
//
//	<job>-<UTC time>-<tag>.sql.zst.age                 SQL (engine.Engine.Dump) → zstd → age
//	<job>-<UTC time>-<tag>.sql.zst.age.manifest.json   Manifest, signed with Ed25519
//
// or, for a job of the sm suite, .sql.zst.sm4 (SM4, the data key wrapped
// to SM2 public keys; crypto/suite) and its manifest signed with SM2 over
// SM3. The job's suite (crypto/suite) does the encrypting and signing;
// this package names neither algorithm, and reads both kinds of backup
// under one prefix, since a job may switch suites.
//
// Run streams the first (bounded memory, whatever the size of the database)
// and uploads the manifest last: the manifest is the commit marker, so an
// object without one is not a backup, whatever it holds. Keys are the run's
// own (NewKey) and both uploads are creates that cannot replace, so no run
// ever overwrites another's backup. backup/check judges
// what is in a bucket; backup/drill restores it.
//
// The package must never need a secret to produce a backup (recipients
// are public keys; only the manifest signing key is private, and it signs
// figures, never data), never leave a manifest behind a failed upload, and
// never put row values or credentials in an error or a manifest.
//
// The ObjectStore interface (store.go) is the only way this package and
// those above it reach object storage; backup/s3store implements it on S3.
package backup
