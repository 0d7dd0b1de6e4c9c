package filesrc

import (
	"archive/zip"
	"encoding/xml"
	"io"
)

// loadSST reads the shared strings, which cells refer to by index.
func (fc *fileCtx) loadSST(zf *zip.File) (*sst, error) {
	s := &sst{}
	if zf == nil {
		return s, nil
	}
	rc, err := fc.openZip(zf)
	if err != nil {
		return s, err
	}
	defer rc.Close()
	d := newXMLDecoder(rc)
	var cur []byte
	inSI, inT, rph := false, false, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI, cur = true, cur[:0]
			case "t":
				inT = inSI
			case "rPh":
				rph++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				inSI = false
				if err := s.add(flatten(cur)); err != nil {
					return s, err
				}
			case "t":
				inT = false
			case "rPh":
				rph--
			}
		case xml.CharData:
			if inT && rph == 0 {
				cur = append(cur, t...)
			}
		}
	}
}

// sstMem is how much shared-string text is held in memory before the table
// moves to a sealed temp file.
const sstMem = 64 << 20

// sst is the shared-string table: the text of every string back to back,
// with end offsets.
type sst struct {
	ends []int64
	mem  []byte
	file *sealedFile
	buf  []byte
}

func (s *sst) add(b []byte) error {
	if s.file == nil && len(s.mem)+len(b) > sstMem {
		f, err := newSealedFile()
		if err != nil {
			return err
		}
		if _, err := f.Write(s.mem); err != nil {
			f.Close()
			return err
		}
		s.file, s.mem = f, nil
	}
	var start int64
	if len(s.ends) > 0 {
		start = s.ends[len(s.ends)-1]
	}
	if s.file != nil {
		if _, err := s.file.Write(b); err != nil {
			return err
		}
	} else {
		s.mem = append(s.mem, b...)
	}
	s.ends = append(s.ends, start+int64(len(b)))
	return nil
}

// get returns string i; the slice is valid until the next call.
func (s *sst) get(i int) []byte {
	if i < 0 || i >= len(s.ends) {
		return nil
	}
	var start int64
	if i > 0 {
		start = s.ends[i-1]
	}
	end := s.ends[i]
	if s.file == nil {
		return append(s.buf[:0], s.mem[start:end]...) // a copy: the caller may flatten it
	}
	s.buf = append(s.buf[:0], make([]byte, end-start)...)
	if _, err := s.file.ReadAt(s.buf, start); err != nil && err != io.EOF {
		return nil
	}
	return s.buf
}

func (s *sst) Close() error {
	if s.file != nil {
		return s.file.Close()
	}
	return nil
}
