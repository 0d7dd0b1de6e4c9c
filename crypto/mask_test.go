package crypto

import (
	"fmt"
	"strings"
	"testing"
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
	f := NewFingerprinter([]byte("0123456789abcdef0123456789abcdef"))
	for i := range 20000 {
		run := 0
		for _, c := range f.Sum(fmt.Sprint(i)) {
			if c >= '0' && c <= '9' {
				run++
				if run > 8 {
					t.Fatalf("fingerprint of %d has a digit run over 8", i)
				}
			} else {
				run = 0
			}
		}
	}
}
