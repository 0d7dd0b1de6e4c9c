package filesrc

import (
	"io"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlText turns HTML (already UTF-8) into its text as a browser shows it:
// inline elements (a value split over two <span>s by an edit) join, block
// elements and <br> end lines, table cells are tab-separated, and script,
// style, attributes and comments are left out.
type htmlText struct {
	z    *html.Tokenizer
	skip int // depth inside script, style, head/title-less junk
	line []byte
}

func newHTMLText(r io.Reader) *pullReader {
	h := &htmlText{z: html.NewTokenizer(r)}
	h.z.SetMaxBuf(4 << 20) // one token larger than this is damage, not text
	return &pullReader{next: h.next}
}

func (h *htmlText) next(dst []byte) ([]byte, error) {
	for {
		tt := h.z.Next()
		switch tt {
		case html.ErrorToken:
			if len(h.line) > 0 {
				dst = append(append(dst, h.line...), '\n')
				h.line = h.line[:0]
			}
			err := h.z.Err()
			if err == nil {
				err = io.EOF
			}
			return dst, err
		case html.TextToken:
			if h.skip == 0 {
				start := len(h.line)
				h.line = append(h.line, h.z.Text()...)
				flatten(h.line[start:])
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := h.z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Template, atom.Noscript:
				if tt == html.StartTagToken {
					h.skip++
				} else if tt == html.EndTagToken && h.skip > 0 {
					h.skip--
				}
				continue
			case atom.Td, atom.Th:
				if tt == html.StartTagToken && len(h.line) > 0 {
					h.line = append(h.line, '\t')
				}
				continue
			}
			if a == atom.Br || blockElements[a] {
				if len(h.line) > 0 || a == atom.Br {
					dst = append(append(dst, h.line...), '\n')
					h.line = h.line[:0]
					return dst, nil
				}
			}
		}
	}
}

var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Tr: true, atom.Li: true, atom.Ul: true, atom.Ol: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Table: true, atom.Blockquote: true, atom.Pre: true, atom.Hr: true, atom.Title: true,
	atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true, atom.Dd: true,
	atom.Dt: true, atom.Address: true, atom.Body: true, atom.Head: true, atom.Html: true,
}
