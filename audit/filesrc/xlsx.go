package filesrc

import (
	"archive/zip"
	"encoding/xml"
	"path"
	"sort"
	"strconv"
	"strings"
)

// xlsx scans every worksheet of a workbook as one unit, one line per row.
func (fc *fileCtx) xlsx(n node, parts map[string]*zip.File) result {
	sheets, sstPart := fc.workbook(parts)
	strs, err := fc.loadSST(parts[sstPart])
	defer strs.Close()
	m := fc.members("xlsx")
	if err != nil {
		return m.result(err)
	}
	for _, sh := range sheets {
		if fc.w.ctx.Err() != nil {
			break
		}
		zf := parts[sh.part]
		name := joinMember(n.member, sh.name)
		res := fc.xmlUnit(node{member: name, format: "xlsx", depth: n.depth + 1}, zf, func(d *xml.Decoder) func([]byte) ([]byte, error) {
			return (&sheetReader{d: d, sst: strs}).next
		})
		if !m.add(name, int64(zf.UncompressedSize64), res) {
			break
		}
	}
	return m.result(nil)
}

type sheet struct{ name, part string }

// workbook lists the worksheets in workbook order with their names, and finds
// the shared-strings part. A workbook whose relationships cannot be read
// falls back to every xl/worksheets part, named by its path.
func (fc *fileCtx) workbook(parts map[string]*zip.File) ([]sheet, string) {
	type wbSheet struct{ name, rid string }
	var order []wbSheet
	targets := map[string]string{}
	sstPart := "xl/sharedStrings.xml"
	fc.eachElement(parts["xl/workbook.xml"], func(t xml.StartElement) {
		if t.Name.Local == "sheet" {
			var s wbSheet
			for _, a := range t.Attr {
				switch {
				case a.Name.Local == "name" && a.Name.Space == "":
					s.name = a.Value
				case a.Name.Local == "id" && strings.Contains(a.Name.Space, "relationships"):
					s.rid = a.Value
				}
			}
			order = append(order, s)
		}
	})
	fc.eachElement(parts["xl/_rels/workbook.xml.rels"], func(t xml.StartElement) {
		if t.Name.Local != "Relationship" {
			return
		}
		var id, typ, target string
		for _, a := range t.Attr {
			switch a.Name.Local {
			case "Id":
				id = a.Value
			case "Type":
				typ = a.Value
			case "Target":
				target = a.Value
			}
		}
		if strings.HasPrefix(target, "/") {
			target = target[1:]
		} else {
			target = path.Join("xl", target)
		}
		targets[id] = target
		if strings.HasSuffix(typ, "/sharedStrings") {
			sstPart = target
		}
	})
	var sheets []sheet
	seen := map[string]bool{}
	for _, s := range order {
		part := targets[s.rid]
		if parts[part] == nil || seen[part] {
			continue
		}
		seen[part] = true
		name := s.name
		if name == "" || seen["name:"+name] {
			name = part
		}
		seen["name:"+name] = true
		sheets = append(sheets, sheet{name: name, part: part})
	}
	if len(sheets) == 0 {
		for p := range parts {
			if strings.HasPrefix(p, "xl/worksheets/") && strings.HasSuffix(p, ".xml") && !strings.Contains(p[len("xl/worksheets/"):], "/") {
				sheets = append(sheets, sheet{name: p, part: p})
			}
		}
		// sheet2 before sheet10
		sort.Slice(sheets, func(i, j int) bool {
			a, b := sheets[i].part, sheets[j].part
			return len(a) < len(b) || len(a) == len(b) && a < b
		})
	}
	return sheets, sstPart
}

const (
	maxSheetRows = 1 << 20 // Excel's limits; bigger references are treated as damage
	maxSheetCols = 1 << 14
)

// sheetReader turns worksheet XML into lines: line N is row N, cells joined
// by tabs at their column positions, missing rows as empty lines.
type sheetReader struct {
	d   *xml.Decoder
	sst *sst

	row  int // last row written
	line []byte
	tabs int // tabs written on the current line

	inRow, inCell, inV, inIs, inT bool
	rowNum, col                   int
	cellType                      string
	val                           []byte
	rph                           int // depth inside <rPh> (phonetic runs, not cell text)
}

