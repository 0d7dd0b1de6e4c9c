// Package evidence writes and checks signed evidence bundles: one zip that
// an assessor can take away and check on another machine, without the
// installation or a network. A bundle holds a period report (HTML and
// JSON), the journal entries it rests on with one signed checkpoint and an
// inclusion proof per entry, the journal's public key, and a manifest of
// every member's hash signed with the journal key. Any edited, added or
// removed member fails the check and is named.
//
// The journal's suite (crypto/suite) makes the bundle: a standard journal's
// is SHA-256 and Ed25519, an sm journal's SM3 and SM2, and its public key
// (PEM, as `openssl pkey -pubout` writes it) is what verifies it.
//
// What a passing check proves: the manifest was signed by the holder of the
// key in the bundle (compare its fingerprint with the one the installation
// gave you, or pass the key you trust), every member is as signed, and each
// entry is exactly the one at its place in the journal that key signed.
package evidence

import (
	"archive/zip"
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/crypto/suite"
)

// Format names the bundle layout.
const Format = "atrest.bundle/v1"

// Member names inside the zip.
const (
	manifestName   = "MANIFEST.json"
	signatureName  = "MANIFEST.sig"
	readmeName     = "README.txt"
	entriesName    = "journal/entries.jsonl"
	proofsName     = "journal/proofs.json"
	checkpointName = "journal/checkpoint.txt"
	publicKeyName  = "keys/journal.pub.pem"
	signerName     = "atrest.bundle"
)

// Limits for reading a bundle, which is untrusted input.
const (
	maxMemberBytes = 256 << 20
	maxTotalBytes  = 1 << 30
	maxMembers     = 64
)

// File is one member the caller adds (the report in its formats).
type File struct {
	Name string
	Data []byte
}

// Contents is what goes into a bundle.
type Contents struct {
	Period  string
	Created time.Time
	Files   []File
	Proven  *journal.ProvenEntries
}

// Manifest is MANIFEST.json.
type Manifest struct {
	Format     string    `json:"format"`
	Period     string    `json:"period"`
	Created    time.Time `json:"created"`
	Entries    []int     `json:"entries"`
	Checkpoint int       `json:"checkpoint_size"`
	KeyID      string    `json:"key_fingerprint"`
	// Hash names the members' hash, the journal suite's: "sha256" or
	// "sm3" (suite.Suite.HashName). Bundles from before suites have none:
	// sha256.
	Hash    string       `json:"hash,omitempty"`
	Members []MemberHash `json:"members"`
}

// MemberHash is one member's hash and size: SHA-256 in a standard bundle,
// SM3 in an sm one.
type MemberHash struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256,omitempty"`
	SM3    string `json:"sm3,omitempty"`
	Size   int    `json:"size"`
}

// memberHash hashes one member with the suite's hash.
func memberHash(s suite.Suite, f File) MemberHash {
	sum := s.Sum(f.Data)
	m := MemberHash{Name: f.Name, Size: len(f.Data)}
	*m.field(s) = hex.EncodeToString(sum[:])
	return m
}

// field is the member's hash of the suite's kind.
func (m *MemberHash) field(s suite.Suite) *string {
	if s.HashName() == "sm3" {
		return &m.SM3
	}
	return &m.SHA256
}

type proofRecord struct {
	Seq   int      `json:"seq"`
	Proof []string `json:"proof"` // base64 hashes, tlog.RecordProof
}

// Fingerprint is how a bundle names its key: the first 16 bytes of the
// hash (SHA-256, or SM3 for an SM2 key) of the key's PKIX encoding, in hex.
func Fingerprint(pub crypto.PublicKey) string {
	s, err := suite.Of(pub)
	if err != nil {
		return ""
	}
	der, _ := smx509.MarshalPKIXPublicKey(pub)
	sum := s.Sum(der)
	return hex.EncodeToString(sum[:16])
}

// signedText is what MANIFEST.sig signs: the format and the manifest's hash.
func signedText(s suite.Suite, manifest []byte) string {
	sum := s.Sum(manifest)
	return fmt.Sprintf("%s\n%s %x\n", Format, s.HashName(), sum)
}

