// Package journal is atrest's tamper-evident record of what it did: one JSON
// object per line in numbered segment files, each entry chained to the one
// before by a hash, and signed checkpoints (C2SP tlog-checkpoint bodies in
// signed notes) over the RFC 6962 Merkle tree of all entries, optionally
// copied to an Anchor elsewhere so that cutting the local tail shows.
//
// A journal has one cipher suite for life (crypto/suite), the suite of the
// key that signs it: "standard" hashes with SHA-256 and signs with Ed25519,
// "sm" hashes with SM3 and signs with SM2 (SM3, signer ID 1234567812345678,
// DER; C2SP signature type 0xff "atrest/sm2-sm3"). Entry 1 records it in its
// "suite" member; entry 1 of a journal from before suites has none and reads
// as standard, so such journals verify unchanged. Verify takes the suite
// from entry 1 and holds it against the key's; Open refuses a key of
// another suite.
//
// Layout of a journal directory:
//
//	segment-000001.jsonl   entries 1..n, one per line (a new segment every
//	                       Options.SegmentEntries entries or SegmentBytes bytes)
//	checkpoints.jsonl      every checkpoint ever written, one JSON record a line
//	checkpoint             the newest signed note, as plain text
//	lock                   flock(2) target that serialises appends across processes
//	torn/                  fragments moved aside by Recover, kept as evidence
//
// The canonical encoding of an entry is what encoding/json writes for Entry
// with Hash empty: fields in struct order (seq, time, actor, kind, subject,
// outcome, figures, detail, suite, prev), figures' keys sorted, HTML escaping
// off, no trailing newline. An entry's hash is hex(H(canonical)), H the
// suite's hash. The stored line is the canonical encoding with
// `,"hash":"<hex>"` inserted before the closing brace, so anyone can
// recompute it from the line alone:
//
//	sed 's/,"hash":"[0-9a-f]*"}$/}/' | head -1 | tr -d '\n' | sha256sum        # standard
//	sed 's/,"hash":"[0-9a-f]*"}$/}/' | head -1 | tr -d '\n' | openssl dgst -sm3 # sm
//
// The Merkle leaf of entry n is H(0x00 || raw 32-byte entry hash): the tree
// commits to every byte through the entry hash, and verifying costs one short
// extra hash per entry. Interior nodes are H(0x01 || left || right) (RFC
// 6962). With SHA-256 these are tlog.RecordHash and tlog.NodeHash, so
// standard roots equal tlog.TreeHash.
//
// The package never holds identifier values: figures accept numbers and
// booleans only (and maps of them), so a scan's counts can be journaled but a
// value cannot slip in as a figure. Detail and subject are the caller's
// responsibility. It never repairs a journal silently: a torn last line stops
// appends until an operator calls Recover, which keeps the fragment and
// journals what it did.
package journal
