package suite

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
	"golang.org/x/mod/sumdb/note"
)

// Interop with Debian's OpenSSL 3, in both directions, for every primitive
// the sm suite uses: what atrest writes, openssl reads, and the reverse.

// needTool skips without the program, except under CI, where a missing
// peer fails the test (SPEC §6).
func needTool(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not on PATH: install the Debian package %s", name, pkg)
		}
		t.Skipf("%s not on PATH (Debian package %s)", name, pkg)
	}
}

// openssl runs openssl with stdin and returns its stdout.
func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	needTool(t, "openssl", "openssl")
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

func opensslFails(t *testing.T, args ...string) bool {
	t.Helper()
	needTool(t, "openssl", "openssl")
	return exec.Command("openssl", args...).Run() != nil
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// opensslKey makes an SM2 key pair with openssl: the private key file, the
// public key file and the parsed private key.
func opensslKey(t *testing.T, dir string) (keyPath, pubPath string, key *sm2.PrivateKey) {
	t.Helper()
	keyPath = filepath.Join(dir, "openssl.key")
	pubPath = filepath.Join(dir, "openssl.pub")
	openssl(t, nil, "genpkey", "-algorithm", "SM2", "-out", keyPath)
	openssl(t, nil, "pkey", "-in", keyPath, "-pubout", "-out", pubPath)
	data, _ := os.ReadFile(keyPath)
	k, err := ParseSigningKey(data)
	if err != nil {
		t.Fatalf("parse openssl's SM2 key: %v", err)
	}
	return keyPath, pubPath, k.(*sm2.PrivateKey)
}

func TestInteropPEMKeys(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath, key := opensslKey(t, dir)
	pubPEM, _ := os.ReadFile(pubPath)

	// openssl → atrest: the public key parses to the private key's, as a
	// recipient too, and re-encodes to the very bytes openssl wrote.
	pub, err := ParsePublicKey(pubPEM)
	if err != nil || !pub.Equal(&key.PublicKey) {
		t.Fatalf("openssl's public key: %v", err)
	}
	if mine, _ := MarshalPublicKey(pub); !bytes.Equal(mine, pubPEM) {
		t.Errorf("public key PEM differs from openssl's:\n%s\n%s", mine, pubPEM)
	}
	if r, err := ParseRecipient(pubPEM); err != nil || r.Suite() != SM {
		t.Errorf("openssl's public key as a recipient: %v", err)
	}
	keyPEM, _ := os.ReadFile(keyPath)
	if ids, err := ParseIdentities(keyPEM); err != nil || len(ids) != 1 || ids[0].Suite() != SM {
		t.Errorf("openssl's private key as an identity: %v", err)
	}
	// SEC 1 form (openssl ecparam / older tools) is read too.
	sec1 := openssl(t, nil, "ec", "-in", keyPath, "-outform", "PEM")
	if k, err := ParseSigningKey(sec1); err != nil || !k.(*sm2.PrivateKey).Equal(key) {
		t.Errorf("SEC 1 form of openssl's key: %v", err)
	}

	// atrest → openssl: a key made for `atrest init` is read by openssl,
	// which derives the same public key and writes the private key back in
	// the same bytes.
	mineKey, err := SM.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, dir, "atrest.key", mineKey)
	if back := openssl(t, nil, "pkey", "-in", p); !bytes.Equal(back, mineKey) {
		t.Errorf("openssl rewrites atrest's SM2 key differently:\n%s\n%s", back, mineKey)
	}
	k, _ := ParseSigningKey(mineKey)
	want, _ := MarshalPublicKey(&k.(*sm2.PrivateKey).PublicKey)
	if got := openssl(t, nil, "pkey", "-in", p, "-pubout"); !bytes.Equal(got, want) {
		t.Errorf("openssl derives another public key:\n%s\n%s", got, want)
	}
	// The key id by hand, as KeyID documents it.
	der := openssl(t, nil, "pkey", "-pubin", "-in", pubPath, "-outform", "DER")
	byHand := strings.Fields(string(openssl(t, der, "dgst", "-sm3", "-r")))[0][:16]
	if id, _ := KeyID(pub); id != "sm2:"+byHand {
		t.Errorf("key id %s, by hand sm2:%s", id, byHand)
	}
}