// Write builds the bundle, signed with the journal's key (Ed25519 or SM2),
// and writes the zip to w.
func Write(w io.Writer, key crypto.Signer, c Contents) error {
	if c.Proven == nil || len(c.Proven.Lines) == 0 {
		return errors.New("evidence: no journal entries to bundle")
	}
	s, err := suite.Of(key)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	pub := key.Public()
	pubPEM, err := suite.MarshalPublicKey(pub)
	if err != nil {
		return err
	}
	var proofs []proofRecord
	for i, p := range c.Proven.Proofs {
		rec := proofRecord{Seq: c.Proven.Seqs[i]}
		for _, h := range p {
			rec.Proof = append(rec.Proof, base64.StdEncoding.EncodeToString(h[:]))
		}
		proofs = append(proofs, rec)
	}
	proofJSON, _ := json.MarshalIndent(proofs, "", " ")
	files := append([]File(nil), c.Files...)
	files = append(files,
		File{readmeName, []byte(readme(c.Period, Fingerprint(pub), s))},
		File{entriesName, bytes.Join(c.Proven.Lines, nil)},
		File{proofsName, append(proofJSON, '\n')},
		File{checkpointName, c.Proven.Checkpoint},
		File{publicKeyName, pubPEM},
	)
	m := Manifest{Format: Format, Period: c.Period, Created: c.Created.UTC(), Entries: c.Proven.Seqs,
		Checkpoint: c.Proven.Size, KeyID: Fingerprint(pub), Hash: s.HashName()}
	for _, f := range files {
		m.Members = append(m.Members, memberHash(s, f))
	}
	manifest, _ := json.MarshalIndent(m, "", "  ")
	manifest = append(manifest, '\n')
	sig, err := journal.SignNote(key, signerName, signedText(s, manifest))
	if err != nil {
		return fmt.Errorf("evidence: sign the manifest: %w", err)
	}
	zw := zip.NewWriter(w)
	for _, f := range append([]File{{manifestName, manifest}, {signatureName, sig}}, files...) {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: c.Created})
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func readme(period, keyID string, s suite.Suite) string {
	hash, sig, sum := "SHA-256", "Ed25519", "sha256sum"
	if s.HashName() == "sm3" {
		hash, sig, sum = "SM3", "SM2 (SM3, signer ID "+suite.SignerID+")", "openssl dgst -sm3 -r"
	}
	return `atrest evidence bundle (` + Format + `), period ` + period + `

Check it on any machine, offline:

    atrest audit verify --bundle THIS.zip [--key journal.pub.pem]

It checks MANIFEST.sig (signed with ` + sig + ` by the journal key in keys/journal.pub.pem),
the ` + hash + ` of every member listed in MANIFEST.json (an edited, added or removed
member fails, by name), the signed checkpoint in journal/checkpoint.txt, and for every
entry in journal/entries.jsonl its own hash, its link to the entry before it, and its
inclusion proof (journal/proofs.json, RFC 6962) in that checkpoint's Merkle tree.

The key's fingerprint is ` + keyID + `. A bundle proves what the holder of that key
signed: compare the fingerprint with the one the installation gave you, or pass the
key you trust with --key.

By hand: ` + sum + ` every member and compare with MANIFEST.json; each line of
journal/entries.jsonl hashes (` + hash + `) to its "hash" field once that field is removed:

    sed 's/,"hash":"[0-9a-f]*"}$/}/' journal/entries.jsonl | head -1 | tr -d '\n' | ` + sum + `
`
}

// Result is what a check of a bundle found.
type Result struct {
	Manifest   Manifest
	Checkpoint journal.Checkpoint
	Entries    []journal.Entry
	KeyID      string
}

