package crypto

import "testing"

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
	if len(a.Sum(v)) != 64 {
		t.Fatalf("fingerprint length %d", len(a.Sum(v)))
	}
}