func (s *sheetReader) next(dst []byte) ([]byte, error) {
	for {
		tok, err := s.d.RawToken()
		if err != nil {
			return dst, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s.start(t)
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				s.inV = false
			case "t":
				s.inT = false
			case "is":
				s.inIs = false
			case "rPh":
				s.rph--
			case "c":
				s.endCell()
			case "row":
				if !s.inRow {
					continue
				}
				s.inRow = false
				for s.row < s.rowNum-1 {
					dst = append(dst, '\n')
					s.row++
				}
				dst = append(append(dst, s.line...), '\n')
				s.row = s.rowNum
				return dst, nil
			}
		case xml.CharData:
			if s.inCell && (s.inV || s.inIs && s.inT && s.rph == 0) {
				s.val = append(s.val, t...)
			}
		}
	}
}

func (s *sheetReader) start(t xml.StartElement) {
	switch t.Name.Local {
	case "row":
		s.inRow, s.line, s.tabs, s.col = true, s.line[:0], 0, 0
		s.rowNum = s.row + 1
		if r, err := strconv.Atoi(attr(t, "r")); err == nil && r > s.row && r <= maxSheetRows {
			s.rowNum = r
		}
	case "c":
		s.inCell, s.val = true, s.val[:0]
		s.cellType = attr(t, "t")
		c := colIndex(attr(t, "r"))
		if c <= s.col || c > maxSheetCols {
			c = s.col + 1
		}
		s.col = c
	case "v":
		s.inV = true
	case "is":
		s.inIs = true
	case "t":
		s.inT = true
	case "rPh":
		s.rph++
	}
}

func (s *sheetReader) endCell() {
	s.inCell = false
	if !s.inRow {
		return
	}
	var text []byte
	switch s.cellType {
	case "s":
		if i, err := strconv.Atoi(strings.TrimSpace(string(s.val))); err == nil {
			text = s.sst.get(i)
		}
	case "inlineStr", "str", "e", "b", "d":
		text = s.val
	default:
		text = []byte(normNumber(strings.TrimSpace(string(s.val))))
	}
	if len(text) == 0 {
		return
	}
	if pad := s.col - 1 - s.tabs; pad > 0 {
		for ; pad > 0; pad-- {
			s.line = append(s.line, '\t')
		}
		s.tabs = s.col - 1
	} else if len(s.line) > 0 {
		s.line = append(s.line, '\t')
		s.tabs++
	}
	s.line = append(s.line, flatten(text)...)
}

// colIndex turns the letters of a cell reference ("AB12") into a 1-based
// column; 0 if there are none.
func colIndex(ref string) int {
	c := 0
	for i := 0; i < len(ref) && i < 4; i++ {
		ch := ref[i]
		if ch < 'A' || ch > 'Z' {
			break
		}
		c = c*26 + int(ch-'A') + 1
	}
	return c
}

// normNumber writes a numeric cell the way a person typed it: Excel stores a
// phone number typed as a number as 13800138000 or 1.3800138E10. Done on the
// decimal string, not through float64, so no digit is invented or lost.
// Anything that is not a plain number is returned unchanged.
func normNumber(v string) string {
	e := strings.IndexAny(v, "eE")
	if e < 0 {
		return v
	}
	mant, expStr := v[:e], v[e+1:]
	exp, err := strconv.Atoi(expStr)
	if err != nil || exp < -30 || exp > 30 {
		return v
	}
	sign := ""
	if strings.HasPrefix(mant, "-") {
		sign, mant = "-", mant[1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return v
	}
	point := len(intPart) + exp // position of the decimal point in digits
	var ip, fp string
	switch {
	case point <= 0:
		ip, fp = "0", strings.Repeat("0", -point)+digits
	case point >= len(digits):
		ip = digits + strings.Repeat("0", point-len(digits))
	default:
		ip, fp = digits[:point], digits[point:]
	}
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	if fp = strings.TrimRight(fp, "0"); fp != "" {
		return sign + ip + "." + fp
	}
	return sign + ip
}
