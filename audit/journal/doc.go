// Package journal is atrest's tamper-evident record of what it did: one JSON
// object per line in numbered segment files, each entry chained to the one
// before by a SHA-256 hash, and signed checkpoints (C2SP tlog-checkpoint bodies
// in signed notes) over the RFC 6962 Merkle tree of all entries, optionally
// copied to an Anchor elsewhere so that cutting the local tail shows.
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
// outcome, figures, detail, prev), figures' keys sorted, HTML escaping off, no
// trailing newline. An entry's hash is hex(SHA-256(canonical)). The stored
// line is the canonical encoding with `,"hash":"<hex>"` inserted before the
// closing brace, so anyone can recompute it from the line alone:
//
//	sed 's/,"hash":"[0-9a-f]*"}$/}/' | head -1 | tr -d '\n' | sha256sum
//
// The Merkle leaf of entry n is tlog.RecordHash(raw 32-byte entry hash) =
// SHA-256(0x00 || SHA-256(canonical)): the tree commits to every byte through
// the entry hash, and verifying costs one short extra hash per entry.
// Interior nodes are tlog.NodeHash, so roots equal tlog.TreeHash.
//
// The package never holds identifier values: figures accept numbers and
// booleans only (and maps of them), so a scan's counts can be journaled but a
// value cannot slip in as a figure. Detail and subject are the caller's
// responsibility. It never repairs a journal silently: a torn last line stops
// appends until an operator calls Recover, which keeps the fragment and
// journals what it did.
package journal
