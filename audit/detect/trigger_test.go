package detect

import (
	"bytes"
	"slices"
	"testing"
)

// triggerRef is the definition the skip loops implement: the first run of
// four ASCII digits, '@' or 0xEF at or after i, or len(buf).
func triggerRef(buf []byte, i int) int {
	for ; i < len(buf); i++ {
		switch c := buf[i]; {
		case c == '@' || c == 0xEF:
			return i
		case i+4 <= len(buf) && allDigits(buf[i:i+4]):
			return i
		}
	}
	return len(buf)
}

// checkSkip walks buf as the scanner does, from each result on, and checks
// every answer of next against triggerRef: never past a trigger, and exact
// but for the last bytes, where a loop may stop at any digit.
func checkSkip(t *testing.T, name string, buf []byte, next func(i int) int) {
	t.Helper()
	for i := 0; i <= len(buf); {
		got, want := next(i), triggerRef(buf, i)
		switch {
		case got == want:
		case got < want && got >= len(buf)-15 && class[buf[got]]&cTrig != 0:
			// in its last 15 bytes any digit may stop a loop (nextTriggerBytes)
		default:
			t.Fatalf("%s: from %d of %d: got %d, want %d", name, i, len(buf), got, want)
		}
		i = got + 1
	}
}

// skipLoops are the loops this build can run: the portable 16-byte loop
// always, and the scanner's nextTrigger with each round this build and CPU
// run (scannerLoops: the vector loops on amd64, trigger_amd64_test.go; the
// portable round elsewhere, trigger_other_test.go).
func skipLoops(buf []byte) map[string]func(int) int {
	loops := scannerLoops(buf)
	loops["swar"] = func(i int) int { return nextTriggerSWAR(buf, i) }
	return loops
}

// roundRef is the definition of the rounds' contract: from i on, in rounds
// 61 bytes apart that have 64 bytes, the first round start that holds a
// trigger among its first 61 bytes, with their mask; else the first round
// start with fewer than 64 bytes left, and mask 0.
func roundRef(buf []byte, i int) (at int, mask uint64) {
	for at = i; at+64 <= len(buf); at += 61 {
		for k := 0; k < 61; k++ {
			// whether at+k is a trigger depends on its four bytes only
			if triggerRef(buf[:at+k+4], at+k) == at+k {
				mask |= 1 << k
			}
		}
		if mask != 0 {
			return at, mask
		}
	}
	return at, 0
}

// checkRounds calls every round loop of this build and CPU directly (the
// portable triggerRound, and vectorRounds) from every i of buf and checks
// their round start and mask against roundRef.
func checkRounds(t *testing.T, buf []byte) {
	t.Helper()
	loops := vectorRounds()
	loops["round"] = triggerRound
	for i := 0; i <= len(buf); i++ {
		wantAt, wantMask := roundRef(buf, i)
		for name, loop := range loops {
			if at, mask := loop(buf, i); at != wantAt || mask != wantMask {
				t.Fatalf("%s from %d of %d: round %d mask %#x, want round %d mask %#x",
					name, i, len(buf), at, mask, wantAt, wantMask)
			}
		}
	}
}

func TestSkipLoops(t *testing.T) {
	log, _ := denseLog(5, 64<<10)
	inputs := [][]byte{log, []byte(toFullWidth(string(log[:4096])))}
	// runs of digits of every length at every offset of a 64-byte round
	for n := 1; n <= 9; n++ {
		for off := 0; off < 70; off++ {
			b := bytes.Repeat([]byte{'x'}, 200)
			copy(b[off:], bytes.Repeat([]byte{'7'}, n))
			inputs = append(inputs, b, b[:off+n], b[:off+n+2])
		}
	}
	g := newGen(9)
	for k := 0; k < 200; k++ {
		b := make([]byte, g.r.IntN(300))
		for i := range b {
			b[i] = "0123456789a @\xef\xbc"[g.r.IntN(15)]
		}
		inputs = append(inputs, b)
	}
	names := make([]string, 0, 3)
	for name := range skipLoops(nil) {
		names = append(names, name)
	}
	slices.Sort(names)
	t.Logf("skip loops of this build on this CPU: %v", names)
	for _, in := range inputs {
		for name, next := range skipLoops(in) {
			checkSkip(t, name, in, next)
		}
		checkRounds(t, in)
	}
}

func FuzzSkipLoops(f *testing.F) {
	f.Add([]byte("2026-01-02 12:00:01 INFO 手机 13812345678 a@b.cn"))
	f.Add(bytes.Repeat([]byte("12 345 6789 "), 20))
	f.Add([]byte(toFullWidth("13812345678") + "@@@@"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, next := range skipLoops(data) {
			checkSkip(t, name, data, next)
		}
		checkRounds(t, data)
	})
}
