package filesrc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"

	"github.com/atrest/atrest/audit"
)

// BIFF8 ([MS-XLS]) is the workbook stream of an Excel 97–2003 .xls, and of
// WPS Spreadsheets' .et. It is a sequence of records: a global substream
// (the shared-string table, sheet names, FILEPASS when encrypted), then one
// substream per sheet whose cell records come row by row.
const (
	recBOF         = 0x0809
	recEOF         = 0x000A
	recFilePass    = 0x002F
	recCodePage    = 0x0042
	recBoundSheet  = 0x0085
	recSST         = 0x00FC
	recContinue    = 0x003C
	recLabelSST    = 0x00FD
	recLabel       = 0x0204
	recRString     = 0x00D6
	recNumber      = 0x0203
	recRK          = 0x027E
	recMulRK       = 0x00BD
	recFormula     = 0x0006
	recString      = 0x0207
	bofWorksheet   = 0x0010
	bofGlobals     = 0x0005
	biffMaxRecord  = 8224 // the largest record BIFF8 writes; longer ones are damage
	biffMaxStrings = 1 << 24
)

var errBIFF = errors.New("malformed BIFF record stream")

// biffRecords reads records one at a time; the data slice is valid until the
// next call.
type biffRecords struct {
	r      *bufio.Reader
	pos    int64 // stream offset of the current record's header
	next   int64 // stream offset of the next header
	typ    uint16
	data   []byte
	pushed bool // the current record is to be returned again
}

func newBIFFRecords(r io.Reader) *biffRecords {
	return &biffRecords{r: bufio.NewReaderSize(r, 64<<10), data: make([]byte, 0, biffMaxRecord)}
}

// read advances to the next record; io.EOF at the end of the stream.
func (b *biffRecords) read() error {
	if b.pushed {
		b.pushed = false
		return nil
	}
	var h [4]byte
	if _, err := io.ReadFull(b.r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return errBIFF
		}
		return err
	}
	b.pos = b.next
	b.typ = binary.LittleEndian.Uint16(h[:])
	n := int(binary.LittleEndian.Uint16(h[2:]))
	if n > biffMaxRecord {
		return fmt.Errorf("%w: record 0x%04x of %d bytes", errBIFF, b.typ, n)
	}
	b.data = b.data[:n]
	if _, err := io.ReadFull(b.r, b.data); err != nil {
		return errBIFF
	}
	b.next += 4 + int64(n)
	return nil
}

func (b *biffRecords) unread() { b.pushed = true }

// biffBook is what the global substream says.
type biffBook struct {
	sheets    map[int64]string // BOF offset → sheet name
	sst       *sst
	encrypted bool
	codepage  encoding.Encoding // BIFF5 and earlier: the 8-bit strings' code page
}

// biff reads an .xls workbook stream: every worksheet is one unit, one line
// per row (line N is row N), cells at their column positions joined by tabs.
func (fc *fileCtx) biff(n node, stream io.Reader) result {
	recs := newBIFFRecords(stream)
	book, err := readBIFFGlobals(recs)
	defer book.sst.Close()
	m := fc.members("xls")
	switch {
	case book.encrypted:
		return result{state: audit.StateEncrypted, format: "xls", reason: "xls encrypted with a password (FILEPASS)"}
	case err != nil:
		return m.result(err)
	}
	count := 0
	for fc.w.ctx.Err() == nil {
		if err := recs.read(); err == io.EOF {
			break
		} else if err != nil {
			return m.result(err)
		}
		if recs.typ != recBOF || len(recs.data) < 4 {
			continue
		}
		count++
		kind := binary.LittleEndian.Uint16(recs.data[2:])
		name, ok := book.sheets[recs.pos]
		if !ok {
			name = fmt.Sprintf("Sheet%d", count)
		}
		if kind != bofWorksheet {
			if err := skipSubstream(recs); err != nil {
				return m.result(err)
			}
			continue
		}
		name = joinMember(n.member, name)
		sr := &biffSheet{recs: recs, book: book, cur: -1, col: -1}
		res := fc.unit(node{member: name, format: "xls", depth: n.depth + 1}, "utf-16le", &pullReader{next: sr.next})
		res.format = "xls"
		if !m.add(name, 0, res) {
			break
		}
		if sr.err != nil && sr.err != io.EOF {
			return m.result(sr.err)
		}
	}
	return m.result(nil)
}

