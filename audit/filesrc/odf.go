package filesrc

import (
	"archive/zip"
	"encoding/xml"
	"io"
	"strconv"

	"github.com/atrest/atrest/audit"
)

// OpenDocument (.odt, .ods, .odp, as LibreOffice and WPS write them) is read
// as displayed: a paragraph (text:p, text:h) is a line whatever spans an
// edit cut it into; a spreadsheet is one member per sheet, line N row N,
// cells at their column positions, a number once (its exact office:value,
// not also its formatted text).

const (
	odfText      = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
	odfTable     = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
	odfOffice    = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
	odfMaxRepeat = 1000 // a value copied into more cells than this is written this often
)

// isODF says whether a zip is an OpenDocument package.
func isODF(parts map[string]*zip.File) bool {
	return parts["content.xml"] != nil && parts["META-INF/manifest.xml"] != nil
}

func (fc *fileCtx) odf(n node, parts map[string]*zip.File) result {
	if fc.odfEncrypted(parts["META-INF/manifest.xml"]) {
		return result{state: audit.StateEncrypted, format: "odf", reason: "OpenDocument encrypted with a password (manifest encryption-data)"}
	}
	m := fc.members("odf")
	content := parts["content.xml"]
	rc, err := fc.openZip(content)
	if err != nil {
		return m.result(err)
	}
	d := newXMLDecoder(rc)
	or := &odfReader{d: d}
	for fc.w.ctx.Err() == nil {
		name, sheet, err := or.nextUnit()
		if err != nil {
			break
		}
		member := joinMember(n.member, "content.xml")
		if sheet {
			member = joinMember(n.member, name)
		}
		res := fc.unit(node{member: member, format: "odf", depth: n.depth + 1}, "utf-8", &pullReader{next: or.next})
		res.format = "odf"
		if !m.add(member, int64(content.UncompressedSize64), res) {
			break
		}
	}
	rc.Close()
	if st := parts["styles.xml"]; st != nil { // headers and footers
		member := joinMember(n.member, "styles.xml")
		res := fc.xmlUnit(node{member: member, format: "odf", depth: n.depth + 1}, st, func(d *xml.Decoder) func([]byte) ([]byte, error) {
			r := &odfReader{d: d, inUnit: true}
			return r.next
		})
		m.add(member, int64(st.UncompressedSize64), res)
	}
	return m.result(nil)
}

// odfEncrypted says whether the manifest marks content.xml as encrypted.
func (fc *fileCtx) odfEncrypted(manifest *zip.File) bool {
	encrypted, entry := false, ""
	fc.eachElement(manifest, func(t xml.StartElement) {
		switch t.Name.Local {
		case "file-entry":
			entry = attr(t, "full-path")
		case "encryption-data":
			if entry == "content.xml" {
				encrypted = true
			}
		}
	})
	return encrypted
}

// odfReader walks content.xml: each sheet of a spreadsheet is a unit, and
// so is the body of any other document.
type odfReader struct {
	d      *xml.Decoder
	inUnit bool // between nextUnit and the end of its sheet or body
	sheet  bool
	done   bool

	para  []byte // the paragraph being read
	line  []byte // the spreadsheet row being built
	inP   int    // depth of text:p / text:h
	skip  int    // depth inside elements whose text is not shown
	lines int    // lines written in this unit

	// spreadsheet state
	row, blankRows int // rows written; empty rows not yet written
	rowRepeat      int
	col, tabs      int // cells passed on this row (empty ones too); tabs written
	cellRepeat     int
	inCell         bool
	cellText       []byte
	cellValue      string // office:value of a number, used instead of its text
	cellParas      int
}

// nextUnit moves to the next sheet, or the document body; io.EOF when there
// is none.
func (r *odfReader) nextUnit() (name string, sheet bool, err error) {
	if r.done {
		return "", false, io.EOF
	}
	for {
		tok, err := r.d.Token()
		if err != nil {
			r.done = true
			return "", false, io.EOF
		}
		t, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case t.Name.Space == odfTable && t.Name.Local == "table":
			r.reset(true)
			name = attr(t, "name")
			if name == "" {
				name = "Sheet"
			}
			return name, true, nil
		case t.Name.Space == odfOffice && (t.Name.Local == "text" || t.Name.Local == "presentation" || t.Name.Local == "drawing"):
			r.reset(false)
			return "", false, nil
		}
	}
}

func (r *odfReader) reset(sheet bool) {
	r.inUnit, r.sheet = true, sheet
	r.line, r.para, r.inP, r.skip, r.row, r.blankRows, r.col, r.tabs = r.line[:0], r.para[:0], 0, 0, 0, 0, 0, 0
}

