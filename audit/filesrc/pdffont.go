package filesrc

import (
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// pdfFont is what text extraction needs of a font: how its string bytes
// split into codes, what Unicode each code is, and how wide it is.
type pdfFont struct {
	toUni     *pdfCMap // the ToUnicode CMap, when the font has one
	composite bool     // Type0: multi-byte codes, CIDs
	// simple fonts: code → rune from /Encoding and /Differences
	enc [256]rune
	// composite fonts with a predefined CMap instead of Identity
	ucs2   bool              // UniGB-UCS2-H, UniGB-UTF16-H: the codes are Unicode
	multi  encoding.Encoding // GBK-EUC-H and the like: the codes are GBK
	first  int
	widths []float64          // simple: from FirstChar
	cidW   map[uint32]float64 // composite: /W
	dw     float64            // default width (1/1000 em)
	scale  float64            // Type3 FontMatrix: glyph space to 1/1000 em
}

// glyph is one decoded code.
type glyph struct {
	text    []rune
	width   float64 // 1/1000 em
	space   bool    // single-byte code 32: word spacing applies
	unknown bool    // no Unicode for this code
}

// decode splits s into glyphs.
func (f *pdfFont) decode(s []byte, emit func(glyph)) {
	for i := 0; i < len(s); {
		n := f.codeLen(s[i:])
		code := uint32(0)
		for _, b := range s[i : i+n] {
			code = code<<8 | uint32(b)
		}
		raw := s[i : i+n]
		i += n
		g := glyph{width: f.width(code), space: n == 1 && code == 32}
		switch {
		case f.toUni != nil && f.toUni.lookup(code, n, &g.text):
		case f.composite && f.ucs2:
			g.text = []rune{rune(code)}
		case f.composite && f.multi != nil:
			out, err := f.multi.NewDecoder().Bytes(raw)
			if err == nil {
				g.text = []rune(string(out))
			}
		case !f.composite:
			if r := f.enc[code&0xff]; r != 0 {
				g.text = []rune{r}
			}
		}
		if len(g.text) == 0 {
			g.unknown = true
		}
		emit(g)
	}
}

// codeLen is the byte length of the code at the start of s.
func (f *pdfFont) codeLen(s []byte) int {
	if f.toUni != nil && len(f.toUni.space) > 0 {
		for _, r := range f.toUni.space {
			if r.n <= len(s) {
				code := uint32(0)
				for _, b := range s[:r.n] {
					code = code<<8 | uint32(b)
				}
				if code >= r.lo && code <= r.hi {
					return r.n
				}
			}
		}
	}
	switch {
	case f.composite && f.multi != nil && s[0] < 0x80:
		return 1
	case f.composite && len(s) >= 2:
		return 2
	}
	return 1
}

func (f *pdfFont) width(code uint32) float64 {
	w := f.dw
	if f.composite {
		if v, ok := f.cidW[code]; ok {
			w = v
		}
	} else if i := int(code) - f.first; i >= 0 && i < len(f.widths) {
		w = f.widths[i]
	}
	if f.scale != 0 {
		w *= f.scale
	}
	return w
}

// pdfCMap is a ToUnicode CMap (bfchar and bfrange entries).
type pdfCMap struct {
	space  []codeRange
	chars  map[uint32][]rune
	ranges []cmapRange
}

type codeRange struct {
	n      int // bytes
	lo, hi uint32
}

type cmapRange struct {
	lo, hi uint32
	start  []uint16 // UTF-16 of lo; the last unit counts up
	each   [][]rune // or one destination per code
}

const maxCMapEntries = 1 << 17

func (c *pdfCMap) lookup(code uint32, n int, out *[]rune) bool {
	if r, ok := c.chars[code]; ok {
		*out = r
		return true
	}
	for _, rg := range c.ranges {
		if code < rg.lo || code > rg.hi {
			continue
		}
		off := code - rg.lo
		if rg.each != nil {
			if int(off) < len(rg.each) {
				*out = rg.each[off]
				return true
			}
			return false
		}
		u := append([]uint16(nil), rg.start...)
		if len(u) > 0 {
			u[len(u)-1] += uint16(off)
		}
		*out = utf16.Decode(u)
		return true
	}
	return false
}

// parseCMap reads the ToUnicode entries of a CMap stream.
func parseCMap(b []byte) *pdfCMap {
	c := &pdfCMap{chars: map[uint32][]rune{}}
	l := &pdfLexer{b: b}
	var ops [][]byte // operands as raw strings
	entries := 0
	for {
		t := l.next()
		switch t.kind {
		case tokEOF:
			return c
		case tokString:
			ops = append(ops, append([]byte(nil), t.val...))
			continue
		case tokArrayOpen:
			// [<d1> <d2> …] as the destination of a bfrange
			var arr [][]rune
			for {
				a := l.next()
				if a.kind != tokString {
					break
				}
				arr = append(arr, utf16be(a.val))
			}
			if len(ops) >= 2 && entries < maxCMapEntries {
				lo, hi := codeOf(ops[len(ops)-2]), codeOf(ops[len(ops)-1])
				if hi >= lo && hi-lo < maxCMapEntries {
					c.ranges = append(c.ranges, cmapRange{lo: lo, hi: hi, each: arr})
					entries++
				}
			}
			ops = ops[:0]
			continue
		case tokOp:
			switch string(t.val) {
			case "endcodespacerange":
				for i := 0; i+1 < len(ops) && len(c.space) < 256; i += 2 {
					if n := len(ops[i]); n >= 1 && n <= 4 { // a code is one to four bytes
						c.space = append(c.space, codeRange{n: n, lo: codeOf(ops[i]), hi: codeOf(ops[i+1])})
					}
				}
			case "endbfchar":
				for i := 0; i+1 < len(ops) && entries < maxCMapEntries; i += 2 {
					c.chars[codeOf(ops[i])] = utf16be(ops[i+1])
					entries++
				}
			case "endbfrange":
				for i := 0; i+2 < len(ops) && entries < maxCMapEntries; i += 3 {
					lo, hi := codeOf(ops[i]), codeOf(ops[i+1])
					if hi < lo {
						continue
					}
					c.ranges = append(c.ranges, cmapRange{lo: lo, hi: hi, start: utf16Units(ops[i+2])})
					entries++
				}
			}
		}
		ops = ops[:0]
	}
}

func codeOf(b []byte) uint32 {
	v := uint32(0)
	for _, c := range b[:min(len(b), 4)] {
		v = v<<8 | uint32(c)
	}
	return v
}

func utf16Units(b []byte) []uint16 {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	if len(b)%2 == 1 { // a one-byte destination
		u = append(u, uint16(b[len(b)-1]))
	}
	return u
}

func utf16be(b []byte) []rune { return utf16.Decode(utf16Units(b)) }

// simpleEncoding is the code → rune table of a simple font's base encoding.
func simpleEncoding(name string) [256]rune {
	var t [256]rune
	var cm *charmap.Charmap
	switch name {
	case "MacRomanEncoding":
		cm = charmap.Macintosh
	default: // WinAnsiEncoding, StandardEncoding (close enough for text), none
		cm = charmap.Windows1252
	}
	for i := range t {
		t[i] = cm.DecodeByte(byte(i))
	}
	for i := 0; i < 32; i++ {
		t[i] = 0
	}
	return t
}

// predefinedCMap says how a Type0 font's codes map to text when the font
// names one of the Adobe CMaps instead of Identity-H and has no ToUnicode.
func predefinedCMap(name string, f *pdfFont) {
	switch {
	case strings.HasPrefix(name, "Uni") && (strings.Contains(name, "UCS2") || strings.Contains(name, "UTF16")):
		f.ucs2 = true
	case strings.HasPrefix(name, "GBK") || strings.HasPrefix(name, "GB-EUC") || strings.HasPrefix(name, "GBpc-EUC") || strings.HasPrefix(name, "GBK2K"):
		f.multi = simplifiedchinese.GB18030
	}
}

// glyphRune maps a glyph name of /Differences to its character: the ASCII
// names, uniXXXX and uXXXX[XX].
func glyphRune(name string) rune {
	if r, ok := glyphNames[name]; ok {
		return r
	}
	if len(name) == 1 {
		return rune(name[0])
	}
	for _, p := range []string{"uni", "u"} {
		if h, ok := strings.CutPrefix(name, p); ok && len(h) >= 4 && len(h) <= 6 {
			if v, err := strconv.ParseUint(h[:min(len(h), 6)], 16, 32); err == nil {
				return rune(v)
			}
		}
	}
	return 0
}

var glyphNames = map[string]rune{
	"space": ' ', "exclam": '!', "quotedbl": '"', "numbersign": '#', "dollar": '$', "percent": '%',
	"ampersand": '&', "quotesingle": '\'', "parenleft": '(', "parenright": ')', "asterisk": '*', "plus": '+',
	"comma": ',', "hyphen": '-', "period": '.', "slash": '/', "zero": '0', "one": '1', "two": '2', "three": '3',
	"four": '4', "five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9', "colon": ':', "semicolon": ';',
	"less": '<', "equal": '=', "greater": '>', "question": '?', "at": '@', "bracketleft": '[', "backslash": '\\',
	"bracketright": ']', "asciicircum": '^', "underscore": '_', "grave": '`', "braceleft": '{', "bar": '|',
	"braceright": '}', "asciitilde": '~', "quoteright": '\'', "quoteleft": '`', "minus": '-', "nbspace": ' ',
}
