package suite

import (
	"bytes"
	"io"
	"testing"
)

// Backup encryption and decryption throughput of each suite (MB/s in the
// output; go test prints the CPU model). SM4 here is gmsm's AES-NI/AVX2
// path; age's ChaCha20-Poly1305 has its own assembly.
//
//	go test -run XXX -bench 'Encrypt|Decrypt' ./crypto/suite/

const benchSize = 32 << 20

func BenchmarkEncrypt(b *testing.B) {
	for _, s := range suites {
		b.Run(s.Name(), func(b *testing.B) {
			r, _ := keyPair(b, s)
			plain := randBytes(benchSize)
			b.SetBytes(benchSize)
			for b.Loop() {
				w, err := s.Encrypt(io.Discard, []Recipient{r})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.Write(plain); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, s := range suites {
		b.Run(s.Name(), func(b *testing.B) {
			r, id := keyPair(b, s)
			obj := seal(b, s, randBytes(benchSize), r)
			b.SetBytes(benchSize)
			for b.Loop() {
				dr, err := s.Decrypt(bytes.NewReader(obj), []Identity{id})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, dr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The sm suite's parts, to see which one bounds it.
func BenchmarkSMParts(b *testing.B) {
	data := randBytes(benchSize)
	keys := randBytes(encKeySize + macKeySize)
	c, err := newCipherStream(keys, make([]byte, ivSize))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sm4-ctr", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			c.ctr.XORKeyStream(data, data)
		}
	})
	b.Run("hmac-sm3", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			c.mac.Write(data)
		}
	})
}
