package journal

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/tlog"
)

// Entry is one event in the journal. Append fills Seq, Prev, Hash, the empty
// fields of Actor, and Time, always, from the journal's clock under the lock,
// so that times never run backwards along the chain (put a run's own start
// time or duration in Figures).
type Entry struct {
	Seq     int            `json:"seq"`
	Time    time.Time      `json:"time"`
	Actor   Actor          `json:"actor"`
	Kind    string         `json:"kind"`    // scan.files, backup.run, user.add, ...
	Subject string         `json:"subject"` // job, source, root name or path
	Outcome string         `json:"outcome"` // ok, findings, fail, error, skipped, ...
	Figures map[string]any `json:"figures,omitempty"`
	Detail  string         `json:"detail,omitempty"`
	// Items name what a run was about: the columns and files that hold
	// plaintext, the backups made, read or restored. Names only (a
	// database.table.column, a masked path, an object key), never a value;
	// at most MaxItems.
	Items []Item `json:"items,omitempty"`
	// Suite is set by Append on entry 1 only: the journal's cipher suite
	// ("standard" or "sm"), kept for life. Entry 1 of a journal written
	// before suites has none, which reads as standard.
	Suite string `json:"suite,omitempty"`
	Prev  string `json:"prev"`
	// Hash must stay the last field: the stored line is the canonical
	// encoding (Hash empty, so omitted) with the hash member appended.
	Hash string `json:"hash,omitempty"`
}

// Item is one thing a run names (see Entry.Items).
type Item struct {
	Kind   string         `json:"kind"`             // column, file, backup
	Name   string         `json:"name"`             // db.table.column, path (or path!member), object key
	State  string         `json:"state,omitempty"`  // plaintext, masked, hashed, encrypted, not_read; made, read, restored
	Type   string         `json:"type,omitempty"`   // identifier type, for a column
	Counts map[string]int `json:"counts,omitempty"` // findings by type, for a file
	Note   string         `json:"note,omitempty"`   // severity, reason, failure class
}

// A backup item (Kind ItemBackup, Name the object key) says what a run did
// with that backup; the report counts per backup from them (made or found
// in a period, then read back whole, restored).
const (
	ItemBackup          = "backup"
	BackupMade          = "made"           // backup.run ok
	BackupFound         = "found"          // backup.found with a manifest this installation's key verifies
	BackupRead          = "read"           // backup.check --read: every byte verified
	BackupReadFailed    = "read_failed"    // ... and it did not verify
	BackupRestored      = "restored"       // drill.run ok
	BackupRestoreFailed = "restore_failed" // drill.run fail
)

// MaxItems bounds an entry's items: a scan of a tree with a million files
// with findings journals the first MaxItems (plaintext first) and says in
// figures.items_total how many there were.
const MaxItems = 1000

// Actor says who caused an entry.
type Actor struct {
	OSUser  string `json:"os_user"`
	Host    string `json:"host"`
	PID     int    `json:"pid"`
	Process string `json:"process"`
	WebUser string `json:"web_user,omitempty"`
}

// MaxLineBytes bounds one stored line; Append refuses bigger entries.
const MaxLineBytes = 1 << 20

const (
	hashKey   = `,"hash":"`
	hashHex   = 2 * hashSize
	hashTail  = len(hashKey) + hashHex + len(`"}`)
	prevKey   = `"prev":"`
	seqPrefix = `{"seq":`
)

var (
	errNotJSON = errors.New("not valid JSON")
)

// encodeLine returns the stored line for e (Hash ignored), with its newline,
// and the entry hash and Merkle leaf hash under x's suite.
func encodeLine(buf *bytes.Buffer, e *Entry, x *hasher) (line []byte, h [hashSize]byte, leaf tlog.Hash, err error) {
	e.Hash = ""
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, h, leaf, fmt.Errorf("journal: encode entry: %w", err)
	}
	b := buf.Bytes()
	canonical := b[:len(b)-1] // Encode adds '\n'
	h = x.s.Sum(canonical)
	leaf = x.leaf(h[:])
	out := make([]byte, 0, len(canonical)+hashTail)
	out = append(out, canonical[:len(canonical)-1]...)
	out = append(out, hashKey...)
	out = hex.AppendEncode(out, h[:])
	out = append(out, "\"}\n"...)
	if len(out) > MaxLineBytes {
		return nil, h, leaf, fmt.Errorf("journal: entry %s %q: %d bytes, more than %d", e.Kind, e.Subject, len(out), MaxLineBytes)
	}
	e.Hash = hex.EncodeToString(h[:])
	return out, h, leaf, nil
}