func (r *odfReader) next(dst []byte) ([]byte, error) {
	if !r.inUnit {
		return dst, io.EOF
	}
	for {
		tok, err := r.d.Token()
		if err != nil {
			r.inUnit, r.done = false, true
			if len(r.para) > 0 {
				dst = append(append(dst, r.para...), '\n')
				r.para = r.para[:0]
			}
			if err == io.EOF {
				return dst, io.EOF
			}
			return dst, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			r.start(t)
		case xml.EndElement:
			var end bool
			dst, end = r.end(t, dst)
			if end {
				r.inUnit = false
				return dst, io.EOF
			}
			if len(dst) > 0 {
				return dst, nil
			}
		case xml.CharData:
			if r.inP > 0 && r.skip == 0 {
				start := len(r.para)
				r.para = append(r.para, t...)
				flatten(r.para[start:])
			}
		}
	}
}

func repeat(t xml.StartElement, name string) int {
	n, err := strconv.Atoi(attr(t, name))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func (r *odfReader) start(t xml.StartElement) {
	switch t.Name.Space {
	case odfText:
		switch t.Name.Local {
		case "p", "h":
			if r.inP > 0 && r.skip == 0 { // a paragraph inside a paragraph (a note): keep it apart
				r.para = append(r.para, ' ')
			}
			r.inP++
		case "s":
			if r.inP > 0 && r.skip == 0 {
				for i := min(repeat(t, "c"), 64); i > 0; i-- {
					r.para = append(r.para, ' ')
				}
			}
		case "tab":
			if r.inP > 0 && r.skip == 0 {
				r.para = append(r.para, '\t')
			}
		case "line-break":
			if r.inP > 0 && r.skip == 0 {
				r.para = append(r.para, ' ')
			}
		case "tracked-changes", "sequence-decls", "variable-decls", "user-field-decls":
			r.skip++
		}
	case odfTable:
		if !r.sheet {
			return
		}
		switch t.Name.Local {
		case "table-row":
			r.rowRepeat, r.col, r.tabs = repeat(t, "number-rows-repeated"), 0, 0
			r.line = r.line[:0]
		case "table-cell", "covered-table-cell":
			r.inCell, r.cellText, r.cellParas = true, r.cellText[:0], 0
			r.cellRepeat = repeat(t, "number-columns-repeated")
			r.cellValue = ""
			switch vt := attrNS(t, odfOffice, "value-type"); vt {
			case "float", "currency", "percentage":
				r.cellValue = normNumber(attrNS(t, odfOffice, "value"))
			}
		}
	}
}

func attrNS(t xml.StartElement, space, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local && (a.Name.Space == space || a.Name.Space == "") {
			return a.Value
		}
	}
	return ""
}

// end handles a closing tag; done is true at the end of the unit.
func (r *odfReader) end(t xml.EndElement, dst []byte) (_ []byte, done bool) {
	switch t.Name.Space {
	case odfText:
		switch t.Name.Local {
		case "p", "h":
			if r.inP > 0 {
				r.inP--
			}
			if r.inP > 0 {
				return dst, false
			}
			if r.sheet && r.inCell {
				if r.cellParas > 0 {
					r.cellText = append(r.cellText, ' ')
				}
				r.cellText = append(r.cellText, r.para...)
				r.cellParas++
				r.para = r.para[:0]
				return dst, false
			}
			if !r.sheet {
				dst = append(append(dst, r.para...), '\n')
			}
			r.para = r.para[:0]
		case "tracked-changes", "sequence-decls", "variable-decls", "user-field-decls":
			if r.skip > 0 {
				r.skip--
			}
		}
	case odfTable:
		if !r.sheet {
			return dst, false
		}
		switch t.Name.Local {
		case "table":
			return dst, true
		case "table-cell", "covered-table-cell":
			r.inCell = false
			text := r.cellText
			if r.cellValue != "" {
				text = []byte(r.cellValue)
			}
			if len(text) == 0 {
				r.col = min(r.col+r.cellRepeat, maxSheetCols)
				return dst, false
			}
			flatten(text)
			for i := 0; i < min(r.cellRepeat, odfMaxRepeat) && r.col < maxSheetCols; i++ {
				for ; r.tabs < r.col; r.tabs++ {
					r.line = append(r.line, '\t')
				}
				r.line = append(r.line, text...)
				r.col++
			}
		case "table-row":
			if len(r.line) == 0 {
				r.blankRows += r.rowRepeat
				return dst, false
			}
			for ; r.blankRows > 0 && r.row < maxSheetRows; r.blankRows-- {
				dst = append(dst, '\n')
				r.row++
			}
			r.blankRows = 0
			for i := 0; i < min(r.rowRepeat, odfMaxRepeat); i++ {
				dst = append(append(dst, r.line...), '\n')
				r.row++
			}
			r.line = r.line[:0]
		}
	}
	return dst, false
}
