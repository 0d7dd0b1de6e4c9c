package suite

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// sm is SM2, SM3 and SM4 (GB/T 32918, 32905, 32907).
type sm struct{}

func (sm) Name() string                   { return "sm" }
func (sm) Sum(data []byte) [32]byte       { return sm3.Sum(data) }
func (sm) NewHash() hash.Hash             { return sm3.New() }
func (sm) NewSigningKey() ([]byte, error) { return newSM2Key() }
func (sm) Scheme() string                 { return objectMagic }
func (sm) Ext() string                    { return "sm4" }
func (sm) HashName() string               { return "sm3" }
func (sm) SignatureName() string          { return "sm2-sm3" }
func (sm) ChunkAuthenticated() bool       { return false }

func (sm) Layout(head []byte, n int64) (int, int64, error) {
	h, err := ParseHeader(head)
	if err != nil {
		return 0, 0, fmt.Errorf("sm header: %w", err)
	}
	return len(h.Recipients), int64(h.Len) + n + int64(TagSize), nil
}

func (s sm) Encrypt(dst io.Writer, to []Recipient) (io.WriteCloser, error) {
	if len(to) == 0 {
		return nil, errors.New("sm: no recipients: a backup is never stored unencrypted")
	}
	pubs := make([]sm2Recipient, len(to))
	for i, r := range to {
		sr, ok := r.(sm2Recipient)
		if !ok {
			return nil, mismatch(s, i, r)
		}
		pubs[i] = sr
	}
	return newObjectWriter(dst, pubs)
}

func (sm) Decrypt(src io.Reader, ids []Identity) (io.Reader, error) {
	var keys []*sm2.PrivateKey
	for _, id := range ids {
		if k, ok := id.(sm2Identity); ok {
			keys = append(keys, k.key)
		}
	}
	return newObjectReader(src, keys)
}

// sm2Recipient is an SM2 public key and its key id (see KeyID).
type sm2Recipient struct {
	pub *ecdsa.PublicKey
	id  string
}

func newSM2Recipient(pub *ecdsa.PublicKey) (sm2Recipient, error) {
	id, err := sm2KeyID(pub)
	if err != nil {
		return sm2Recipient{}, err
	}
	return sm2Recipient{pub: pub, id: id}, nil
}

func (sm2Recipient) Suite() Suite     { return SM }
func (r sm2Recipient) String() string { return "sm2:" + r.id }

// sm2Identity is an SM2 private key.
type sm2Identity struct{ key *sm2.PrivateKey }

func (sm2Identity) Suite() Suite { return SM }
