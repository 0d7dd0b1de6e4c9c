package suite

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/mod/sumdb/note"
)

// SignerID is the SM2 signer ID (the "distinguishing identifier" hashed
// into Z_A) of every SM2 signature atrest makes or checks: GM/T 0009's
// default. OpenSSL 3.0 defaults to another one, so pass it:
// `-pkeyopt distid:1234567812345678`.
const SignerID = "1234567812345678"

// Sign signs msg with an Ed25519 key, or with an SM2 key over SM3 and
// SignerID, DER-encoded.
func Sign(key crypto.Signer, msg []byte) ([]byte, error) {
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(k, msg), nil
	case *sm2.PrivateKey:
		sig, err := k.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, []byte(SignerID)))
		if err != nil {
			return nil, fmt.Errorf("sm2: sign: %w", err)
		}
		return sig, nil
	}
	return nil, fmt.Errorf("key of type %T is neither Ed25519 nor SM2", key)
}

// Verify reports whether sig is a signature of msg by pub, as Sign makes
// them.
func Verify(pub crypto.PublicKey, msg, sig []byte) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig)
	case *ecdsa.PublicKey:
		return sm2.IsSM2PublicKey(k) && sm2.VerifyASN1WithSM2(k, []byte(SignerID), msg, sig)
	}
	return false
}

// Checkpoint signatures are C2SP signed notes (c2sp.org/signed-note).
// Ed25519 uses the note's own signature type 0x01. SM2 has no assigned type
// byte, so it uses 0xff (reserved for unassigned types) followed by the
// identifier below; its public key is encoded as DER SubjectPublicKeyInfo,
// and the signature is Sign's: DER SM2 over SM3 and SignerID of the note
// text, checkable with openssl. The key ID is C2SP's recommended one:
//
//	key ID = SHA-256(key name || 0x0A || 0xff || "atrest/sm2-sm3" || DER SPKI)[:4]
const sm2NoteType = "\xff" + "atrest/sm2-sm3"

// NoteSigner returns a signer of notes under the key name name.
func NoteSigner(name string, key crypto.Signer) (note.Signer, error) {
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return ed25519NoteSigner(name, k)
	case *sm2.PrivateKey:
		v, err := newSM2NoteVerifier(name, &k.PublicKey)
		if err != nil {
			return nil, err
		}
		return sm2NoteSigner{v, k}, nil
	}
	return nil, fmt.Errorf("key of type %T is neither Ed25519 nor SM2", key)
}

// NoteVerifier returns the verifier of notes signed by pub under the key
// name name.
func NoteVerifier(name string, pub crypto.PublicKey) (note.Verifier, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		vkey, err := note.NewEd25519VerifierKey(name, k)
		if err != nil {
			return nil, err
		}
		return note.NewVerifier(vkey)
	case *ecdsa.PublicKey:
		return newSM2NoteVerifier(name, k)
	}
	return nil, fmt.Errorf("key of type %T is neither Ed25519 nor SM2", pub)
}

// ed25519NoteSigner adapts an Ed25519 key to note.Signer. note.GenerateKey
// makes its own keys; atrest's come from a key file, so the signer key
// string is built from the seed (signature type 1 = Ed25519).
func ed25519NoteSigner(name string, key ed25519.PrivateKey) (note.Signer, error) {
	vkey, err := note.NewEd25519VerifierKey(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	// vkey is name+hash+base64(key); the name has no '+', the base64 may.
	_, rest, _ := strings.Cut(vkey, "+")
	keyHash, _, _ := strings.Cut(rest, "+")
	skey := "PRIVATE+KEY+" + name + "+" + keyHash + "+" +
		base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("key name %q: %w", name, err)
	}
	return s, nil
}

type sm2NoteVerifier struct {
	name string
	hash uint32
	pub  *ecdsa.PublicKey
}

func newSM2NoteVerifier(name string, pub *ecdsa.PublicKey) (*sm2NoteVerifier, error) {
	if !sm2.IsSM2PublicKey(pub) {
		return nil, errors.New("not an SM2 public key")
	}
	if name == "" || strings.ContainsAny(name, "+ \t\n\r") {
		return nil, fmt.Errorf("key name %q: empty, or holds a space or '+'", name)
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte(name + "\n" + sm2NoteType))
	h.Write(der)
	return &sm2NoteVerifier{name: name, hash: binary.BigEndian.Uint32(h.Sum(nil)), pub: pub}, nil
}

func (v *sm2NoteVerifier) Name() string    { return v.name }
func (v *sm2NoteVerifier) KeyHash() uint32 { return v.hash }
func (v *sm2NoteVerifier) Verify(msg, sig []byte) bool {
	return Verify(v.pub, msg, sig)
}

type sm2NoteSigner struct {
	*sm2NoteVerifier
	key *sm2.PrivateKey
}

func (s sm2NoteSigner) Sign(msg []byte) ([]byte, error) { return Sign(s.key, msg) }
