// Package crypto holds atrest's own small cryptographic pieces: the keyed
// fingerprint and the mask that are the only forms of an identifier atrest may
// print (SPEC §2), secrets that never print themselves, and key files.
//
// It must never offer an unkeyed hash of an identifier: the ID-number space is
// small enough to brute-force.
package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// Mask keeps at most the first 3 and the last 4 characters of a normalised
// identifier and replaces the rest with '*'. Short values keep less, so that at
// least four characters and a third of every value stay hidden.
func Mask(v string) string {
	r := []rune(v)
	n := len(r)
	head, tail := 3, 4
	for n-(head+tail) < max(4, (n+2)/3) && head+tail > 0 {
		if tail >= head && tail > 0 {
			tail--
		} else {
			head--
		}
	}
	out := make([]rune, n)
	for i := range r {
		if i < head || i >= n-tail {
			out[i] = r[i]
		} else {
			out[i] = '*'
		}
	}
	return string(out)
}

// Fingerprinter computes HMAC-SHA-256 of normalised identifiers under the
// installation's secret key, so the same person can be correlated across
// sources without storing the value. Safe for concurrent use.
type Fingerprinter struct {
	pool sync.Pool
}

// NewFingerprinter returns a Fingerprinter for key (at least 32 bytes).
func NewFingerprinter(key []byte) *Fingerprinter {
	k := append([]byte(nil), key...)
	f := &Fingerprinter{}
	f.pool.New = func() any { return hmac.New(sha256.New, k) }
	return f
}

// Sum returns the fingerprint of a normalised value: the HMAC in hex, in
// groups of 8 joined by '-'. The grouping is not decoration: plain 64-digit
// hex holds a run of 17 or more decimal digits about once in a hundred
// fingerprints, and such a run can itself pass an ID or card check, so a
// fingerprint could look like a raw identifier to anyone (or any tool)
// auditing atrest's output for leaks. Groups of 8 cannot.
func (f *Fingerprinter) Sum(value string) string {
	h := f.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(value))
	var buf [sha256.Size]byte
	sum := h.Sum(buf[:0])
	f.pool.Put(h)
	var out [sha256.Size*2 + sha256.Size/4 - 1]byte
	j := 0
	for i := 0; i < len(sum); i += 4 {
		if i > 0 {
			out[j] = '-'
			j++
		}
		hex.Encode(out[j:j+8], sum[i:i+4])
		j += 8
	}
	return string(out[:])
}
