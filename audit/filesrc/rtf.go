package filesrc

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
)

// RTF is read as a word processor shows it: groups and control words are
// markup, so a value that an edit split over two groups ("1101051949{\b
// 1231002X}") is one value; \'xx escapes and raw 8-bit bytes are decoded
// in the code page of the font in use (\fcharset134, GB2312) or of the
// document (\ansicpg936, GBK), two escapes of one GBK character together;
// \uN is Unicode, with the \ucN fallback characters after it skipped.
// Destinations that are not displayed (font and style tables, pictures,
// field instructions, document info, \* groups) are left out.

const (
	rtfMaxDepth = 512      // groups nested deeper are read as text of the deepest
	rtfMaxWord  = 32       // letters in a control word
	rtfChunk    = 32 << 10 // text produced per call
)

// rtfSkip are the destinations whose text is not shown.
var rtfSkip = map[string]bool{
	"fonttbl": true, "colortbl": true, "stylesheet": true, "info": true, "pict": true, "object": true,
	"themedata": true, "colorschememapping": true, "datastore": true, "latentstyles": true,
	"listtable": true, "listoverridetable": true, "rsidtbl": true, "generator": true, "xmlnstbl": true,
	"fldinst": true, "filetbl": true, "revtbl": true, "pgdsctbl": true, "userprops": true, "docvar": true,
	"template": true, "pntext": true, "pntxta": true, "pntxtb": true, "bkmkstart": true, "bkmkend": true,
	"objdata": true, "shpinst": true, "nonshppict": true, "mmathPr": true, "operator": true, "author": true,
	"falt": true, "panose": true, "fname": true,
}

// rtfCharsets maps \fcharset to a Windows code page.
var rtfCharsets = map[int]int{
	134: 936, 136: 950, 128: 932, 129: 949, 130: 1361, 161: 1253, 162: 1254, 163: 1258, 177: 1255,
	178: 1256, 186: 1257, 204: 1251, 222: 874, 238: 1250, 0: 1252,
}

type rtfGroup struct {
	skip bool
	uc   int // fallback characters after \uN
	font int
}

type rtfText struct {
	r        *bufio.Reader
	stack    []rtfGroup
	g        rtfGroup
	depth    int // groups deeper than rtfMaxDepth, read as part of the deepest
	docCP    encoding.Encoding
	fonts    map[int]int // font number → code page
	inFonts  int         // depth of the font table, 0 outside it
	curFont  int         // font being defined in the table
	pending  []byte      // 8-bit bytes not yet decoded
	pend16   []uint16    // \uN units not yet decoded (surrogate pairs)
	skipNext int         // fallback characters still to drop after \uN
	eof      bool
}

func newRTFText(r io.Reader) *pullReader {
	t := &rtfText{r: bufio.NewReaderSize(r, 64<<10), g: rtfGroup{uc: 1}, fonts: map[int]int{}, docCP: codepageEncoding(1252)}
	return &pullReader{next: t.next}
}

func (t *rtfText) next(dst []byte) ([]byte, error) {
	if t.eof {
		return dst, io.EOF
	}
	for len(dst) < rtfChunk {
		c, err := t.r.ReadByte()
		if err != nil {
			t.eof = true
			return t.flush(dst), errOr(filterEOF(err), io.EOF)
		}
		switch c {
		case '{':
			dst = t.flush(dst)
			if len(t.stack) >= rtfMaxDepth {
				t.depth++
				continue
			}
			t.stack = append(t.stack, t.g)
		case '}':
			dst = t.flush(dst)
			if t.depth > 0 {
				t.depth--
				continue
			}
			if len(t.stack) == 0 {
				continue
			}
			if t.inFonts == len(t.stack) {
				t.inFonts = 0
			}
			t.g, t.stack = t.stack[len(t.stack)-1], t.stack[:len(t.stack)-1]
		case '\\':
			dst, err = t.control(dst)
			if err != nil {
				t.eof = true
				return t.flush(dst), errOr(filterEOF(err), io.EOF)
			}
		case '\r', '\n':
		default:
			if t.skipFallback() || t.g.skip {
				continue
			}
			if c >= 0x80 {
				t.pending = append(t.pending, c)
				continue
			}
			dst = t.flush(dst)
			if c == '\t' {
				c = ' '
			}
			dst = append(dst, c)
		}
	}
	return dst, nil
}