// readBIFFGlobals reads the global substream up to its EOF record.
func readBIFFGlobals(recs *biffRecords) (*biffBook, error) {
	book := &biffBook{sheets: map[int64]string{}, sst: &sst{}}
	if err := recs.read(); err != nil || recs.typ != recBOF || len(recs.data) < 4 {
		return book, fmt.Errorf("%w: no BOF record", errBIFF)
	}
	if v := binary.LittleEndian.Uint16(recs.data); v != 0x0600 {
		book.codepage = codepageEncoding(1252)
	}
	for {
		if err := recs.read(); err == io.EOF {
			return book, nil // no EOF record: what was read stands
		} else if err != nil {
			return book, err
		}
		d := recs.data
		switch recs.typ {
		case recEOF:
			return book, nil
		case recFilePass:
			book.encrypted = true
			return book, nil
		case recCodePage:
			if len(d) >= 2 && book.codepage != nil {
				if e := codepageEncoding(int(binary.LittleEndian.Uint16(d))); e != nil {
					book.codepage = e
				}
			}
		case recBoundSheet:
			if len(d) >= 8 {
				name, _ := book.shortString(d[6:])
				book.sheets[int64(binary.LittleEndian.Uint32(d))] = name
			}
		case recSST:
			if err := readSST(recs, book.sst); err != nil {
				return book, err
			}
		}
	}
}

