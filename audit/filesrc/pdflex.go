package filesrc

import (
	"strconv"
)

// A lexer for PDF content streams and CMaps (ISO 32000-1 §7.2, §9.4): the
// objects an operator takes, then the operator.

type pdfTokKind int

const (
	tokEOF pdfTokKind = iota
	tokNumber
	tokString // literal or hex; bytes in val
	tokName
	tokOp // an operator or keyword
	tokArrayOpen
	tokArrayClose
	tokDictOpen
	tokDictClose
)

type pdfTok struct {
	kind pdfTokKind
	val  []byte
	num  float64
}

type pdfLexer struct {
	b   []byte
	pos int
	buf []byte
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// next returns the next token; val is valid until the call after.
func (l *pdfLexer) next() pdfTok {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if isPDFSpace(c) {
			l.pos++
			continue
		}
		if c == '%' { // comment to the end of the line
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		break
	}
	if l.pos >= len(l.b) {
		return pdfTok{kind: tokEOF}
	}
	c := l.b[l.pos]
	switch {
	case c == '(':
		return pdfTok{kind: tokString, val: l.literal()}
	case c == '<' && l.pos+1 < len(l.b) && l.b[l.pos+1] == '<':
		l.pos += 2
		return pdfTok{kind: tokDictOpen}
	case c == '>' && l.pos+1 < len(l.b) && l.b[l.pos+1] == '>':
		l.pos += 2
		return pdfTok{kind: tokDictClose}
	case c == '<':
		return pdfTok{kind: tokString, val: l.hex()}
	case c == '[':
		l.pos++
		return pdfTok{kind: tokArrayOpen}
	case c == ']':
		l.pos++
		return pdfTok{kind: tokArrayClose}
	case c == '/':
		l.pos++
		start := l.pos
		for l.pos < len(l.b) && !isPDFSpace(l.b[l.pos]) && !isPDFDelim(l.b[l.pos]) {
			l.pos++
		}
		return pdfTok{kind: tokName, val: l.b[start:l.pos]}
	case c == '+' || c == '-' || c == '.' || c >= '0' && c <= '9':
		start := l.pos
		l.pos++
		for l.pos < len(l.b) && (l.b[l.pos] == '.' || l.b[l.pos] >= '0' && l.b[l.pos] <= '9') {
			l.pos++
		}
		f, err := strconv.ParseFloat(string(l.b[start:l.pos]), 64)
		if err != nil {
			f = 0
		}
		return pdfTok{kind: tokNumber, num: f}
	case isPDFDelim(c): // a stray ) > } {
		l.pos++
		return l.next()
	}
	start := l.pos
	for l.pos < len(l.b) && !isPDFSpace(l.b[l.pos]) && !isPDFDelim(l.b[l.pos]) {
		l.pos++
	}
	return pdfTok{kind: tokOp, val: l.b[start:l.pos]}
}

// literal reads a (string) with its escapes and balanced parentheses.
func (l *pdfLexer) literal() []byte {
	l.pos++ // (
	out := l.buf[:0]
	depth := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				l.buf = out
				return out
			}
		case '\\':
			if l.pos >= len(l.b) {
				break
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; k++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	l.buf = out
	return out
}

// hex reads a <hex string>; an odd digit count ends in a 0.
func (l *pdfLexer) hex() []byte {
	l.pos++ // <
	out := l.buf[:0]
	var hi byte
	half := false
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			continue
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	l.buf = out
	return out
}

// skipInlineImage moves past the data of an inline image (BI … ID data EI).
func (l *pdfLexer) skipInlineImage() {
	for l.pos+1 < len(l.b) {
		if l.b[l.pos] == 'E' && l.b[l.pos+1] == 'I' && (l.pos == 0 || isPDFSpace(l.b[l.pos-1])) &&
			(l.pos+2 == len(l.b) || isPDFSpace(l.b[l.pos+2])) {
			l.pos += 2
			return
		}
		l.pos++
	}
	l.pos = len(l.b)
}
