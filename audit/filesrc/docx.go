package filesrc

import (
	"archive/zip"
	"encoding/xml"
	"io"
	"strings"
)

// docx scans the body of a Word document, then its headers, footers,
// footnotes, endnotes and comments, each part one unit, one line per paragraph.
func (fc *fileCtx) docx(n node, parts map[string]*zip.File) result {
	m := fc.members("docx")
	for _, p := range docxParts(parts) {
		if fc.w.ctx.Err() != nil {
			break
		}
		zf := parts[p]
		name := joinMember(n.member, p)
		res := fc.xmlUnit(node{member: name, format: "docx", depth: n.depth + 1}, zf, func(d *xml.Decoder) func([]byte) ([]byte, error) {
			return (&docReader{d: d}).next
		})
		if !m.add(name, int64(zf.UncompressedSize64), res) {
			break
		}
	}
	return m.result(nil)
}

func docxParts(parts map[string]*zip.File) []string {
	list := []string{"word/document.xml"}
	for _, p := range sortedKeys(parts) {
		rest, ok := strings.CutPrefix(p, "word/")
		if !ok || strings.Contains(rest, "/") || !strings.HasSuffix(rest, ".xml") {
			continue
		}
		for _, prefix := range []string{"header", "footer", "footnotes", "endnotes", "comments"} {
			if strings.HasPrefix(rest, prefix) {
				list = append(list, p)
				break
			}
		}
	}
	return list
}

// docReader turns WordprocessingML into one line per w:p: the text of its
// runs (w:t, and w:delText, since deleted tracked text is still stored),
// w:tab as a tab, breaks as spaces so that lines stay paragraphs.
type docReader struct {
	d      *xml.Decoder
	line   []byte
	inText bool
	inRun  int
}

func isWordML(space string) bool { return strings.Contains(space, "wordprocessingml") }

func (r *docReader) next(dst []byte) ([]byte, error) {
	for {
		tok, err := r.d.Token()
		if err != nil {
			if err == io.EOF && len(r.line) > 0 { // text outside any paragraph
				dst = append(append(dst, r.line...), '\n')
				r.line = r.line[:0]
			}
			return dst, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t", "delText":
				r.inText = true
			case "r":
				if isWordML(t.Name.Space) {
					r.inRun++
				}
			case "tab":
				if r.inRun > 0 && isWordML(t.Name.Space) {
					r.line = append(r.line, '\t')
				}
			case "br", "cr":
				if r.inRun > 0 && isWordML(t.Name.Space) {
					r.line = append(r.line, ' ')
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t", "delText":
				r.inText = false
			case "r":
				if isWordML(t.Name.Space) && r.inRun > 0 {
					r.inRun--
				}
			case "p":
				if isWordML(t.Name.Space) {
					dst = append(append(dst, r.line...), '\n')
					r.line = r.line[:0]
					return dst, nil
				}
			}
		case xml.CharData:
			if r.inText {
				start := len(r.line)
				r.line = append(r.line, t...)
				flatten(r.line[start:])
			}
		}
	}
}
