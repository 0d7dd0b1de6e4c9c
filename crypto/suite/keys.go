package suite

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// maxKeyFile bounds what a key parser reads: a PEM key is a few hundred
// bytes, an age identity file a few lines.
const maxKeyFile = 64 << 10

// LoadSigningKey reads a signing key file: a hex Ed25519 seed (standard) or
// an SM2 private key in PEM (sm). The result is an ed25519.PrivateKey or a
// *sm2.PrivateKey.
func LoadSigningKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := ParseSigningKey(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// ParseSigningKey parses what LoadSigningKey reads.
func ParseSigningKey(data []byte) (crypto.Signer, error) {
	if isPEM(data) {
		return parseSM2PrivateKey(data)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("neither a hex-encoded Ed25519 seed nor an SM2 private key in PEM")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKey parses an SM2 public key in PEM (`openssl pkey -pubout`):
// the form in which an sm manifest or checkpoint key is handed to someone
// who verifies by hand.
func ParsePublicKey(data []byte) (*ecdsa.PublicKey, error) {
	k, err := parsePublicPEM(data)
	if err != nil {
		return nil, err
	}
	if !sm2.IsSM2PublicKey(k) {
		return nil, fmt.Errorf("public key is %s, not SM2", keyKind(k))
	}
	return k.(*ecdsa.PublicKey), nil
}

// ParseVerificationKey parses a signature verification key in PEM, as
// MarshalPublicKey writes it: Ed25519 (standard) or SM2 (sm). It is how a
// journal's or a bundle's key is handed to someone who verifies elsewhere.
func ParseVerificationKey(data []byte) (crypto.PublicKey, error) {
	k, err := parsePublicPEM(data)
	if err != nil {
		return nil, err
	}
	if _, err := Of(k); err != nil {
		return nil, fmt.Errorf("public key is %s, neither Ed25519 nor SM2", keyKind(k))
	}
	return k, nil
}

// parsePublicPEM parses one PEM PUBLIC KEY block (PKIX), of any kind.
func parsePublicPEM(data []byte) (any, error) {
	block, err := onePEM(data, "public key")
	if err != nil {
		return nil, err
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM block is %q, not PUBLIC KEY (`openssl pkey -pubout` writes one)", block.Type)
	}
	k, err := smx509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return k, nil
}

// MarshalPublicKey returns an Ed25519 or SM2 public key in PEM, byte for
// byte what `openssl pkey -pubout` writes for it.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	if _, err := Of(pub); err != nil {
		return nil, err
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// onePEM decodes a file that holds one PEM block and nothing else.
func onePEM(data []byte, what string) (*pem.Block, error) {
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("not a %s: file too big", what)
	}
	block, rest := pem.Decode(data)
	if block == nil || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("not a PEM file with one %s", what)
	}
	return block, nil
}

func parseSM2PrivateKey(data []byte) (*sm2.PrivateKey, error) {
	block, err := onePEM(data, "private key")
	if err != nil {
		return nil, err
	}
	var k any
	switch block.Type {
	case "PRIVATE KEY": // PKCS#8: openssl genpkey -algorithm SM2
		k, err = smx509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY", "SM2 PRIVATE KEY": // SEC 1: openssl ecparam -name SM2 -genkey
		k, err = smx509.ParseSM2PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the private key is encrypted with a passphrase; atrest needs it in the clear (openssl pkey -in KEY -out PLAIN), kept mode 0600")
	default:
		return nil, fmt.Errorf("PEM block is %q, not PRIVATE KEY (`openssl genpkey -algorithm SM2` writes one)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	sk, ok := k.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %s, not SM2", keyKind(k))
	}
	return sk, nil
}

// keyKind names a key type for an error message.
func keyKind(k any) string {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *ecdsa.PrivateKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey, ed25519.PrivateKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", k)
}

func isPEM(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN "))
}

// newSM2Key returns a fresh SM2 private key in PKCS#8 PEM, the form
// `openssl genpkey -algorithm SM2` writes.
func newSM2Key() ([]byte, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := smx509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// newEd25519Key returns a fresh Ed25519 seed, hex-encoded.
func newEd25519Key() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(priv.Seed()) + "\n"), nil
}

// KeyID names a verification key in manifests and object headers:
// "ed25519:" and the first 8 bytes of SHA-256 of the raw key, or "sm2:" and
// the first 8 bytes of SM3 of its DER SubjectPublicKeyInfo, in hex. The sm
// form can be computed by hand:
//
//	openssl pkey -pubin -in KEY.pub -outform DER | openssl dgst -sm3 -r | cut -c1-16
func KeyID(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		sum := sha256.Sum256(k)
		return "ed25519:" + hex.EncodeToString(sum[:8]), nil
	case *ecdsa.PublicKey:
		if id, err := sm2KeyID(k); err == nil {
			return "sm2:" + id, nil
		}
	}
	return "", fmt.Errorf("key of type %T is neither Ed25519 nor SM2", pub)
}

// sm2KeyID is the hex of the first 8 bytes of SM3(DER SubjectPublicKeyInfo).
func sm2KeyID(pub *ecdsa.PublicKey) (string, error) {
	if !sm2.IsSM2PublicKey(pub) {
		return "", errors.New("not an SM2 key")
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sm3.Sum(der)
	return hex.EncodeToString(sum[:8]), nil
}

// ParseRecipient parses a recipient in its config form: an age public key
// (age1…) or an SM2 public key in PEM.
func ParseRecipient(text []byte) (Recipient, error) {
	if isPEM(text) {
		pub, err := ParsePublicKey(text)
		if err != nil {
			return nil, err
		}
		return newSM2Recipient(pub)
	}
	s := strings.TrimSpace(string(text))
	r, err := age.ParseX25519Recipient(s)
	if err != nil {
		return nil, errors.New("neither an age public key (age1…) nor an SM2 public key in PEM")
	}
	return ageRecipient{r}, nil
}

// ParseIdentities parses an identity file: an SM2 private key in PEM, or an
// age identity file (AGE-SECRET-KEY-1… lines, # comments).
func ParseIdentities(data []byte) ([]Identity, error) {
	if len(data) > maxKeyFile {
		return nil, errors.New("identity file too big")
	}
	if isPEM(data) {
		k, err := parseSM2PrivateKey(data)
		if err != nil {
			return nil, err
		}
		return []Identity{sm2Identity{k}}, nil
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		// age's message may quote the malformed line, a secret: keep
		// only where ("error at line 3").
		where, _, _ := strings.Cut(err.Error(), ":")
		return nil, fmt.Errorf("neither an SM2 private key in PEM nor an age identity file (%s)", where)
	}
	out := make([]Identity, len(ids))
	for i, id := range ids {
		out[i] = ageIdentity{id}
	}
	return out, nil
}

// IdentityRecipient returns the recipient an identity opens, so a drill
// can say which keys it holds.
func IdentityRecipient(id Identity) (Recipient, error) {
	switch id := id.(type) {
	case sm2Identity:
		return newSM2Recipient(&id.key.PublicKey)
	case ageIdentity:
		if x, ok := id.Identity.(*age.X25519Identity); ok {
			return ageRecipient{x.Recipient()}, nil
		}
	}
	return nil, fmt.Errorf("identity of type %T has no recipient to show", id)
}
