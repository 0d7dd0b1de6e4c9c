// Package suite is atrest's choice of algorithms, kept in one place so that
// the rest of atrest names a suite only to pick it and never branches on it.
// There are two:
//
//   - "standard": backups with age (X25519 key wrapping, ChaCha20-Poly1305),
//     Ed25519 signatures, SHA-256, HMAC-SHA-256;
//   - "sm", the Chinese national algorithms that a commercial-cryptography
//     assessment (密评, GB/T 39786-2021) expects for important data at rest
//     and for audit records: SM2 (key wrapping and signatures, GB/T 32918),
//     SM4 (GB/T 32907), SM3 and HMAC-SM3 (GB/T 32905).
//
// A Suite does three jobs: it encrypts a backup stream to recipients and
// decrypts it with an identity (Encrypt, Decrypt, memory bounded whatever
// the size), and it gives the 32-byte hash that chains the journal, builds
// its Merkle tree and keys fingerprints (Sum, NewHash). Signing is done by
// keys, which know their suite: a signing key is an ed25519.PrivateKey or
// an SM2 *sm2.PrivateKey behind the standard library's crypto.Signer; Sign
// and Verify give manifest signatures, NoteSigner and NoteVerifier the
// checkpoint signatures of the journal (C2SP signed notes), and Of tells
// which suite a key belongs to, so a key of the wrong kind is an error and
// not a silent switch.
//
// SM2 signatures hash with SM3 and the GM/T 0009 default signer ID
// 1234567812345678, DER-encoded: `openssl pkeyutl -verify -rawin -digest sm3
// -pkeyopt distid:1234567812345678` checks them (OpenSSL 3.0's own default
// ID differs). SM2 keys are PEM as OpenSSL 3 writes them (`openssl genpkey
// -algorithm SM2`, `openssl pkey -pubout`). The sm backup object is
// described in object.go; its layout lets Debian's openssl, coreutils and
// zstd restore it without atrest (README, "Restoring an sm backup by hand").
//
// What the package must never do: write its own primitive (they come from
// filippo.io/age, the standard library and github.com/emmansun/gmsm), or let
// a reader end without an error before the object's whole tag has been
// checked.
package suite

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/emmansun/gmsm/sm2"
)

// Suite is one set of algorithms.
type Suite interface {
	// Name is "standard" or "sm", as in the config and in records.
	Name() string
	// Sum and NewHash are the suite's 32-byte hash: SHA-256 or SM3.
	Sum(data []byte) [32]byte
	NewHash() hash.Hash
	// Encrypt starts an object on dst that every recipient can open; what
	// is written to the returned writer is its plaintext, and the object is
	// complete when Close returns without error.
	Encrypt(dst io.Writer, to []Recipient) (io.WriteCloser, error)
	// Decrypt opens an object with the first identity that matches one of
	// its recipients (an error wrapping ErrNoIdentity when none does). The
	// reader's errors wrap ErrIntegrity when the bytes are not what was
	// encrypted; errors of src come through as they are, so a transport
	// failure is never taken for damage.
	Decrypt(src io.Reader, ids []Identity) (io.Reader, error)
	// NewSigningKey returns a fresh signing key in the form its key file
	// holds: a hex Ed25519 seed, or an SM2 private key in PKCS#8 PEM.
	NewSigningKey() ([]byte, error)

	// Scheme names the backup object's format in manifests ("age",
	// "atrest-sm/v1"), and Ext ends its key ("age", "sm4").
	Scheme() string
	Ext() string
	// HashName and SignatureName name the suite's hash and signatures in
	// manifests and bundles: "sha256" and "ed25519", or "sm3" and "sm2-sm3".
	HashName() string
	SignatureName() string
	// ChunkAuthenticated says whether every byte Decrypt's reader gives
	// out has been authenticated already (age: chunk by chunk), or only
	// once the reader reaches the end without an error (sm: one tag over
	// the object, checked before the last chunk is given out). A consumer
	// that acts on plaintext as it comes must read to the end before it
	// blames anything but the bytes, unless this is true.
	ChunkAuthenticated() bool
	// Layout tells from an object's first bytes (head: its whole header at
	// least), without a key, how many recipients the object names and how
	// long it is when it holds n bytes of plaintext: what a check can hold
	// a stored object to without the identity.
	Layout(head []byte, n int64) (recipients int, size int64, err error)
}

// The suites.
var (
	Standard Suite = standard{}
	SM       Suite = sm{}
)

// Names lists the suite names in the order a config error shows them.
var Names = []string{"standard", "sm"}

// Get returns the suite named name; "" is standard, the default.
func Get(name string) (Suite, error) {
	switch name {
	case "", "standard":
		return Standard, nil
	case "sm":
		return SM, nil
	}
	return nil, fmt.Errorf("suite %q is not %s", name, strings.Join(Names, " or "))
}

// ByExt returns the suite whose backup objects end in ext (Suite.Ext:
// "age", "sm4").
func ByExt(ext string) (Suite, bool) {
	for _, s := range []Suite{Standard, SM} {
		if s.Ext() == ext {
			return s, true
		}
	}
	return nil, false
}

// Errors of Decrypt, for errors.Is: the failure classes of backup checks
// and drills.
var (
	// ErrNoIdentity: none of the identities opens the object (wrong key,
	// or the object's header is damaged where the key is wrapped).
	ErrNoIdentity = errors.New("no identity matches a recipient of the object")
	// ErrIntegrity: the object is not what was encrypted (damaged,
	// truncated, or not an object of this suite).
	ErrIntegrity = errors.New("object failed its integrity check")
)

// Recipient is a public key that backups are encrypted to: an age X25519
// recipient (standard) or an SM2 public key (sm).
type Recipient interface {
	Suite() Suite
	// String names the key without revealing anything secret: the age1…
	// string, or "sm2:" and the key id (see KeyID).
	String() string
}

// Identity is a private key that opens backups: an age identity or an SM2
// private key.
type Identity interface {
	Suite() Suite
}

// Of returns the suite of a signing or verification key: Ed25519 keys are
// standard, SM2 keys sm.
func Of(key any) (Suite, error) {
	switch k := key.(type) {
	case ed25519.PrivateKey, ed25519.PublicKey:
		return Standard, nil
	case *sm2.PrivateKey:
		return SM, nil
	case *ecdsa.PublicKey:
		if sm2.IsSM2PublicKey(k) {
			return SM, nil
		}
	}
	return nil, fmt.Errorf("key of type %T is neither Ed25519 nor SM2", key)
}