func filterEOF(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// skipFallback drops one character after \uN.
func (t *rtfText) skipFallback() bool {
	if t.skipNext > 0 {
		t.skipNext--
		return true
	}
	return false
}

// control reads what follows a backslash.
func (t *rtfText) control(dst []byte) ([]byte, error) {
	c, err := t.r.ReadByte()
	if err != nil {
		return dst, err
	}
	switch {
	case c == '\'':
		h, err := t.r.Peek(2)
		if err != nil {
			return dst, err
		}
		b, perr := strconv.ParseUint(string(h), 16, 8)
		t.r.Discard(2)
		if perr != nil || t.skipFallback() || t.g.skip {
			return dst, nil
		}
		t.pending = append(t.pending, byte(b))
		return dst, nil
	case c == '*':
		t.g.skip = true // an optional destination: never displayed text
		return dst, nil
	case isLetter(c):
		return t.word(dst, c)
	}
	if t.skipFallback() || t.g.skip {
		return dst, nil
	}
	dst = t.flush(dst)
	switch c {
	case '\\', '{', '}':
		return append(dst, c), nil
	case '~':
		return append(dst, ' '), nil
	case '_':
		return append(dst, '-'), nil
	case '\r', '\n':
		return append(dst, '\n'), nil
	}
	return dst, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// word reads a control word and its parameter, and acts on it.
func (t *rtfText) word(dst []byte, first byte) ([]byte, error) {
	name := []byte{first}
	var c byte
	var err error
	for {
		if c, err = t.r.ReadByte(); err != nil {
			break
		}
		if !isLetter(c) || len(name) >= rtfMaxWord {
			break
		}
		name = append(name, c)
	}
	param, hasParam := 0, false
	if err == nil && (c == '-' || c >= '0' && c <= '9') {
		neg := c == '-'
		digits := 0
		if neg {
			c, err = t.r.ReadByte()
		}
		for err == nil && c >= '0' && c <= '9' && digits < 10 {
			param = param*10 + int(c-'0')
			digits++
			c, err = t.r.ReadByte()
		}
		hasParam = digits > 0
		if neg {
			param = -param
		}
	}
	if err == nil && c != ' ' {
		t.r.UnreadByte()
	}
	w := string(name)
	if w == "bin" && hasParam && param > 0 { // raw binary data: not text
		_, derr := t.r.Discard(param)
		return dst, derr
	}
	if rtfSkip[w] {
		t.g.skip = true
		if w == "fonttbl" {
			t.inFonts = len(t.stack)
		}
		return dst, nil
	}
	switch w {
	case "ansicpg":
		if e := codepageEncoding(param); e != nil {
			t.docCP = e
		}
		return dst, nil
	case "f":
		if t.inFonts > 0 {
			t.curFont = param
		} else {
			dst = t.flush(dst)
			t.g.font = param
		}
		return dst, nil
	case "fcharset":
		if t.inFonts > 0 {
			if cp, ok := rtfCharsets[param]; ok {
				t.fonts[t.curFont] = cp
			}
		}
		return dst, nil
	case "uc":
		if hasParam && param >= 0 && param < 16 {
			t.g.uc = param
		}
		return dst, nil
	case "u":
		if !hasParam || t.g.skip {
			return dst, nil
		}
		if len(t.pending) > 0 {
			dst = t.flush(dst)
		}
		if param < 0 {
			param += 65536
		}
		t.pend16 = append(t.pend16, uint16(param))
		if u := uint16(param); u < 0xD800 || u >= 0xDC00 { // not the first half of a pair
			dst = t.flushU(dst)
		}
		t.skipNext = t.g.uc
		return dst, nil
	}
	if t.g.skip || t.skipFallback() {
		return dst, nil
	}
	dst = t.flush(dst)
	switch w {
	case "par", "sect", "page", "row", "nestrow", "column":
		dst = append(dst, '\n')
	case "line", "tab", "emspace", "enspace", "qmspace":
		dst = append(dst, ' ')
	case "cell", "nestcell":
		dst = append(dst, '\t')
	case "emdash":
		dst = append(dst, "—"...)
	case "endash":
		dst = append(dst, "–"...)
	case "lquote", "rquote":
		dst = append(dst, '\'')
	case "ldblquote", "rdblquote":
		dst = append(dst, '"')
	case "bullet":
		dst = append(dst, "•"...)
	}
	return dst, nil
}

// flush decodes the pending 8-bit bytes in the code page of the current
// font, or of the document.
func (t *rtfText) flush(dst []byte) []byte {
	dst = t.flushU(dst)
	if len(t.pending) == 0 {
		return dst
	}
	enc := t.docCP
	if cp, ok := t.fonts[t.g.font]; ok && cp != 1252 {
		if e := codepageEncoding(cp); e != nil {
			enc = e
		}
	}
	if out, err := enc.NewDecoder().Bytes(t.pending); err == nil {
		dst = append(dst, flatten(out)...)
	}
	t.pending = t.pending[:0]
	return dst
}

func (t *rtfText) flushU(dst []byte) []byte {
	for _, r := range utf16.Decode(t.pend16) {
		if r == '\r' || r == '\n' || r == '\t' {
			r = ' '
		}
		dst = utf8.AppendRune(dst, r)
	}
	t.pend16 = t.pend16[:0]
	return dst
}
