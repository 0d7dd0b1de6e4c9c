package detect

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestNotAlnum checks the eight-byte test against the class table for every
// byte value in every position, among random neighbours (a borrow from one
// byte into the next would show as a wrong flag beside it).
func TestNotAlnum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var w [8]byte
	for b := 0; b < 256; b++ {
		for pos := 0; pos < 8; pos++ {
			for try := 0; try < 64; try++ {
				for k := range w {
					w[k] = byte(r.IntN(256))
				}
				w[pos] = byte(b)
				got := notAlnum(binary.LittleEndian.Uint64(w[:]))
				for k, c := range w {
					want := class[c]&cAlnum == 0
					if flag := got>>(8*k)&0xFF == 0x80; flag != want || got>>(8*k)&0x7F != 0 {
						t.Fatalf("notAlnum(% x): byte %d (%#x) flagged %v, want %v", w, k, c, flag, want)
					}
				}
			}
		}
	}
}

// TestRunEndAgreesWithDigitsEnd walks the triggers of random digit-heavy
// text as the scan loop does and checks that the end of each digit run read
// from the kept vector mask is the one digitsEnd finds byte by byte.
func TestRunEndAgreesWithDigitsEnd(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte("0123456789012345678901234567890123456789 -a@\xef\n")
	for n := 0; n < 3000; n++ {
		buf := make([]byte, 1+r.IntN(400))
		for i := range buf {
			buf[i] = alphabet[r.IntN(len(alphabet))]
		}
		s := scanner{buf: buf}
		for i := s.nextTrigger(0); i < len(buf); i = s.nextTrigger(i + 1) {
			if buf[i]-'0' >= 10 {
				continue
			}
			if got, want := s.runEnd(i), digitsEnd(buf, i); got != want {
				t.Fatalf("case %d: the digit run at %d ends at %d by the kept mask, at %d byte by byte", n, i, got, want)
			}
		}
	}
}

// within is true only for a slice that lies wholly inside buf's length.
func TestWithin(t *testing.T) {
	big := make([]byte, 100)
	buf := big[:50]
	other := make([]byte, 200)
	for _, c := range []struct {
		v    []byte
		want bool
	}{
		{buf[0:10], true}, {buf[40:50], true}, {buf[:], true}, {buf[3:3], false},
		{big[45:55], false}, {big[50:60], false}, {other[:10], false}, {other[:], false},
	} {
		if got := within(buf, c.v); got != c.want {
			t.Errorf("within(buf, slice of %d at %p) = %v, want %v", len(c.v), c.v, got, c.want)
		}
	}
}
