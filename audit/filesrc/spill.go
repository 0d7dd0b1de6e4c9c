package filesrc

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"io"
	"os"
)

// spillMem is how much of a member that needs random access (a zip inside a
// zip) is held in memory; beyond it the member goes to a sealed temp file.
const spillMem = 32 << 20

// spilled is a member copied out so that it can be read at random.
type spilled interface {
	io.ReaderAt
	Size() int64
	Close() error
}

type memSpill struct{ *bytes.Reader }

func (memSpill) Close() error { return nil }

// spill copies r for random access, in memory up to spillMem, else to a
// sealedFile. r is normally behind a limitReader, so a bomb stops the copy.
func spill(r io.Reader) (spilled, error) {
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, spillMem+1); err == io.EOF {
		return memSpill{bytes.NewReader(buf.Bytes())}, nil
	} else if err != nil {
		return nil, err
	}
	sf, err := newSealedFile()
	if err != nil {
		return nil, err
	}
	if _, err := sf.Write(buf.Bytes()); err != nil {
		sf.Close()
		return nil, err
	}
	if _, err := io.Copy(sf, r); err != nil {
		sf.Close()
		return nil, err
	}
	return sf, nil
}

// sealedFile is a temp file encrypted with AES-256-CTR under a key that lives
// only in memory. Members spilled to disk are decompressed plaintext — the very
// data atrest audits — so they must not land on disk readable, nor outlive the
// process: the file is unlinked as soon as it is created where the OS allows.
type sealedFile struct {
	f     *os.File
	name  string // set when the file could not be unlinked while open
	block cipher.Block
	nonce [8]byte
	w     cipher.Stream // keystream for the sequential writes
	buf   []byte
	size  int64
}

func newSealedFile() (*sealedFile, error) {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "atrest-spill-*")
	if err != nil {
		return nil, err
	}
	s := &sealedFile{f: f, block: block, buf: make([]byte, 64<<10)}
	rand.Read(s.nonce[:])
	s.w = cipher.NewCTR(block, s.iv(0))
	if os.Remove(f.Name()) != nil {
		s.name = f.Name()
	}
	return s, nil
}

// iv is the CTR counter block for the 16-byte block at index blk.
func (s *sealedFile) iv(blk uint64) []byte {
	iv := make([]byte, aes.BlockSize)
	copy(iv, s.nonce[:])
	binary.BigEndian.PutUint64(iv[8:], blk)
	return iv
}

func (s *sealedFile) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		c := p[:min(len(p), len(s.buf))]
		s.w.XORKeyStream(s.buf[:len(c)], c)
		n, err := s.f.Write(s.buf[:len(c)])
		s.size += int64(n)
		done += n
		if err != nil {
			return done, err
		}
		p = p[len(c):]
	}
	return done, nil
}

func (s *sealedFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, io.EOF
	}
	short := false
	if rem := s.size - off; int64(len(p)) > rem {
		p, short = p[:rem], true
	}
	n, err := s.f.ReadAt(p, off)
	ks := cipher.NewCTR(s.block, s.iv(uint64(off/aes.BlockSize)))
	if skip := off % aes.BlockSize; skip > 0 {
		var junk [aes.BlockSize]byte
		ks.XORKeyStream(junk[:skip], junk[:skip])
	}
	ks.XORKeyStream(p[:n], p[:n])
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

func (s *sealedFile) Size() int64 { return s.size }

func (s *sealedFile) Close() error {
	err := s.f.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
	return err
}
