package backup

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/atrest/atrest/crypto/suite"
)

// Keys are the public halves of the keys this installation signs manifests
// with: the journal's key and each job's manifest key, of either suite. A
// job that switched suites has manifests of both under its prefix, signed
// by two of them; a manifest that none of them verifies vouches for
// nothing, whatever it says.
type Keys []crypto.PublicKey

// LoadKeys reads the signing key files at paths (config.ManifestKeyFiles)
// and keeps their public halves, each once. A file that does not exist is
// left out: a suite no job has used yet has no key, and no manifest could
// have been signed by it. Any other failure is an error, and so is finding
// no key at all.
func LoadKeys(paths []string) (Keys, error) {
	var out Keys
	seen := map[string]bool{}
	for _, p := range paths {
		k, err := suite.LoadSigningKey(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		id, err := suite.KeyID(k.Public())
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", p, err)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, k.Public())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no manifest signing key: none of %s exists", strings.Join(paths, ", "))
	}
	return out, nil
}

// IDs names the keys (suite.KeyID), for messages.
func (k Keys) IDs() []string {
	out := make([]string, 0, len(k))
	for _, pub := range k {
		id, _ := suite.KeyID(pub)
		out = append(out, id)
	}
	return out
}

// Verify checks m's signature with the key among k that made it. Errors
// wrap ErrUnsigned, ErrOtherKey or ErrBadSignature.
func (k Keys) Verify(m *Manifest) error {
	if m.Signature == nil {
		return ErrUnsigned
	}
	for _, pub := range k {
		if id, _ := suite.KeyID(pub); id == m.Signature.KeyID {
			return m.Verify(pub)
		}
	}
	return fmt.Errorf("%w: key %s, this installation's are %s", ErrOtherKey, m.Signature.KeyID, strings.Join(k.IDs(), ", "))
}

// Trust is the one answer to "does this manifest vouch for the data object
// at key, a backup of job?", which check, drill, prune and reconcile all
// ask: it is that job's, it describes that very object, and one of keys
// verifies its signature. The error says why not; it begins "manifest".
func (m *Manifest) Trust(keys Keys, job, key string) error {
	if err := m.Describes(job, key); err != nil {
		return err
	}
	return keys.Verify(m)
}

// Describes is Trust without the signature: what a check without keys can
// still hold a manifest to.
func (m *Manifest) Describes(job, key string) error {
	switch {
	case m.Object.Key != key:
		return fmt.Errorf("manifest describes object %s, not the one beside it", m.Object.Key)
	case m.Job != job:
		return fmt.Errorf("manifest is for job %q", m.Job)
	}
	return nil
}
