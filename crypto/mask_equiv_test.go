package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/atrest/atrest/crypto/suite"
)

// The ASCII fast path of Mask masks exactly as the rune path does.
func TestMaskASCIISameAsRunes(t *testing.T) {
	for n := 0; n <= 80; n++ {
		v := strings.Repeat("0123456789abcdefX", 5)[:n]
		if got, want := Mask(v), maskRunes(v); got != want {
			t.Fatalf("Mask(%q) = %q, rune path %q", v, got, want)
		}
	}
	if got := Mask("１３８１２３４"); got != "１３****４" {
		t.Fatalf("non-ASCII: %q", got)
	}
}

// Sum is HMAC-SHA-256 in lower-case hex, in groups of 8 joined by '-'.
func TestSumIsGroupedHMAC(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f := NewFingerprinter(key)
	for i := range 200 {
		v := fmt.Sprint(i * 7919)
		m := hmac.New(sha256.New, key)
		m.Write([]byte(v))
		h := hex.EncodeToString(m.Sum(nil))
		var groups []string
		for j := 0; j < len(h); j += 8 {
			groups = append(groups, h[j:j+8])
		}
		if got, want := f.Sum(v), strings.Join(groups, "-"); got != want {
			t.Fatalf("Sum(%q) = %q, want %q", v, got, want)
		}
	}
}

// MaskAndSum is Mask and Sum, ASCII or not, and its two strings stay intact
// while more are made; a Hasher's are the same.
func TestMaskAndSum(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		f := NewFingerprinterWith([]byte("0123456789abcdef0123456789abcdef"), s)
		h := f.Hasher()
		type pair struct{ v, masked, fp string }
		var got []pair
		add := func(v string) {
			m, fp := f.MaskAndSum(v)
			got = append(got, pair{v, m, fp})
			m, fp = h.MaskAndSum(v)
			got = append(got, pair{v, m, fp})
		}
		for n := 0; n <= 40; n++ {
			add(strings.Repeat("0123456789abcdefX", 3)[:n])
		}
		add("１３８１２３４")
		for _, p := range got {
			if p.masked != Mask(p.v) || p.fp != f.Sum(p.v) {
				t.Fatalf("%s: MaskAndSum(%q) = %q, %q; want %q, %q", s.Name(), p.v, p.masked, p.fp, Mask(p.v), f.Sum(p.v))
			}
		}
	}
}
