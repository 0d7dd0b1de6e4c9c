package backup

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/atrest/atrest/crypto/suite"
)

// ManifestFormat is the format of the manifests this package writes and
// reads. A manifest of another format is refused rather than half-read: its
// signature covers fields this version does not know.
const ManifestFormat = "atrest/v1"

// ManifestSuffix ends a manifest's key: a backup is the data object and,
// beside it, its manifest.
const ManifestSuffix = ".manifest.json"

// objectStem comes before the suite's extension in a data object's key.
const objectStem = ".sql.zst."

// ObjectSuffix ends the key of a data object of suite s: .sql.zst.age
// (standard) or .sql.zst.sm4 (sm). A job that switches suites keeps both
// kinds under its prefix, and every reader takes both.
func ObjectSuffix(s suite.Suite) string { return objectStem + s.Ext() }

// ObjectSuite is the suite of the data object at key, from its suffix; ok
// is false for a key that is no data object of any suite.
func ObjectSuite(key string) (s suite.Suite, ok bool) {
	s, ok = suite.ByExt(strings.TrimPrefix(path.Ext(key), "."))
	if !ok || !strings.HasSuffix(key, ObjectSuffix(s)) {
		return nil, false
	}
	return s, true
}

// ListedKey sorts a key listed under a job's prefix: the data object it
// belongs to, and whether it is that object's manifest. ok is false for
// anything else (a canary, files people put there): not ours to judge.
func ListedKey(key string) (object string, manifest, ok bool) {
	if m, found := strings.CutSuffix(key, ManifestSuffix); found {
		_, ok := ObjectSuite(m)
		return m, true, ok
	}
	_, ok = ObjectSuite(key)
	return key, false, ok
}

// Listed is one backup under a job's prefix, as the listing shows it: its
// data object and its manifest, either of which may be missing.
type Listed struct {
	Key            string      // the data object's key
	Data, Manifest *ObjectInfo // nil when not listed
}

// ListBackups lists prefix and pairs each data object with its manifest
// (ListedKey), in key order, which is time order: keys carry the UTC start
// time. Anything else under the prefix is left out.
func ListBackups(ctx context.Context, s ObjectStore, prefix string) ([]Listed, error) {
	byKey := map[string]*Listed{}
	for oi, err := range s.List(ctx, prefix) {
		if err != nil {
			return nil, err
		}
		obj, manifest, ok := ListedKey(oi.Key)
		if !ok {
			continue
		}
		l := byKey[obj]
		if l == nil {
			l = &Listed{Key: obj}
			byKey[obj] = l
		}
		info := oi
		if manifest {
			l.Manifest = &info
		} else {
			l.Data = &info
		}
	}
	out := make([]Listed, 0, len(byKey))
	for _, l := range byKey {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b Listed) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// MaxManifestBytes bounds the manifests Parse accepts (and check reads): a
// manifest lists every table and its keys, and 100,000 tables with three
// keys each fit in under this.
const MaxManifestBytes = 64 << 20

// signingContext is prepended to the canonical JSON before signing, so that
// a manifest signature can never be taken for a journal checkpoint's (the
// same installation key signs both) or the reverse.
const signingContext = "atrest manifest signature v1\n"

// Manifest describes one backup: where it came from, what it holds (every
// table's row count and content digest, from the very rows dumped) and the
// exact bytes stored (sizes and SHA-256), so a check can prove the stored
// object whole and a drill can prove a restore complete. It is signed with
// the job's manifest key, of the job's suite (Ed25519, or SM2 over SM3), and
// is uploaded after the data object: no manifest, no backup.
type Manifest struct {
	Format      string `json:"format"`
	Job         string `json:"job"`
	ToolVersion string `json:"tool_version"`
	Source      Server `json:"source"`

	Started  time.Time `json:"started"`  // the run began
	Snapshot time.Time `json:"snapshot"` // the data is as of this time
	Finished time.Time `json:"finished"` // the data object was stored

	Position        Position       `json:"position"`
	Databases       []string       `json:"databases"`
	Tables          []Table        `json:"tables"`
	Objects         []SchemaObject `json:"schema_objects,omitempty"`
	DigestAlgorithm string         `json:"digest_algorithm"`

	Object      Object `json:"object"`
	Compression string `json:"compression"` // "zstd"
	// Suite is the crypto suite of the object and of the signature:
	// "standard" or "sm". Manifests from before suites have none, which
	// reads as standard (SuiteOf).
	Suite      string           `json:"suite,omitempty"`
	Encryption ClientEncryption `json:"encryption"`

	// Signature is over the canonical encoding of every other field; it
	// is nil until Sign.
	Signature *Signature `json:"signature,omitempty"`
}

// Server identifies the database server that was backed up.
type Server struct {
	// Engine is the database family (engine.Engine.Name): "mysql",
	// "postgres".
	Engine  string `json:"engine,omitempty"`
	Version string `json:"version"`
	UUID    string `json:"uuid"` // @@server_uuid, or server_id@hostname on MariaDB; PostgreSQL's system identifier
	Host    string `json:"host"`
	Port    int    `json:"port"`
}

// EngineName is the family of the source. Manifests written before a
// second family arrived name none: they are all MySQL's.
func (s Server) EngineName() string {
	if s.Engine == "" {
		return "mysql"
	}
	return s.Engine
}

// Position is the snapshot's place in the server's history, for
// point-in-time recovery from the binlog (MySQL) or the WAL (PostgreSQL).
type Position struct {
	BinlogFile string `json:"binlog_file,omitempty"`
	BinlogPos  uint64 `json:"binlog_pos,omitempty"`
	GTID       string `json:"gtid,omitempty"`
	LSN        string `json:"lsn,omitempty"`
	// Exact is true when the position is the snapshot's own rather than
	// read near it.
	Exact       bool     `json:"exact"`
	Consistency string   `json:"consistency"`
	Notes       []string `json:"notes,omitempty"`
}

// Table is one dumped table: a restore is complete when every table's row
// count and digest match.
type Table struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Rows     int64  `json:"rows"`
	Digest   string `json:"digest"`
	DDLHash  string `json:"ddl_hash"`
}