// Verify checks the bundle in r. With trusted set (an Ed25519 or SM2 public
// key), the bundle's key must be that key; without, the result's KeyID says
// whose key it is. An error names the member or entry that fails.
func Verify(r io.ReaderAt, size int64, trusted crypto.PublicKey) (Result, error) {
	var res Result
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return res, fmt.Errorf("evidence: not a zip file: %w", err)
	}
	members, err := readMembers(zr)
	if err != nil {
		return res, err
	}
	pub, err := bundleKey(members[publicKeyName])
	if err != nil {
		return res, err
	}
	s, _ := suite.Of(pub) // bundleKey took only keys of a suite
	res.KeyID = Fingerprint(pub)
	if trusted != nil && !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(trusted) {
		return res, fmt.Errorf("evidence: %s is key %s, not the key you trust (%s)", publicKeyName, res.KeyID, Fingerprint(trusted))
	}
	manifest, ok := members[manifestName]
	if !ok {
		return res, fmt.Errorf("evidence: %s missing", manifestName)
	}
	text, err := journal.OpenNote(members[signatureName], pub)
	if err != nil {
		return res, fmt.Errorf("evidence: %s: %v", signatureName, err)
	}
	if text != signedText(s, manifest) {
		return res, fmt.Errorf("evidence: %s was edited (it is not the manifest the signature covers)", manifestName)
	}
	if err := json.Unmarshal(manifest, &res.Manifest); err != nil || res.Manifest.Format != Format {
		return res, fmt.Errorf("evidence: %s: not an %s manifest", manifestName, Format)
	}
	if h := res.Manifest.Hash; h != "" && h != s.HashName() {
		return res, fmt.Errorf("evidence: %s says hash %s, the key's suite hashes with %s", manifestName, h, s.HashName())
	}
	listed := map[string]bool{manifestName: true, signatureName: true}
	for _, m := range res.Manifest.Members {
		data, ok := members[m.Name]
		if !ok {
			return res, fmt.Errorf("evidence: member %s is listed in the manifest but missing", m.Name)
		}
		if got := memberHash(s, File{m.Name, data}); *got.field(s) != *m.field(s) || len(data) != m.Size {
			return res, fmt.Errorf("evidence: member %s was edited (%s differs from the signed manifest)", m.Name, s.HashName())
		}
		listed[m.Name] = true
	}
	for name := range members {
		if !listed[name] {
			return res, fmt.Errorf("evidence: member %s is not in the signed manifest (added)", name)
		}
	}
	proven, err := provenFrom(members, res.Manifest)
	if err != nil {
		return res, err
	}
	if res.Checkpoint, err = journal.CheckProven(proven, pub); err != nil {
		return res, fmt.Errorf("evidence: %w", err)
	}
	for _, l := range proven.Lines {
		e, err := journal.ParseEntry(l)
		if err != nil {
			return res, fmt.Errorf("evidence: %w", err)
		}
		res.Entries = append(res.Entries, e)
	}
	return res, nil
}

func readMembers(zr *zip.Reader) (map[string][]byte, error) {
	if len(zr.File) > maxMembers {
		return nil, fmt.Errorf("evidence: %d members, more than a bundle has", len(zr.File))
	}
	members := map[string][]byte{}
	var total int64
	for _, f := range zr.File {
		if _, dup := members[f.Name]; dup {
			return nil, fmt.Errorf("evidence: member %s appears twice", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("evidence: member %s: %w", f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxMemberBytes+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("evidence: member %s: %w", f.Name, err)
		}
		if total += int64(len(data)); len(data) > maxMemberBytes || total > maxTotalBytes {
			return nil, fmt.Errorf("evidence: member %s: larger than a bundle member may be", f.Name)
		}
		members[f.Name] = data
	}
	return members, nil
}

func bundleKey(data []byte) (crypto.PublicKey, error) {
	pub, err := suite.ParseVerificationKey(data)
	if err != nil {
		return nil, fmt.Errorf("evidence: %s: %w", publicKeyName, err)
	}
	return pub, nil
}

func provenFrom(members map[string][]byte, m Manifest) (*journal.ProvenEntries, error) {
	p := &journal.ProvenEntries{Checkpoint: members[checkpointName], Size: m.Checkpoint}
	for _, l := range strings.SplitAfter(string(members[entriesName]), "\n") {
		if l != "" {
			p.Lines = append(p.Lines, []byte(l))
		}
	}
	var proofs []proofRecord
	if err := json.Unmarshal(members[proofsName], &proofs); err != nil {
		return nil, fmt.Errorf("evidence: %s: %w", proofsName, err)
	}
	sort.SliceStable(proofs, func(i, k int) bool { return proofs[i].Seq < proofs[k].Seq })
	for _, pr := range proofs {
		var rp tlog.RecordProof
		for _, s := range pr.Proof {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil || len(b) != tlog.HashSize {
				return nil, fmt.Errorf("evidence: %s: entry %d: a hash that is not one", proofsName, pr.Seq)
			}
			rp = append(rp, tlog.Hash(b))
		}
		p.Seqs = append(p.Seqs, pr.Seq)
		p.Proofs = append(p.Proofs, rp)
	}
	if len(p.Seqs) != len(m.Entries) {
		return nil, fmt.Errorf("evidence: %d proofs for %d entries", len(p.Seqs), len(m.Entries))
	}
	return p, nil
}
