package filesrc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/richardlehane/mscfb"
	"golang.org/x/text/encoding/charmap"

	"github.com/atrest/atrest/audit"
)

// Word 97–2003 (.doc, and WPS Writer's .wps) keeps its text in the
// WordDocument stream as pieces listed in the piece table (the Clx, in the
// 0Table or 1Table stream) that the File Information Block points to
// ([MS-DOC] 2.5.1, 2.9.38). A piece is UTF-16LE, or 8-bit ("compressed")
// cp1252 text.
const (
	fibFlags        = 0x0A
	fibEncrypted    = 0x0100
	fibWhichTable   = 0x0200
	fibObfuscated   = 0x8000
	fibClxPair      = 33 // fcClx/lcbClx in FibRgFcLcb97
	maxPieces       = 1 << 20
	pieceCompressed = 0x40000000
)

var errDOC = errors.New("malformed Word document")

// word97 reads the text of a Word 97 document: one line per paragraph, table
// cells joined by tabs, field codes left out (only what a field displays).
func (fc *fileCtx) word97(n node, streams map[string]*mscfb.File) result {
	wd := streams["WordDocument"]
	fib := make([]byte, min(wd.Size, 1024))
	if _, err := io.ReadFull(io.NewSectionReader(wd, 0, wd.Size), fib); err != nil || len(fib) < 0x22 ||
		binary.LittleEndian.Uint16(fib) != 0xA5EC {
		return result{state: audit.StateError, format: "doc", notRead: notReadError, reason: "doc: no Word 97 file information block"}
	}
	flags := binary.LittleEndian.Uint16(fib[fibFlags:])
	switch {
	case flags&fibObfuscated != 0 && flags&fibEncrypted != 0:
		return result{state: audit.StateEncrypted, format: "doc", reason: "doc obfuscated with a password (XOR)"}
	case flags&fibEncrypted != 0:
		return result{state: audit.StateEncrypted, format: "doc", reason: "doc encrypted with a password"}
	}
	if nFib := binary.LittleEndian.Uint16(fib[2:]); nFib < 0x00C1 {
		return result{state: audit.StateSkipped, format: "doc", notRead: "doc (word 6/95)",
			reason: fmt.Sprintf("Word 6/95 document (nFib 0x%04x) not parsed", nFib)}
	}
	table := streams["0Table"]
	if flags&fibWhichTable != 0 {
		table = streams["1Table"]
	}
	if table == nil {
		return result{state: audit.StateError, format: "doc", notRead: notReadError, reason: "doc: table stream missing"}
	}
	pieces, err := docPieces(fib, table)
	if err != nil {
		return result{state: audit.StateError, format: "doc", notRead: notReadError, reason: "doc: " + err.Error()}
	}
	dr := &docText{wd: wd, pieces: pieces}
	res := fc.unit(node{member: n.member, format: "doc", depth: n.depth}, "utf-16le", &pullReader{next: dr.next})
	res.format = "doc"
	return res
}

type piece struct {
	off        int64 // in the WordDocument stream
	chars      int64
	compressed bool
}

// docPieces reads the piece table that the FIB points to.
func docPieces(fib []byte, table *mscfb.File) ([]piece, error) {
	le := binary.LittleEndian
	pos := 32
	if len(fib) < pos+2 {
		return nil, errDOC
	}
	pos += 2 + 2*int(le.Uint16(fib[pos:])) // csw, fibRgW
	if len(fib) < pos+2 {
		return nil, errDOC
	}
	pos += 2 + 4*int(le.Uint16(fib[pos:])) // cslw, fibRgLw
	if len(fib) < pos+2 {
		return nil, errDOC
	}
	pairs := int(le.Uint16(fib[pos:]))
	at := pos + 2 + 8*fibClxPair
	if pairs <= fibClxPair || len(fib) < at+8 {
		return nil, fmt.Errorf("%w: no piece table in the FIB", errDOC)
	}
	fcClx, lcbClx := int64(le.Uint32(fib[at:])), int64(le.Uint32(fib[at+4:]))
	if lcbClx <= 0 || fcClx+lcbClx > table.Size || lcbClx > 12*maxPieces+64<<10 {
		return nil, fmt.Errorf("%w: piece table outside the table stream", errDOC)
	}
	clx := make([]byte, lcbClx)
	if _, err := io.ReadFull(io.NewSectionReader(table, fcClx, lcbClx), clx); err != nil {
		return nil, fmt.Errorf("read piece table: %w", err)
	}
	for len(clx) > 0 && clx[0] == 0x01 { // Prc: property modifiers, not text
		if len(clx) < 3 {
			return nil, errDOC
		}
		skip := 3 + int(le.Uint16(clx[1:]))
		if skip > len(clx) {
			return nil, errDOC
		}
		clx = clx[skip:]
	}
	if len(clx) < 5 || clx[0] != 0x02 {
		return nil, fmt.Errorf("%w: no Pcdt in the piece table", errDOC)
	}
	plc := clx[5:]
	if lcb := int(le.Uint32(clx[1:])); lcb < len(plc) {
		plc = plc[:lcb]
	}
	count := (len(plc) - 4) / 12
	if count <= 0 || count > maxPieces {
		return nil, fmt.Errorf("%w: %d pieces", errDOC, count)
	}
	pieces := make([]piece, 0, count)
	for i := 0; i < count; i++ {
		start, end := int64(le.Uint32(plc[4*i:])), int64(le.Uint32(plc[4*i+4:]))
		fc := le.Uint32(plc[4*(count+1)+8*i+2:])
		if end <= start {
			continue
		}
		p := piece{off: int64(fc), chars: end - start}
		if fc&pieceCompressed != 0 {
			p.off, p.compressed = int64(fc&^pieceCompressed)/2, true
		}
		pieces = append(pieces, p)
	}
	return pieces, nil
}