// SchemaObject is a dumped view, trigger, routine, event or sequence, or
// a table's index or constraint (named table.name): a drill reads them
// back from the restore and compares. The fields after Type came later,
// each omitted when empty, so that a manifest written before them still
// encodes (and verifies) as it was signed; such a manifest's objects are
// compared by presence only.
type SchemaObject struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	// Digest is the SHA-256 (hex) of the definition, normalised as the
	// engine reads it back after a restore (engine.Object.Digest).
	Digest string `json:"digest,omitempty"`
	// Definer is the account a restore needs for the object: MySQL's
	// DEFINER, 'user'@'host'.
	Definer string `json:"definer,omitempty"`
	// Value is a sequence's value at the snapshot.
	Value string `json:"value,omitempty"`
}

// Object is the stored data object and what it decodes to.
type Object struct {
	Key string `json:"key"`
	// VersionID, ETag and ChecksumSHA256 are what the server acknowledged
	// for the upload. ChecksumSHA256 is the server's own (for a multipart
	// upload the S3 composite, "…-N"), to compare with Stat without
	// reading the object; it is not the SHA-256 of the object.
	VersionID      string `json:"version_id,omitempty"`
	ETag           string `json:"etag,omitempty"`
	ChecksumSHA256 string `json:"s3_checksum_sha256,omitempty"`

	PlaintextBytes   int64  `json:"plaintext_bytes"`  // SQL
	CompressedBytes  int64  `json:"compressed_bytes"` // zstd
	CiphertextBytes  int64  `json:"ciphertext_bytes"` // encrypted: the object's size
	PlaintextSHA256  string `json:"plaintext_sha256"` // hex
	CiphertextSHA256 string `json:"ciphertext_sha256"`
}

// ClientEncryption says how the object is encrypted before it leaves this
// host: the suite's scheme, to these recipients.
type ClientEncryption struct {
	Scheme string `json:"scheme"` // "age" or "atrest-sm/v1" (suite.Suite.Scheme)
	// Recipients name the public keys: age1… strings, or sm2:<key id>.
	Recipients []string `json:"recipients"`
}

// Signature is a signature over the manifest and the id of the key that
// made it.
type Signature struct {
	Algorithm string `json:"algorithm"` // "ed25519" or "sm2-sm3" (suite.Suite.SignatureName)
	KeyID     string `json:"key_id"`    // suite.KeyID
	Value     string `json:"value"`     // base64
}

// Signature errors, for errors.Is.
var (
	ErrUnsigned     = errors.New("manifest is not signed")
	ErrOtherKey     = errors.New("manifest signed by another key")
	ErrBadSignature = errors.New("manifest signature does not verify")
)

// SuiteOf is the suite of the manifest's object and signature.
func (m *Manifest) SuiteOf() (suite.Suite, error) { return suite.Get(m.Suite) }

