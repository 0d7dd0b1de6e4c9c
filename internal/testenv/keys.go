package testenv

import (
	gocrypto "crypto"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/atrest/atrest/crypto/suite"
)

// BackupKeys are the keys of one backup job of a suite, made the way an
// operator makes them and written to files the way a config names them.
type BackupKeys struct {
	Suite     suite.Suite
	Recipient suite.Recipient
	Identity  suite.Identity
	// RecipientConfig is what a job's recipients list holds: the age1…
	// string (standard) or the path of the SM2 public key in PEM (sm).
	RecipientConfig string
	// IdentityFile is the path of the identity: an age identity file, or
	// the SM2 private key in PEM (PKCS#8, as `openssl genpkey` writes).
	IdentityFile string
	// Signer is a fresh manifest signing key of the suite.
	Signer gocrypto.Signer
}

// NewBackupKeys makes a recipient, its identity and a signing key of
// suite s, with their files in a directory of the test's.
func NewBackupKeys(t testing.TB, s suite.Suite) BackupKeys {
	t.Helper()
	dir := t.TempDir()
	k := BackupKeys{Suite: s, IdentityFile: filepath.Join(dir, "backup.key")}
	var pub, priv []byte
	switch s {
	case suite.SM:
		var err error
		if priv, err = suite.SM.NewSigningKey(); err != nil {
			t.Fatal(err)
		}
		sk, err := suite.ParseSigningKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		if pub, err = suite.MarshalPublicKey(sk.Public()); err != nil {
			t.Fatal(err)
		}
		k.RecipientConfig = filepath.Join(dir, "backup.pub")
		if err := os.WriteFile(k.RecipientConfig, pub, 0o644); err != nil {
			t.Fatal(err)
		}
	default:
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		k.RecipientConfig = id.Recipient().String()
		pub, priv = []byte(k.RecipientConfig), []byte(id.String()+"\n")
	}
	if err := os.WriteFile(k.IdentityFile, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if k.Recipient, err = suite.ParseRecipient(pub); err != nil {
		t.Fatal(err)
	}
	ids, err := suite.ParseIdentities(priv)
	if err != nil || len(ids) != 1 {
		t.Fatalf("identity: %v", err)
	}
	k.Identity = ids[0]
	k.Signer = SigningKey(t, s)
	return k
}

// SigningKey is a fresh signing key of suite s (a journal's or a
// manifest's), made as `atrest init` makes it.
func SigningKey(t testing.TB, s suite.Suite) gocrypto.Signer {
	t.Helper()
	b, err := s.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := suite.ParseSigningKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