// docText turns the pieces into UTF-8 text as Word displays it.
type docText struct {
	wd     *mscfb.File
	pieces []piece
	cur    int   // piece being read
	done   int64 // characters of it read
	buf    []byte
	// fields: for each open field, whether its result (after the
	// separator) has begun; text is shown only when every open field's has.
	fields []bool
	hidden int // open fields still in their instructions
	prev   rune
}

const docChunk = 16 << 10 // characters read per call

func (d *docText) next(dst []byte) ([]byte, error) {
	for d.cur < len(d.pieces) {
		p := d.pieces[d.cur]
		if d.done >= p.chars {
			d.cur, d.done = d.cur+1, 0
			continue
		}
		n := min(p.chars-d.done, docChunk)
		width := int64(2)
		if p.compressed {
			width = 1
		}
		if cap(d.buf) < int(n*width) {
			d.buf = make([]byte, n*width)
		}
		b := d.buf[:n*width]
		got, err := d.wd.ReadAt(b, p.off+d.done*width)
		if got < len(b) {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("%w: piece beyond the end of the WordDocument stream", errDOC)
			}
			return dst, err
		}
		d.done += n
		if p.compressed {
			for _, c := range b {
				dst = d.char(dst, cp1252[c])
			}
		} else {
			for i := 0; i+1 < len(b); i += 2 {
				u := rune(binary.LittleEndian.Uint16(b[i:]))
				if u >= 0xD800 && u < 0xDC00 && i+3 < len(b) { // a surrogate pair inside one chunk
					if lo := rune(binary.LittleEndian.Uint16(b[i+2:])); lo >= 0xDC00 && lo < 0xE000 {
						u = 0x10000 + (u-0xD800)<<10 + (lo - 0xDC00)
						i += 2
					}
				}
				dst = d.char(dst, u)
			}
		}
		return dst, nil
	}
	return dst, io.EOF
}

// char appends one character as displayed: paragraph and page marks end a
// line, cell marks become tabs (two in a row close a table row), field
// instructions are dropped.
func (d *docText) char(dst []byte, r rune) []byte {
	prev := d.prev
	d.prev = r
	switch r {
	case 0x13: // field begin
		if len(d.fields) < 64 {
			d.fields = append(d.fields, false)
			d.hidden++
		}
		return dst
	case 0x14: // field separator: the result follows
		if k := len(d.fields); k > 0 && !d.fields[k-1] {
			d.fields[k-1] = true
			d.hidden--
		}
		return dst
	case 0x15: // field end
		if k := len(d.fields); k > 0 {
			if !d.fields[k-1] {
				d.hidden--
			}
			d.fields = d.fields[:k-1]
		}
		return dst
	}
	if d.hidden > 0 {
		return dst
	}
	switch {
	case r == '\r' || r == 0x0C || r == 0x0E:
		return append(dst, '\n')
	case r == 0x07:
		if prev == 0x07 {
			return append(dst, '\n')
		}
		return append(dst, '\t')
	case r == 0x0B || r == 0xA0:
		return append(dst, ' ')
	case r == 0x1E:
		return append(dst, '-')
	case r < 0x20 || r == 0x1F || r == 0xFFFD:
		return dst // pictures, footnote marks, optional hyphens
	}
	return utf8.AppendRune(dst, r)
}

// cp1252 maps the bytes of compressed pieces to runes.
var cp1252 = func() (t [256]rune) {
	dec := charmap.Windows1252
	for i := range t {
		t[i] = dec.DecodeByte(byte(i))
	}
	return
}()