// lineInfo is what verification needs from a stored line.
type lineInfo struct {
	seq  int
	prev []byte // hex, empty for the first entry
	hash []byte // hex as stored
	cut  int    // canonical encoding = line[:cut] + "}"
}

// parseLine checks that line (without its newline) is valid JSON in the
// layout Append writes and extracts the chain fields. It does not check the
// hash.
func parseLine(line []byte) (lineInfo, error) {
	if !json.Valid(line) {
		return lineInfo{}, errNotJSON
	}
	return parseLayout(line)
}

// parseLayout is parseLine without the JSON validation, which costs more
// than hashing the line: Verify skips it where a checkpoint root vouches
// for the bytes (see verifier.checkLine).
func parseLayout(line []byte) (lineInfo, error) {
	var li lineInfo
	if !bytes.HasPrefix(line, []byte(seqPrefix)) {
		return li, errors.New(`not a journal entry: does not start with {"seq":`)
	}
	i := len(seqPrefix)
	for ; i < len(line) && line[i] >= '0' && line[i] <= '9'; i++ {
		if li.seq > (math.MaxInt-9)/10 {
			return li, errors.New("not a journal entry: seq out of range")
		}
		li.seq = li.seq*10 + int(line[i]-'0')
	}
	if i == len(seqPrefix) || i >= len(line) || line[i] != ',' || li.seq < 1 ||
		(line[len(seqPrefix)] == '0') {
		return li, errors.New("not a journal entry: seq is not a positive integer")
	}
	if len(line) < hashTail+len(seqPrefix) {
		return li, errors.New("not a journal entry: no hash member at the end")
	}
	li.cut = len(line) - hashTail
	tail := line[li.cut:]
	li.hash = tail[len(hashKey) : len(hashKey)+hashHex]
	if !bytes.HasPrefix(tail, []byte(hashKey)) || !isHex(li.hash) || string(tail[len(tail)-2:]) != `"}` {
		return li, errors.New("not a journal entry: no hash member at the end")
	}
	body := line[:li.cut]
	if len(body) < 1 || body[len(body)-1] != '"' {
		return li, errors.New("not a journal entry: prev does not precede hash")
	}
	q := bytes.LastIndexByte(body[:len(body)-1], '"')
	if q < len(prevKey) || !bytes.Equal(body[q-len(prevKey)+1:q+1], []byte(prevKey)) ||
		body[q-len(prevKey)] != ',' {
		return li, errors.New("not a journal entry: prev does not precede hash")
	}
	li.prev = body[q+1 : len(body)-1]
	if len(li.prev) != 0 && (len(li.prev) != hashHex || !isHex(li.prev)) {
		return li, errors.New("not a journal entry: prev is not a hex SHA-256")
	}
	return li, nil
}