func TestInteropSM2Signatures(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath, key := opensslKey(t, dir)
	msg := []byte("atrest manifest {\"suite\":\"sm\"}\n")
	msgPath := writeFile(t, dir, "msg", msg)

	// atrest signs, openssl verifies with the GM/T 0009 ID, and not with
	// its own default one (the pitfall the README warns about).
	sig, err := Sign(key, msg)
	if err != nil {
		t.Fatal(err)
	}
	sigPath := writeFile(t, dir, "atrest.sig", sig)
	openssl(t, nil, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", pubPath,
		"-in", msgPath, "-sigfile", sigPath, "-pkeyopt", "distid:"+SignerID)
	if !opensslFails(t, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", pubPath,
		"-in", msgPath, "-sigfile", sigPath) {
		t.Error("openssl verified without the signer ID: its default is GM/T's after all?")
	}

	// openssl signs, atrest verifies.
	theirs := openssl(t, nil, "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", keyPath,
		"-in", msgPath, "-pkeyopt", "distid:"+SignerID)
	if !Verify(&key.PublicKey, msg, theirs) {
		t.Error("openssl's signature does not verify")
	}
	if Verify(&key.PublicKey, append(msg, 'x'), theirs) {
		t.Error("openssl's signature verifies another message")
	}
}

func TestInteropSM2Encryption(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath, key := opensslKey(t, dir)
	keys := randBytes(encKeySize + macKeySize)

	// atrest wraps, openssl unwraps.
	w, err := sm2.Encrypt(rand.Reader, &key.PublicKey, keys, sm2.ASN1EncrypterOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got := openssl(t, nil, "pkeyutl", "-decrypt", "-inkey", keyPath, "-in", writeFile(t, dir, "w.der", w)); !bytes.Equal(got, keys) {
		t.Errorf("openssl unwraps %x, want %x", got, keys)
	}
	// openssl wraps, atrest unwraps.
	theirs := openssl(t, keys, "pkeyutl", "-encrypt", "-pubin", "-inkey", pubPath)
	if got, err := sm2.Decrypt(key, theirs); err != nil || !bytes.Equal(got, keys) {
		t.Errorf("atrest unwraps %x, %v", got, err)
	}
}

func TestInteropSM3AndHMAC(t *testing.T) {
	data := randBytes(1<<20 + 7)
	sum := SM.Sum(data)
	if got := strings.Fields(string(openssl(t, data, "dgst", "-sm3", "-r")))[0]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("SM3: openssl %s, atrest %x", got, sum)
	}
	key := randBytes(macKeySize)
	m := hmac.New(sm3.New, key)
	m.Write(data)
	got := strings.Fields(string(openssl(t, data, "dgst", "-sm3", "-mac", "HMAC", "-macopt", "hexkey:"+hex.EncodeToString(key), "-r")))[0]
	if got != hex.EncodeToString(m.Sum(nil)) {
		t.Errorf("HMAC-SM3: openssl %s, atrest %x", got, m.Sum(nil))
	}
}

func TestInteropSM4CTR(t *testing.T) {
	key := randBytes(encKeySize)
	for _, iv := range []string{
		hex.EncodeToString(randBytes(ivSize)),
		"0000000000000000ffffffffffffff00", // the low 64 bits wrap: the counter is all 128 bits
		"fffffffffffffffffffffffffffffff0", // the whole counter wraps
	} {
		ivb, _ := hex.DecodeString(iv)
		plain := randBytes(1<<20 + 13)
		block, _ := sm4.NewCipher(key)
		ct := make([]byte, len(plain))
		cipher.NewCTR(block, ivb).XORKeyStream(ct, plain)
		args := []string{"enc", "-sm4-ctr", "-K", hex.EncodeToString(key), "-iv", iv}
		if got := openssl(t, ct, append(args, "-d")...); !bytes.Equal(got, plain) {
			t.Errorf("iv %s: openssl does not decrypt atrest's SM4-CTR", iv)
		}
		if got := openssl(t, plain, append(args, "-e")...); !bytes.Equal(got, ct) {
			t.Errorf("iv %s: openssl's SM4-CTR differs from atrest's", iv)
		}
	}
}

// A checkpoint note signed with SM2 is checked by openssl: the signature
// after the 4-byte key ID is over the note text.
func TestInteropNoteSignature(t *testing.T) {
	dir := t.TempDir()
	_, pubPath, key := opensslKey(t, dir)
	s, err := NoteSigner("atrest.journal/host", key)
	if err != nil {
		t.Fatal(err)
	}
	text := "atrest.journal/host\n20\nq6ltCCiG7gT1Z7YQ7mu6l7pKHj4wZg7oXOTgR2LQv0g=\n"
	signed, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := NoteVerifier("atrest.journal/host", &key.PublicKey)
	if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
		t.Fatalf("open own note: %v", err)
	}
	line := strings.TrimSuffix(string(signed[len(text)+1:]), "\n")
	b64 := line[strings.LastIndex(line, " ")+1:]
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(sig) < 5 {
		t.Fatalf("signature line %q", line)
	}
	openssl(t, nil, "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", pubPath,
		"-in", writeFile(t, dir, "text", []byte(text)), "-sigfile", writeFile(t, dir, "sig", sig[4:]),
		"-pkeyopt", "distid:"+SignerID)
}
