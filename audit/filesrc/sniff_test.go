package filesrc

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"math/rand"
	"strings"
	"testing"

	"github.com/atrest/atrest/audit"
)

func TestSniffHeaders(t *testing.T) {
	gpgSym, _ := hex.DecodeString("8c0d040903029e1218c00144314fffd240013f6b6829962db98871715cbdf886") // gpg --symmetric
	pkesk3 := append([]byte{0x84, 0x5e, 0x03}, append(bytes.Repeat([]byte{0xab}, 8), 0x12, 0x01, 0x07)...)
	pkesk6 := append([]byte{0xc1, 0x30, 0x06, 0x21, 0x06}, append(bytes.Repeat([]byte{0xcd}, 32), 0x19, 0x00)...)
	cases := []struct {
		name string
		head []byte
		kind kind
	}{
		{"gpg symmetric", gpgSym, kindEncrypted},
		{"pkesk v3 ecdh", pkesk3, kindEncrypted},
		{"pkesk v6 x25519", pkesk6, kindEncrypted},
		{"pgp tag, wrong version", []byte{0x8c, 0x0d, 0x09, 0x09, 0x03, 0x02, 0x00, 0x00}, kindBinary},
		{"text starting BZh", []byte("BZh9 is not bzip2 without the block magic\n"), kindText},
		{"text starting MZ", []byte("MZ-1 model number list\n" + strings.Repeat("x", 80)), kindText},
		{"bzip2", []byte("BZh91AY&SY\x00\x00"), kindBzip2},
		{"zstd", []byte("\x28\xb5\x2f\xfd\x00"), kindZstd},
		{"empty zip", []byte("PK\x05\x06" + strings.Repeat("\x00", 18)), kindZip},
		{"sqlite", []byte("SQLite format 3\x00...."), kindSQLite},
		{"lz4", []byte("\x04\x22\x4d\x18...."), kindSkipped},
		{"rtf", []byte("{\\rtf1\\ansi\\ansicpg936 x}"), kindRTF},
		{"pdf", []byte("%PDF-1.7\n"), kindPDF},
		{"xz", []byte("\xfd7zXZ\x00\x00\x04"), kindXz},
		{"7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04"), kind7z},
		{"rar5", []byte("Rar!\x1a\x07\x01\x00"), kindRar},
		{"mail", []byte("Received: from x\r\nFrom: a <a@b.cn>\r\nDate: Sat, 6 Dec 2026 15:30:12 +0800\r\nSubject: hi\r\n\r\nbody\r\n"), kindMail},
		{"log that looks like headers", []byte("Date: 2026-12-06\nStatus: ok\n\nrest\n"), kindText},
		{"luks", []byte("LUKS\xba\xbe\x00\x01"), kindEncrypted},
		{"cp1251 text", []byte("\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0! 13800138000\n"), kindText},
		{"nul padded log", append([]byte(strings.Repeat("2026-01-01 INFO ok 13800138000\n", 40)), make([]byte, 100)...), kindText},
	}
	for _, c := range cases {
		if got := sniff(c.head, true); got.kind != c.kind {
			t.Errorf("%s: kind %d (%+v), want %d", c.name, got.kind, got, c.kind)
		}
	}
}

// TestSniffRandomIsNeverEncrypted: a one-byte PGP tag matches 2% of random
// data; the packet checks must keep random bytes "binary".
func TestSniffRandomIsNeverEncrypted(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	b := make([]byte, 2048)
	for i := 0; i < 100000; i++ {
		rng.Read(b)
		if s := sniff(b, true); s.kind != kindBinary {
			t.Fatalf("random buffer %d sniffed as %+v (%x…)", i, s, b[:16])
		}
	}
}

func TestSniffTruncatedRune(t *testing.T) {
	// The sniff window can end inside a multi-byte character.
	head := []byte(strings.Repeat("姓名", 10))
	head = head[:len(head)-1]
	if s := sniff(head, false); s.enc != "utf-8" {
		t.Errorf("cut utf-8: %+v", s)
	}
}

func TestNormNumber(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000":           "13800138000",
		"1.3800138E10":          "13800138000",
		"1.3800138E+10":         "13800138000",
		"6.2170099845068698E18": "6217009984506869800",
		"1.10105194912310E+17":  "110105194912310000",
		"-1.5E2":                "-150",
		"2.5E-3":                "0.0025",
		"12.50":                 "12.50",
		"1E400":                 "1E400",
		"abc":                   "abc",
		"1.2.3E4":               "1.2.3E4",
		"":                      "",
	} {
		if got := normNumber(in); got != want {
			t.Errorf("normNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestColIndex(t *testing.T) {
	for in, want := range map[string]int{"A1": 1, "Z9": 26, "AA10": 27, "XFD1048576": 16384, "": 0, "12": 0} {
		if got := colIndex(in); got != want {
			t.Errorf("colIndex(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestSealedFile(t *testing.T) {
	plain := randomBytes(300_001, 3)
	copy(plain, "SECRET plaintext marker that must not reach the disk")
	s, err := newSealedFile()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for rest := plain; len(rest) > 0; {
		n := min(len(rest), 1+rand.Intn(100_000))
		if _, err := s.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	raw := make([]byte, len(plain))
	if _, err := s.f.ReadAt(raw, 0); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("SECRET plaintext")) {
		t.Fatal("spill file holds plaintext")
	}
	rng := rand.New(rand.NewSource(5))
	for i := 0; i < 200; i++ {
		off := rng.Int63n(int64(len(plain)))
		buf := make([]byte, rng.Intn(70_000))
		n, err := s.ReadAt(buf, off)
		want := plain[off:min(off+int64(len(buf)), int64(len(plain)))]
		if !bytes.Equal(buf[:n], want) || (n < len(buf) && err != io.EOF) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v: wrong bytes", len(buf), off, n, err)
		}
	}
}

// TestSpillLargeNestedZip sends a nested zip over spillMem through the sealed file.
func TestSpillLargeNestedZip(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 80 MB")
	}
	dir := t.TempDir()
	text := []byte(hex.EncodeToString(randomBytes(20<<20, 9)) + "\nSECRET\n")
	inner := buildZip(t, zipEntry{name: "big.txt", data: text, store: true})
	writeFile(t, dir, "outer.zip", buildZip(t, zipEntry{name: "inner.zip", data: inner, store: true}))
	w := walkDir(t, dir, Options{})
	if got := w.texts[key("outer.zip", "inner.zip/big.txt")]; got != string(text) {
		t.Errorf("big member: got %d bytes, want %d", len(got), len(text))
	}
	if r := w.rec(t, "outer.zip", ""); r.State != "scanned" || r.Findings != 1 {
		t.Errorf("record = %+v", r)
	}
}

func FuzzStream(f *testing.F) {
	f.Add([]byte("plain SECRET\n"))
	f.Add(buildCFB("EncryptedPackage"))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte("\x1f\x8b\x08\x00garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := &walker{ctx: context.Background(), opts: Options{}.withDefaults(),
			scan:   discardUnit,
			report: func(audit.FileRecord) {}}
		fc := &fileCtx{w: w, path: "fuzz", budget: budget{in: int64(len(data))}}
		r := fc.stream(node{format: "text"}, bytes.NewReader(data), bytes.NewReader(data), int64(len(data)))
		switch r.state {
		case audit.StateScanned, audit.StateEncrypted, audit.StateBinary, audit.StateSkipped, audit.StateError:
		default:
			t.Fatalf("state %q", r.state)
		}
	})
}