var hexDigit = [256]bool{'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true,
	'8': true, '9': true, 'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true}

func isHex(b []byte) bool {
	for _, c := range b {
		if !hexDigit[c] {
			return false
		}
	}
	return true
}

// hashSize is the size of every hash in a journal: SHA-256 and SM3 alike.
const hashSize = 32

// hasher computes entry hashes of stored lines, without copying them, and
// the RFC 6962 Merkle leaf and node hashes, all with the journal's suite
// (SHA-256 gives exactly tlog's RecordHash, NodeHash and TreeHash). It
// works in its own buffers: one per reader or writer, never shared.
type hasher struct {
	s    suite.Suite
	h    hash.Hash
	sum  [hashSize]byte
	hex  [hashHex]byte
	node [1 + 2*hashSize]byte
}

func newHasher(s suite.Suite) *hasher { return &hasher{s: s, h: s.NewHash()} }

var closeBrace = []byte("}")

// entryHash returns the hex entry hash of the line (valid only until the
// next call) and the Merkle leaf hash of the raw entry hash.
func (x *hasher) entryHash(line []byte, li lineInfo) ([]byte, tlog.Hash) {
	x.h.Reset()
	x.h.Write(line[:li.cut])
	x.h.Write(closeBrace)
	x.h.Sum(x.sum[:0])
	hex.Encode(x.hex[:], x.sum[:])
	return x.hex[:], x.leaf(x.sum[:])
}

// leaf is H(0x00 || entry hash).
func (x *hasher) leaf(entry []byte) tlog.Hash {
	x.node[0] = 0
	copy(x.node[1:], entry)
	return x.sumNode(x.node[:1+len(entry)])
}

// interior is H(0x01 || left || right).
func (x *hasher) interior(l, r tlog.Hash) tlog.Hash {
	x.node[0] = 1
	copy(x.node[1:], l[:])
	copy(x.node[1+hashSize:], r[:])
	return x.sumNode(x.node[:])
}

func (x *hasher) sumNode(b []byte) tlog.Hash {
	var out tlog.Hash
	x.h.Reset()
	x.h.Write(b)
	x.h.Sum(out[:0])
	return out
}

// lineSuite returns the suite that entry 1's line records; none (a journal
// from before suites) is standard.
func lineSuite(line []byte) (suite.Suite, error) {
	var e struct {
		Suite string `json:"suite"`
	}
	if err := json.Unmarshal(line, &e); err != nil {
		return nil, errNotJSON
	}
	s, err := suite.Get(e.Suite)
	if err != nil {
		return nil, fmt.Errorf("entry 1 names %w", err)
	}
	return s, nil
}

// ParseEntry decodes one stored line (with or without its newline) and checks
// that its hash matches its content. It does not check the chain: use Verify.
func ParseEntry(line []byte) (Entry, error) {
	e, err := parseForQuery(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		return Entry{}, fmt.Errorf("journal: %w", err)
	}
	return e, nil
}

// checkFigures enforces that figures are counts and durations: numbers,
// booleans and string-keyed maps of them, never strings that could carry an
// identifier value.
func checkFigures(figs map[string]any) error {
	for k, v := range figs {
		if err := checkFigure(reflect.ValueOf(v)); err != nil {
			return fmt.Errorf("journal: figure %q: %w", k, err)
		}
	}
	return nil
}

var jsonNumber = reflect.TypeFor[json.Number]()

func checkFigure(v reflect.Value) error {
	if !v.IsValid() {
		return errors.New("null is not a count or duration")
	}
	if v.Type() == jsonNumber {
		return nil
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Bool:
		return nil
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("not a finite number")
		}
		return nil
	case reflect.Interface, reflect.Pointer:
		return checkFigure(v.Elem())
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("%s: map keys must be strings", v.Type())
		}
		for it := v.MapRange(); it.Next(); {
			if err := checkFigure(it.Value()); err != nil {
				return fmt.Errorf("%s: %w", it.Key().String(), err)
			}
		}
		return nil
	}
	return fmt.Errorf("%s is not a count or duration (figures never hold values)", v.Type())
}

// Number reads a figure as a number: float64 as Query and ParseEntry give it
// back, Go integers as an entry holds them before it is stored, and booleans
// as 1 or 0. The views of the journal (metrics, dashboard, reports) read
// figures through it.
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Backups returns the object keys of e's backup items in state. Entries
// written before items existed name their backup in the detail instead
// (backup.run ok: the detail is the key; drill.run: "backup <key>" among
// "; "-separated parts); those are read for BackupMade, BackupRestored and
// BackupRestoreFailed.
func (e Entry) Backups(state string) []string {
	var keys []string
	for _, it := range e.Items {
		if it.Kind == ItemBackup && it.State == state {
			keys = append(keys, it.Name)
		}
	}
	if len(e.Items) > 0 || e.Detail == "" {
		return keys
	}
	switch {
	case e.Kind == "backup.run" && e.Outcome == "ok" && state == BackupMade:
		return []string{e.Detail}
	case e.Kind == "drill.run" && (e.Outcome == "ok" && state == BackupRestored || e.Outcome == "fail" && state == BackupRestoreFailed):
		for _, part := range strings.Split(e.Detail, "; ") {
			if k, ok := strings.CutPrefix(part, "backup "); ok {
				return []string{k}
			}
		}
	}
	return nil
}