// skipSubstream reads up to the EOF record of a chart or macro sheet.
func skipSubstream(recs *biffRecords) error {
	for depth := 1; depth > 0; {
		if err := recs.read(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		switch recs.typ {
		case recBOF:
			depth++
		case recEOF:
			depth--
		}
	}
	return nil
}

// contReader reads a record's data and then that of the CONTINUE records
// after it, as the SST and long strings span them.
type contReader struct {
	recs *biffRecords
	d    []byte
}

// more moves to the next CONTINUE record; false if there is none.
func (c *contReader) more() bool {
	if err := c.recs.read(); err != nil {
		return false
	}
	if c.recs.typ != recContinue {
		c.recs.unread()
		return false
	}
	c.d = c.recs.data
	return true
}

func (c *contReader) bytes(n int) ([]byte, bool) {
	for len(c.d) == 0 {
		if !c.more() {
			return nil, false
		}
	}
	if len(c.d) < n {
		return nil, false // fixed fields never straddle a record in files Excel writes
	}
	b := c.d[:n]
	c.d = c.d[n:]
	return b, true
}

// skip drops n bytes, across record boundaries.
func (c *contReader) skip(n int) bool {
	for n > 0 {
		for len(c.d) == 0 {
			if !c.more() {
				return false
			}
		}
		k := min(n, len(c.d))
		c.d, n = c.d[k:], n-k
	}
	return true
}

// chars reads cch characters that may continue in the next record, where
// a new option byte says whether they are 8- or 16-bit ([MS-XLS] 2.5.293).
func (c *contReader) chars(dst []uint16, cch int, high bool) ([]uint16, bool) {
	for cch > 0 {
		if len(c.d) == 0 {
			if !c.more() || len(c.d) == 0 {
				return dst, false
			}
			high, c.d = c.d[0]&1 != 0, c.d[1:]
			continue
		}
		if high {
			k := min(cch, len(c.d)/2)
			if k == 0 {
				return dst, false
			}
			for i := 0; i < k; i++ {
				dst = append(dst, binary.LittleEndian.Uint16(c.d[2*i:]))
			}
			c.d, cch = c.d[2*k:], cch-k
		} else {
			k := min(cch, len(c.d))
			for _, b := range c.d[:k] {
				dst = append(dst, uint16(b)) // "compressed": the low bytes of UTF-16
			}
			c.d, cch = c.d[k:], cch-k
		}
	}
	return dst, true
}

// readSST reads the shared-string table from the SST record and its
// CONTINUE records into t.
func readSST(recs *biffRecords, t *sst) error {
	c := &contReader{recs: recs, d: recs.data}
	hdr, ok := c.bytes(8)
	if !ok {
		return fmt.Errorf("%w: short SST", errBIFF)
	}
	unique := int(binary.LittleEndian.Uint32(hdr[4:]))
	var u []uint16
	var out []byte
	for i := 0; i < unique && i < biffMaxStrings; i++ {
		h, ok := c.bytes(3)
		if !ok {
			return nil // a short table: the strings read stand
		}
		cch, flags := int(binary.LittleEndian.Uint16(h)), h[2]
		runs, ext := 0, 0
		if flags&0x08 != 0 {
			b, ok := c.bytes(2)
			if !ok {
				return nil
			}
			runs = int(binary.LittleEndian.Uint16(b))
		}
		if flags&0x04 != 0 {
			b, ok := c.bytes(4)
			if !ok {
				return nil
			}
			ext = int(binary.LittleEndian.Uint32(b))
		}
		u, ok = c.chars(u[:0], cch, flags&1 != 0)
		out = flatten(appendUTF16(out[:0], u))
		if err := t.add(out); err != nil {
			return err
		}
		if !ok || !c.skip(4*runs+ext) {
			return nil
		}
	}
	return nil
}

// appendUTF16 appends UTF-16 code units as UTF-8.
func appendUTF16(dst []byte, u []uint16) []byte {
	for _, r := range utf16.Decode(u) {
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// shortString reads a ShortXLUnicodeString (1-byte length) or, in BIFF5, a
// byte string in the workbook's code page.
func (book *biffBook) shortString(d []byte) (string, int) {
	if len(d) < 1 {
		return "", 0
	}
	cch := int(d[0])
	if book.codepage != nil {
		end := min(len(d), 1+cch)
		s, _ := book.codepage.NewDecoder().Bytes(d[1:end])
		return string(s), end
	}
	if len(d) < 2 {
		return "", len(d)
	}
	return xlString(d[2:], cch, d[1]&1 != 0)
}

// xlString decodes cch characters, 16-bit when high, from d.
func xlString(d []byte, cch int, high bool) (string, int) {
	width := 1
	if high {
		width = 2
	}
	cch = min(cch, len(d)/width)
	u := make([]uint16, cch)
	for i := range u {
		if high {
			u[i] = binary.LittleEndian.Uint16(d[2*i:])
		} else {
			u[i] = uint16(d[i])
		}
	}
	return string(utf16.Decode(u)), cch * width
}

// biffSheet turns a worksheet substream into lines.
type biffSheet struct {
	recs *biffRecords
	book *biffBook
	row  int // rows written (the next line is row+1, 1-based)
	cur  int // 0-based row of the cells in line, -1 before the first
	col  int // 0-based column of the last cell in line, -1 if none
	tabs int // tabs written on line
	line []byte
	done bool
	err  error
	// a FORMULA with a string result: its text is in the STRING record after it
	pendingStr bool
	pendRow    int
	pendCol    int
}

func (s *biffSheet) next(dst []byte) ([]byte, error) {
	if s.done {
		return dst, io.EOF
	}
	for {
		if err := s.recs.read(); err != nil {
			s.err, s.done = err, true
			if err == io.EOF {
				err = nil
			}
			return s.flush(dst), errOr(err, io.EOF)
		}
		d := s.recs.data
		typ := s.recs.typ
		if s.pendingStr && typ != recString && typ != recContinue {
			s.pendingStr = false
		}
		var out []byte
		row, col := -1, -1
		switch typ {
		case recEOF:
			s.done = true
			return s.flush(dst), io.EOF
		case recBOF: // an embedded chart: skip it whole
			if err := skipSubstream(s.recs); err != nil {
				s.err, s.done = err, true
				return s.flush(dst), err
			}
			continue
		case recLabelSST:
			if len(d) >= 10 {
				row, col = cellPos(d)
				out = s.book.sst.get(int(binary.LittleEndian.Uint32(d[6:])))
			}
		case recLabel, recRString:
			if len(d) >= 8 {
				row, col = cellPos(d)
				cch := int(binary.LittleEndian.Uint16(d[6:]))
				var str string
				if s.book.codepage != nil {
					b, _ := s.book.codepage.NewDecoder().Bytes(d[8:min(len(d), 8+cch)])
					str = string(b)
				} else if len(d) >= 9 {
					str, _ = xlString(d[9:], cch, d[8]&1 != 0)
				}
				out = []byte(str)
			}
		case recNumber:
			if len(d) >= 14 {
				row, col = cellPos(d)
				out = formatXLNumber(math.Float64frombits(binary.LittleEndian.Uint64(d[6:])))
			}
		case recRK:
			if len(d) >= 10 {
				row, col = cellPos(d)
				out = formatXLNumber(rkValue(binary.LittleEndian.Uint32(d[6:])))
			}
		case recMulRK:
			// row, first column, (ixfe, RK) pairs, last column: each its own cell
			if len(d) >= 6 {
				r := int(binary.LittleEndian.Uint16(d))
				c := int(binary.LittleEndian.Uint16(d[2:]))
				for p := 4; p+6 <= len(d)-2; p += 6 {
					dst = s.cell(dst, r, c, formatXLNumber(rkValue(binary.LittleEndian.Uint32(d[p+2:]))))
					c++
				}
			}
			if len(dst) > 0 {
				return dst, nil
			}
			continue
		case recFormula:
			if len(d) >= 14 {
				row, col = cellPos(d)
				res := d[6:14]
				if binary.LittleEndian.Uint16(res[6:]) != 0xFFFF {
					out = formatXLNumber(math.Float64frombits(binary.LittleEndian.Uint64(res)))
				} else if res[0] == 0 { // a string result follows in a STRING record
					s.pendingStr, s.pendRow, s.pendCol = true, row, col
					row = -1
				}
			}
		case recString:
			if s.pendingStr && len(d) >= 3 {
				s.pendingStr = false
				c := &contReader{recs: s.recs, d: d[3:]}
				u, _ := c.chars(nil, int(binary.LittleEndian.Uint16(d)), d[2]&1 != 0)
				row, col, out = s.pendRow, s.pendCol, appendUTF16(nil, u)
			}
		}
		if row < 0 || len(out) == 0 {
			continue
		}
		dst = s.cell(dst, row, col, out)
		if len(dst) > 0 {
			return dst, nil
		}
	}
}

// cell adds one cell's text at its column (col tabs before it); a cell of
// another row first appends the current row to dst as a line.
func (s *biffSheet) cell(dst []byte, row, col int, text []byte) []byte {
	if row >= maxSheetRows || col >= maxSheetCols || len(text) == 0 {
		return dst
	}
	if s.cur >= 0 && row != s.cur {
		dst = s.flush(dst)
	}
	if s.cur < 0 {
		s.cur, s.col, s.tabs = row, -1, 0
	}
	if col > s.col {
		for s.tabs < col {
			s.line = append(s.line, '\t')
			s.tabs++
		}
	} else if len(s.line) > 0 { // out of order: keep it apart
		s.line = append(s.line, '\t')
		s.tabs++
	}
	s.col = max(s.col, col)
	s.line = append(s.line, flatten(text)...)
	return dst
}

// flush appends the current row (and the empty rows before it) to dst.
func (s *biffSheet) flush(dst []byte) []byte {
	if s.cur < 0 {
		return dst
	}
	for s.row < s.cur {
		dst = append(dst, '\n')
		s.row++
	}
	dst = append(append(dst, s.line...), '\n')
	s.row++
	s.line, s.cur, s.col = s.line[:0], -1, -1
	return dst
}

func cellPos(d []byte) (row, col int) {
	return int(binary.LittleEndian.Uint16(d)), int(binary.LittleEndian.Uint16(d[2:]))
}

// rkValue decodes an RK number ([MS-XLS] 2.5.217): a 30-bit integer or the
// high bits of a double, optionally divided by 100.
func rkValue(rk uint32) float64 {
	var v float64
	if rk&2 != 0 {
		v = float64(int32(rk) >> 2)
	} else {
		v = math.Float64frombits(uint64(rk&0xFFFFFFFC) << 32)
	}
	if rk&1 != 0 {
		v /= 100
	}
	return v
}

// formatXLNumber writes a cell number as Excel shows it with the General
// format, without the exponent: a mobile or card stored as a number comes
// out as its digits.
func formatXLNumber(v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e21 {
		return strconv.AppendFloat(nil, v, 'f', -1, 64)
	}
	return []byte(normNumber(strconv.FormatFloat(v, 'g', 15, 64)))
}

func errOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
