package crypto

import (
	gocrypto "crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/atrest/atrest/crypto/suite"
)

// FingerprintKeySize is the size in bytes of a fingerprint key.
const FingerprintKeySize = 32

// EnsureKeyFile creates path with a fresh key from gen (mode 0600, parent
// directories 0700) when it does not exist. It never overwrites an existing
// file; created reports whether it wrote one.
func EnsureKeyFile(path string, gen func() ([]byte, error)) (created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("key %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("key %s: %w", path, err)
	}
	data, err := gen()
	if err != nil {
		return false, fmt.Errorf("key %s: %w", path, err)
	}
	// O_EXCL: a key created by a concurrent init is kept, not replaced.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("key %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return false, fmt.Errorf("key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, fmt.Errorf("key %s: %w", path, err)
	}
	return true, f.Close()
}

// NewFingerprintKey returns a new random fingerprint key, hex-encoded.
func NewFingerprintKey() ([]byte, error) {
	k := make([]byte, FingerprintKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(k) + "\n"), nil
}

// LoadFingerprintKey reads a key written by NewFingerprintKey.
func LoadFingerprintKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(k) < FingerprintKeySize {
		return nil, fmt.Errorf("fingerprint key %s: not %d hex-encoded bytes", path, FingerprintKeySize)
	}
	return k, nil
}

// LoadSigningKey reads an Ed25519 seed as suite.Standard.NewSigningKey
// writes it. For a key of either suite (Ed25519 or SM2), use
// suite.LoadSigningKey.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	k, err := suite.LoadSigningKey(path)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: an SM2 key, where an Ed25519 seed (suite standard) is needed", path)
	}
	return ek, nil
}

// LoadPublicKeyPEM reads a public key as suite.MarshalPublicKey writes it
// (PKIX PEM): the journal's key of either suite, as `atrest audit checkpoint
// --public-key` prints it, to verify bundles and checkpoints with.
func LoadPublicKeyPEM(path string) (gocrypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pub, err := suite.ParseVerificationKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return pub, nil
}