// canonical is what the signature covers: the context string and the
// compact JSON of every field but the signature. encoding/json writes
// struct fields in declaration order, so the encoding of a parsed manifest
// is the encoding that was signed, whatever whitespace or field order the
// stored file has.
func (m *Manifest) canonical() ([]byte, error) {
	c := *m
	c.Signature = nil
	var buf bytes.Buffer
	buf.WriteString(signingContext)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, fmt.Errorf("backup: encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// Sign signs the manifest with key (Ed25519, or SM2 over SM3), replacing
// any earlier signature. The key must be of the manifest's suite.
func (m *Manifest) Sign(key crypto.Signer) error {
	if key == nil {
		return errors.New("backup: sign manifest: no signing key")
	}
	ks, err := suite.Of(key)
	if err != nil {
		return fmt.Errorf("backup: sign manifest: %w", err)
	}
	if ms, err := m.SuiteOf(); err != nil || ms != ks {
		return fmt.Errorf("backup: sign manifest: a key of suite %s cannot sign a manifest of suite %q", ks.Name(), m.Suite)
	}
	id, err := suite.KeyID(key.Public())
	if err != nil {
		return fmt.Errorf("backup: sign manifest: %w", err)
	}
	msg, err := m.canonical()
	if err != nil {
		return err
	}
	sig, err := suite.Sign(key, msg)
	if err != nil {
		return fmt.Errorf("backup: sign manifest: %w", err)
	}
	m.Signature = &Signature{Algorithm: ks.SignatureName(), KeyID: id, Value: base64.StdEncoding.EncodeToString(sig)}
	return nil
}

// Verify checks the signature with pub, which must be the key that made it
// and of the manifest's suite. Errors wrap ErrUnsigned, ErrOtherKey or
// ErrBadSignature.
func (m *Manifest) Verify(pub crypto.PublicKey) error {
	s := m.Signature
	if s == nil {
		return ErrUnsigned
	}
	want, err := suite.KeyID(pub)
	if err != nil {
		return fmt.Errorf("no key to verify the manifest with: %w", err)
	}
	if s.KeyID != want {
		return fmt.Errorf("%w: key %s, this installation's is %s", ErrOtherKey, s.KeyID, want)
	}
	ks, _ := suite.Of(pub)
	if s.Algorithm != ks.SignatureName() {
		return fmt.Errorf("%w: algorithm %q, key %s signs with %s", ErrBadSignature, s.Algorithm, want, ks.SignatureName())
	}
	if ms, err := m.SuiteOf(); err != nil || ms != ks {
		return fmt.Errorf("%w: a manifest of suite %q signed with %s", ErrBadSignature, m.Suite, s.Algorithm)
	}
	sig, err := base64.StdEncoding.DecodeString(s.Value)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: malformed signature value", ErrBadSignature)
	}
	msg, err := m.canonical()
	if err != nil {
		return err
	}
	if !suite.Verify(pub, msg, sig) {
		return fmt.Errorf("%w (key %s): the manifest was changed after signing", ErrBadSignature, s.KeyID)
	}
	return nil
}

// Marshal returns the manifest as stored: indented JSON for people who read
// it, ending in a newline.
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("backup: encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseManifest decodes a stored manifest strictly: one JSON object of
// format atrest/v1 with no unknown fields and the fields a check relies on
// well-formed. It does not verify the signature (Verify does).
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("backup: manifest: %d bytes, more than the %d allowed", len(data), MaxManifestBytes)
	}
	var probe struct {
		Format any `json:"format"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("backup: manifest: %s", jsonError(err))
	}
	if f, _ := probe.Format.(string); f != ManifestFormat {
		return nil, fmt.Errorf("backup: manifest: format %s, want %q", short(fmt.Sprintf("%q", probe.Format)), ManifestFormat)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("backup: manifest: %s", jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("backup: manifest: data after the JSON object")
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("backup: manifest: %w", err)
	}
	return &m, nil
}

func (m *Manifest) validate() error {
	o := m.Object
	switch {
	case m.Job == "":
		return errors.New("no job")
	case o.Key == "":
		return errors.New("no object key")
	case o.PlaintextBytes < 0 || o.CompressedBytes < 0 || o.CiphertextBytes < 0:
		return errors.New("negative object size")
	case !IsSHA256Hex(o.PlaintextSHA256):
		return errors.New("plaintext_sha256 is not 64 hex digits")
	case !IsSHA256Hex(o.CiphertextSHA256):
		return errors.New("ciphertext_sha256 is not 64 hex digits")
	case m.Snapshot.IsZero():
		return errors.New("no snapshot time")
	}
	if _, err := m.SuiteOf(); err != nil {
		return err
	}
	for i, t := range m.Tables {
		if t.Rows < 0 {
			return fmt.Errorf("table %d: negative row count", i+1)
		}
	}
	return nil
}

// IsSHA256Hex reports whether s is a SHA-256 in lowercase hex.
func IsSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// jsonError words a decoding error in one short line; a manifest may be
// anything (a check reads what is in the bucket), so no input is echoed at
// length.
func jsonError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("not JSON at byte %d: %s", se.Offset, short(se.Error()))
	}
	return short(err.Error())
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

// JobPrefix is the key prefix under which Run stores job's backups.
func JobPrefix(prefix, job string) string { return prefix + job + "/" }

// ManifestKey is the key of the manifest of the data object at key.
func ManifestKey(key string) string { return key + ManifestSuffix }
