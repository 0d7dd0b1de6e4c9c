package filesrc

import (
	"archive/zip"
	"encoding/xml"
	"io"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"
)

// eachElement calls fn for every start element of a small XML part; a part
// that is missing or broken yields what was read before the damage.
func (fc *fileCtx) eachElement(zf *zip.File, fn func(xml.StartElement)) {
	if zf == nil {
		return
	}
	rc, err := fc.openZip(zf)
	if err != nil {
		return
	}
	defer rc.Close()
	d := newXMLDecoder(rc)
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		if t, ok := tok.(xml.StartElement); ok {
			fn(t)
		}
	}
}

// xmlUnit scans one XML part through a line producer built on its decoder.
func (fc *fileCtx) xmlUnit(n node, zf *zip.File, lines func(*xml.Decoder) func([]byte) ([]byte, error)) result {
	rc, err := fc.openZip(zf)
	if err != nil {
		return fc.fail(err)
	}
	defer rc.Close()
	res := fc.unit(n, "utf-8", &pullReader{next: lines(newXMLDecoder(rc))})
	res.format = n.format
	return res
}

func newXMLDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		e, err := htmlindex.Get(label)
		if err != nil {
			return nil, err
		}
		return transform.NewReader(in, e.NewDecoder()), nil
	}
	return d
}

// pullReader is an io.Reader over a producer of lines, so that XML is parsed
// only as fast as the scanner reads, with no goroutine and no pipe.
type pullReader struct {
	next func(dst []byte) ([]byte, error)
	buf  []byte
	off  int
	err  error
}

func (p *pullReader) Read(b []byte) (int, error) {
	for p.off == len(p.buf) {
		if p.err != nil {
			return 0, p.err
		}
		p.buf, p.err = p.next(p.buf[:0])
		p.off = 0
	}
	n := copy(b, p.buf[p.off:])
	p.off += n
	return n, nil
}

// flatten keeps a cell on its row: line breaks and tabs inside it become spaces.
func flatten(b []byte) []byte {
	for i, c := range b {
		if c == '\n' || c == '\r' || c == '\t' {
			b[i] = ' '
		}
	}
	return b
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
