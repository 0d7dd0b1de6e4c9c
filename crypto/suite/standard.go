package suite

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"filippo.io/age"
)

// standard is age, Ed25519 and SHA-256: what atrest used before suites.
type standard struct{}

func (standard) Name() string                   { return "standard" }
func (standard) Sum(data []byte) [32]byte       { return sha256.Sum256(data) }
func (standard) NewHash() hash.Hash             { return sha256.New() }
func (standard) NewSigningKey() ([]byte, error) { return newEd25519Key() }
func (standard) Scheme() string                 { return "age" }
func (standard) Ext() string                    { return "age" }
func (standard) HashName() string               { return "sha256" }
func (standard) SignatureName() string          { return "ed25519" }
func (standard) ChunkAuthenticated() bool       { return true }

// age's payload: a 16-byte nonce, then the plaintext in 64 KiB chunks each
// with a 16-byte tag (at least one chunk, even for no plaintext).
const (
	ageNonce = 16
	ageChunk = 64 << 10
	ageTag   = 16
)

// Layout counts the header's recipient stanzas; the header must be in the
// canonical form age writes.
func (standard) Layout(head []byte, n int64) (int, int64, error) {
	hdr, err := age.ExtractHeader(bytes.NewReader(head))
	if err != nil {
		return 0, 0, fmt.Errorf("age header: %w", err)
	}
	if !bytes.HasPrefix(head, hdr) {
		return 0, 0, errors.New("age header is not in canonical form")
	}
	stanzas := 0
	for line := range strings.SplitSeq(string(hdr), "\n") {
		if strings.HasPrefix(line, "-> ") {
			stanzas++
		}
	}
	chunks := max(1, (n+ageChunk-1)/ageChunk)
	return stanzas, int64(len(hdr)) + ageNonce + n + chunks*ageTag, nil
}

func (s standard) Encrypt(dst io.Writer, to []Recipient) (io.WriteCloser, error) {
	if len(to) == 0 {
		return nil, errors.New("age: no recipients: a backup is never stored unencrypted")
	}
	rs := make([]age.Recipient, len(to))
	for i, r := range to {
		ar, ok := r.(ageRecipient)
		if !ok {
			return nil, mismatch(s, i, r)
		}
		rs[i] = ar.r
	}
	w, err := age.Encrypt(dst, rs...)
	if err != nil {
		return nil, fmt.Errorf("age: %w", err)
	}
	return w, nil
}

func (s standard) Decrypt(src io.Reader, ids []Identity) (io.Reader, error) {
	var as []age.Identity
	for _, id := range ids {
		if a, ok := id.(ageIdentity); ok {
			as = append(as, a.Identity)
		}
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("age: %w: no age identity given", ErrNoIdentity)
	}
	t := &tracked{r: src}
	r, err := age.Decrypt(t, as...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("age: %w: %w", ErrNoIdentity, err)
		}
		return nil, t.classify(fmt.Errorf("age header: %w", err))
	}
	return classifyingReader{r, t}, nil
}

// classifyingReader marks age's payload errors as integrity failures,
// unless the source failed.
type classifyingReader struct {
	r io.Reader
	t *tracked
}

func (c classifyingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = c.t.classify(fmt.Errorf("age: %w", err))
	}
	return n, err
}

// mismatch is the error for the i-th recipient of another suite.
func mismatch(s Suite, i int, r Recipient) error {
	return fmt.Errorf("recipient %d is a key of suite %s, not %s", i+1, r.Suite().Name(), s.Name())
}

// ageRecipient is an age X25519 recipient (age1…).
type ageRecipient struct{ r *age.X25519Recipient }

func (ageRecipient) Suite() Suite     { return Standard }
func (a ageRecipient) String() string { return a.r.String() }

// ageIdentity is an age identity.
type ageIdentity struct{ age.Identity }

func (ageIdentity) Suite() Suite { return Standard }
