package crypto

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/atrest/atrest/crypto/suite"
	"github.com/emmansun/gmsm/sm3"
)

func TestMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"11010519491231002X", "110***********002X"},
		{"13812345678", "138****5678"},
		{"6222021234567890123", "622************0123"},
		{"ab@c.cn", "ab****n"},
		{"abc", "***"},
		{"", ""},
	} {
		if got := Mask(c.in); got != c.want {
			t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFingerprintKeyed(t *testing.T) {
	a := NewFingerprinter([]byte("0123456789abcdef0123456789abcdef"))
	b := NewFingerprinter([]byte("fedcba9876543210fedcba9876543210"))
	v := "11010519491231002X"
	if a.Sum(v) != a.Sum(v) {
		t.Fatal("fingerprint not stable")
	}
	if a.Sum(v) == b.Sum(v) {
		t.Fatal("fingerprint does not depend on the key")
	}
	if got := a.Sum(v); len(got) != 71 || strings.Count(got, "-") != 7 {
		t.Fatalf("fingerprint %q: want 8 groups of 8 hex digits", got)
	}
}

// No fingerprint may hold a run of digits long enough to read as an
// identifier (11 or more).
func TestFingerprintHasNoLongDigitRuns(t *testing.T) {
	for _, s := range []suite.Suite{suite.Standard, suite.SM} {
		f := NewFingerprinterWith([]byte("0123456789abcdef0123456789abcdef"), s)
		for i := range 20000 {
			run := 0
			for _, c := range f.Sum(fmt.Sprint(i)) {
				if c >= '0' && c <= '9' {
					run++
					if run > 8 {
						t.Fatalf("%s: fingerprint of %d has a digit run over 8", s.Name(), i)
					}
				} else {
					run = 0
				}
			}
		}
	}
}

// With the sm suite a fingerprint is HMAC-SM3 (crypto/suite checks gmsm's
// HMAC-SM3 against openssl), in the same grouped form.
func TestFingerprintSM(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	v := "11010519491231002X"
	m := hmac.New(sm3.New, key)
	m.Write([]byte(v))
	want := hex.EncodeToString(m.Sum(nil))
	got := NewFingerprinterWith(key, suite.SM).Sum(v)
	if strings.ReplaceAll(got, "-", "") != want || len(got) != 71 {
		t.Errorf("sm fingerprint %s, want HMAC-SM3 %s in groups", got, want)
	}
	if got == NewFingerprinter(key).Sum(v) {
		t.Error("sm and standard fingerprints agree")
	}
}
