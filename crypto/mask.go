// Package crypto holds atrest's own small cryptographic pieces: the keyed
// fingerprint and the mask that are the only forms of an identifier atrest may
// print (SPEC §2), secrets that never print themselves, and key files. The
// algorithms themselves, and the choice between the standard and the sm
// suite, live in crypto/suite.
//
// It must never offer an unkeyed hash of an identifier: the ID-number space is
// small enough to brute-force.
package crypto

import (
	"crypto/hmac"
	"hash"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/atrest/atrest/crypto/suite"
)

// Mask keeps at most the first 3 and the last 4 characters of a normalised
// identifier and replaces the rest with '*'. Short values keep less, so that at
// least four characters and a third of every value stay hidden.
func Mask(v string) string {
	if !isASCII(v) {
		return maskRunes(v)
	}
	// ASCII (every normalised identifier): a character is a byte.
	b := make([]byte, len(v))
	maskASCII(b, v)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func isASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// maskASCII writes the mask of the ASCII value v to dst[:len(v)].
func maskASCII(dst []byte, v string) {
	n := len(v)
	head, tail := maskKeep(n)
	copy(dst, v[:head])
	for i := head; i < n-tail; i++ {
		dst[i] = '*'
	}
	copy(dst[n-tail:n], v[n-tail:])
}

// maskKeep returns how many characters of a value of n characters stay in
// the clear at its head and at its tail.
func maskKeep(n int) (head, tail int) {
	head, tail = 3, 4
	for n-(head+tail) < max(4, (n+2)/3) && head+tail > 0 {
		if tail >= head && tail > 0 {
			tail--
		} else {
			head--
		}
	}
	return head, tail
}

func maskRunes(v string) string {
	r := []rune(v)
	n := len(r)
	head, tail := maskKeep(n)
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

// Fingerprinter computes an HMAC of normalised identifiers under the
// installation's secret key, so the same person can be correlated across
// sources without storing the value: HMAC-SHA-256, or HMAC-SM3 when the
// installation's suite is sm. Safe for concurrent use.
type Fingerprinter struct {
	pool sync.Pool // of *hmacState
}

// hmacState is one HMAC with room for its sum, so that Sum allocates only
// the string it returns (a sum buffer on Sum's stack escapes through the
// hash.Hash interface: one more allocation for every finding).
type hmacState struct {
	h   hash.Hash
	buf [fingerprintSize]byte
}

// fingerprintSize is the HMAC's length: SHA-256 and SM3 alike.
const fingerprintSize = 32

// NewFingerprinter returns an HMAC-SHA-256 Fingerprinter for key (at least
// 32 bytes): the standard suite's.
func NewFingerprinter(key []byte) *Fingerprinter { return NewFingerprinterWith(key, suite.Standard) }

// NewFingerprinterWith returns a Fingerprinter that uses HMAC with the
// suite's hash. Fingerprints of one suite never equal the other's: an
// installation that switches suite starts its correlations afresh.
func NewFingerprinterWith(key []byte, s suite.Suite) *Fingerprinter {
	k := append([]byte(nil), key...)
	f := &Fingerprinter{}
	f.pool.New = func() any { return &hmacState{h: hmac.New(s.NewHash, k)} }
	return f
}

// Sum returns the fingerprint of a normalised value: the HMAC in hex, in
// groups of 8 joined by '-'. The grouping is not decoration: plain 64-digit
// hex holds a run of 17 or more decimal digits about once in a hundred
// fingerprints, and such a run can itself pass an ID or card check, so a
// fingerprint could look like a raw identifier to anyone (or any tool)
// auditing atrest's output for leaks. Groups of 8 cannot.
func (f *Fingerprinter) Sum(value string) string {
	var out [fingerprintLen]byte
	st := f.pool.Get().(*hmacState)
	st.sum(&out, value)
	f.pool.Put(st)
	return string(out[:])
}

// fingerprintLen is the length of a fingerprint as Sum writes it.
const fingerprintLen = fingerprintSize*2 + fingerprintSize/4 - 1

// MaskAndSum returns Mask(value) and f.Sum(value) in one allocation (they
// share it; strings do not change): a dense scan computes both for every
// finding, and each allocation is a measurable part of its cost.
func (f *Fingerprinter) MaskAndSum(value string) (masked, fingerprint string) {
	st := f.pool.Get().(*hmacState)
	masked, fingerprint = st.maskAndSum(value)
	f.pool.Put(st)
	return masked, fingerprint
}

// Hasher returns a fingerprinter for one goroutine: the same fingerprints
// as f's, without a trip through f's pool for each (a dense log's scan
// makes millions, and the pool's Get and Put cost 2.6% of its CPU).
func (f *Fingerprinter) Hasher() *Hasher { return &Hasher{st: f.pool.New().(*hmacState)} }

// Hasher is a Fingerprinter's state for one goroutine; it is not safe for
// concurrent use.
type Hasher struct{ st *hmacState }

// MaskAndSum is Fingerprinter.MaskAndSum.
func (h *Hasher) MaskAndSum(value string) (masked, fingerprint string) {
	return h.st.maskAndSum(value)
}

func (st *hmacState) maskAndSum(value string) (masked, fingerprint string) {
	n := len(value)
	if !isASCII(value) {
		var out [fingerprintLen]byte
		st.sum(&out, value)
		return Mask(value), string(out[:])
	}
	b := make([]byte, n+fingerprintLen)
	maskASCII(b, value)
	st.sum((*[fingerprintLen]byte)(b[n:]), value)
	return unsafe.String(&b[0], n), unsafe.String(&b[n], fingerprintLen)
}

// sum writes the fingerprint of value to out.
func (st *hmacState) sum(out *[fingerprintLen]byte, value string) {
	st.h.Reset()
	// A hash's Write does not keep or modify its argument: no copy of value.
	st.h.Write(unsafe.Slice(unsafe.StringData(value), len(value)))
	sum := st.h.Sum(st.buf[:0])
	for g := 0; g < 8; g++ {
		o := out[g*9 : g*9+8]
		c := sum[g*4 : g*4+4]
		copy(o[0:2], hexPair[c[0]][:])
		copy(o[2:4], hexPair[c[1]][:])
		copy(o[4:6], hexPair[c[2]][:])
		copy(o[6:8], hexPair[c[3]][:])
		if g < 7 {
			out[g*9+8] = '-'
		}
	}
}

// hexPair is each byte in lower-case hex.
var hexPair = func() (t [256][2]byte) {
	const digits = "0123456789abcdef"
	for i := range t {
		t[i] = [2]byte{digits[i>>4], digits[i&0xF]}
	}
	return
}()
