package filesrc

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	pdfcpu "github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/atrest/atrest/audit"
)

// PDF text is read with pdfcpu's object model (cross-reference table,
// filters, decryption of owner-password-only files) and this package's own
// content-stream interpreter: text-showing operators decoded through each
// font's ToUnicode CMap (the CID fonts of Chinese PDFs), or its encoding,
// and laid out by position, so that runs an edit split (a value half bold)
// join, and cells and columns stay apart. A PDF with no text at all is an
// image: skipped, "not OCRed"; one that needs a password to open is
// encrypted.

// maxPDFBytes bounds the PDFs read: pdfcpu holds a file's objects in memory.
const maxPDFBytes = 256 << 20

func init() {
	// pdfcpu would otherwise create a configuration directory under the
	// user's home on first use.
	model.ConfigPath = "disable"
}

func (fc *fileCtx) pdf(n node, ra io.ReaderAt, size int64) (res result) {
	res.format = "pdf"
	if size > maxPDFBytes {
		res.state, res.notRead = audit.StateSkipped, "pdf too large"
		res.reason = fmt.Sprintf("pdf larger than %d MiB not parsed", maxPDFBytes>>20)
		return res
	}
	defer func() {
		if p := recover(); p != nil { // pdfcpu on a damaged file
			res = result{state: audit.StateError, format: "pdf", notRead: notReadError, reason: fmt.Sprintf("pdf: parser failed: %v", p)}
		}
	}()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Limits.MaxDecodeBytes = maxPDFBytes
	ctx, err := api.ReadContext(io.NewSectionReader(ra, 0, size), conf)
	if err != nil {
		if errors.Is(err, pdfcpu.ErrWrongPassword) || strings.Contains(err.Error(), "password") {
			return result{state: audit.StateEncrypted, format: "pdf", reason: "pdf encrypted with a password to open it"}
		}
		return result{state: audit.StateError, format: "pdf", notRead: notReadError, reason: "pdf: " + err.Error()}
	}
	if err := ctx.EnsurePageCount(); err != nil {
		return result{state: audit.StateError, format: "pdf", notRead: notReadError, reason: "pdf: page tree: " + err.Error()}
	}
	pr := &pdfText{x: ctx.XRefTable, fonts: map[types.IndirectRef]*pdfFont{}, pages: ctx.PageCount}
	res = fc.unit(node{member: n.member, format: "pdf", depth: n.depth}, "utf-8", &pullReader{next: pr.next})
	res.format = "pdf"
	if res.state != audit.StateScanned {
		return res
	}
	switch {
	case pr.glyphs == 0:
		res.state, res.notRead = audit.StateSkipped, "pdf image-only"
		res.reason = fmt.Sprintf("image-only, no text layer (not OCRed): %d pages", pr.pages)
	case pr.unknown*2 > pr.glyphs:
		res.notRead = "pdf text without unicode"
		res.reason = fmt.Sprintf("%d of %d glyphs have no Unicode mapping (no ToUnicode CMap): text not readable", pr.unknown, pr.glyphs)
	case pr.pageErrs > 0:
		res.reason = fmt.Sprintf("%d of %d pages unreadable: %s", pr.pageErrs, pr.pages, pr.firstErr)
		res.notRead = notReadError
	}
	return res
}

// pdfText produces the text of one page per call.
type pdfText struct {
	x        *model.XRefTable
	fonts    map[types.IndirectRef]*pdfFont
	pages    int
	page     int
	glyphs   int
	unknown  int
	pageErrs int
	firstErr string
	ops      int // operators run on this page, bounded against hostile forms
}

const (
	maxPDFFormDepth = 8
	maxPDFOps       = 50_000_000
)

func (p *pdfText) next(dst []byte) ([]byte, error) {
	if p.page >= p.pages {
		return dst, io.EOF
	}
	p.page++
	d, _, inh, err := p.x.PageDict(p.page, false)
	if err != nil || d == nil {
		p.pageError(err)
		return append(dst, '\n'), nil
	}
	content, err := p.x.PageContent(d, p.page)
	if err != nil {
		if errors.Is(err, model.ErrNoContent) {
			return append(dst, '\n'), nil
		}
		p.pageError(err)
		return append(dst, '\n'), nil
	}
	var res types.Dict
	if inh != nil {
		res = inh.Resources
	}
	if res == nil {
		res = p.dict(d["Resources"])
	}
	p.ops = 0
	it := &pdfInterp{p: p}
	it.gs.reset()
	dst = it.run(dst, content, res, 0)
	dst = it.endLine(dst)
	return dst, nil
}

func (p *pdfText) pageError(err error) {
	p.pageErrs++
	if p.firstErr == "" && err != nil {
		p.firstErr = fmt.Sprintf("page %d: %v", p.page, err)
	}
}

func (p *pdfText) dict(o types.Object) types.Dict {
	if o == nil {
		return nil
	}
	d, err := p.x.DereferenceDict(o)
	if err != nil {
		return nil
	}
	return d
}

func (p *pdfText) array(o types.Object) types.Array {
	if o == nil {
		return nil
	}
	a, err := p.x.DereferenceArray(o)
	if err != nil {
		return nil
	}
	return a
}

func (p *pdfText) num(o types.Object) float64 {
	v, err := p.x.DereferenceNumber(o)
	if err != nil {
		return 0
	}
	return v
}

func (p *pdfText) name(o types.Object) string {
	o, _ = p.x.Dereference(o)
	if n, ok := o.(types.Name); ok {
		return string(n)
	}
	return ""
}

// stream returns a stream's decoded bytes.
func (p *pdfText) stream(o types.Object) []byte {
	if o == nil {
		return nil
	}
	sd, _, err := p.x.DereferenceStreamDict(o)
	if err != nil || sd == nil {
		return nil
	}
	if err := sd.DecodeWithLimit(maxPDFBytes); err != nil {
		return nil
	}
	return sd.Content
}

// font loads a font of a resource dictionary, once per object.
func (p *pdfText) font(res types.Dict, name string) *pdfFont {
	if res == nil || p.x == nil {
		return nil
	}
	fonts := p.dict(res["Font"])
	o, ok := fonts[name]
	if !ok {
		return nil
	}
	ref, isRef := o.(types.IndirectRef)
	if isRef {
		if f, ok := p.fonts[ref]; ok {
			return f
		}
	}
	f := p.loadFont(p.dict(o))
	if isRef {
		p.fonts[ref] = f
	}
	return f
}

func (p *pdfText) loadFont(d types.Dict) *pdfFont {
	f := &pdfFont{dw: 500}
	if d == nil {
		f.enc = simpleEncoding("")
		return f
	}
	if tu := p.stream(d["ToUnicode"]); tu != nil {
		f.toUni = parseCMap(tu)
	}
	if p.name(d["Subtype"]) == "Type0" {
		f.composite, f.dw = true, 1000
		if enc := p.name(d["Encoding"]); enc != "" && !strings.HasPrefix(enc, "Identity") {
			predefinedCMap(enc, f)
		}
		if desc := p.array(d["DescendantFonts"]); len(desc) > 0 {
			cid := p.dict(desc[0])
			if dw, ok := cid["DW"]; ok {
				f.dw = p.num(dw)
			}
			f.cidW = p.cidWidths(p.array(cid["W"]))
		}
		return f
	}
	// A simple font: its base encoding, then the differences.
	encObj, _ := p.x.Dereference(d["Encoding"])
	switch e := encObj.(type) {
	case types.Name:
		f.enc = simpleEncoding(string(e))
	case types.Dict:
		f.enc = simpleEncoding(p.name(e["BaseEncoding"]))
		code := 0
		for _, o := range p.array(e["Differences"]) {
			o, _ = p.x.Dereference(o)
			switch v := o.(type) {
			case types.Integer:
				code = int(v)
			case types.Float:
				code = int(v)
			case types.Name:
				if code >= 0 && code < 256 {
					if r := glyphRune(string(v)); r != 0 {
						f.enc[code] = r
					}
				}
				code++
			}
		}
	default:
		f.enc = simpleEncoding("")
	}
	if fc, ok := d["FirstChar"]; ok {
		f.first = int(p.num(fc))
	}
	for _, w := range p.array(d["Widths"]) {
		f.widths = append(f.widths, p.num(w))
	}
	if fd := p.dict(d["FontDescriptor"]); fd != nil {
		if mw, ok := fd["MissingWidth"]; ok {
			f.dw = p.num(mw)
		}
	}
	if p.name(d["Subtype"]) == "Type3" {
		if m := p.array(d["FontMatrix"]); len(m) > 0 {
			f.scale = p.num(m[0]) * 1000
		}
	}
	return f
}

// cidWidths reads a /W array: "c [w1 w2 …]" and "cfirst clast w".
func (p *pdfText) cidWidths(a types.Array) map[uint32]float64 {
	w := map[uint32]float64{}
	for i := 0; i+1 < len(a) && len(w) < 1<<16; {
		first := uint32(p.num(a[i]))
		next, _ := p.x.Dereference(a[i+1])
		if arr, ok := next.(types.Array); ok {
			for k, o := range arr {
				w[first+uint32(k)] = p.num(o)
			}
			i += 2
			continue
		}
		if i+2 >= len(a) {
			break
		}
		last, width := uint32(p.num(a[i+1])), p.num(a[i+2])
		for c := first; c <= last && c-first < 1<<16; c++ {
			w[c] = width
		}
		i += 3
	}
	return w
}

// matrix is a PDF transformation [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul is m × n.
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m matrix) point(x, y float64) (float64, float64) {
	return x*m[0] + y*m[2] + m[4], x*m[1] + y*m[3] + m[5]
}

func translate(x, y float64) matrix { return matrix{1, 0, 0, 1, x, y} }

// gstate is the part of the graphics state text extraction needs.
type gstate struct {
	ctm                      matrix
	font                     *pdfFont
	size, tc, tw, th, tl, ts float64
}

func (g *gstate) reset() { *g = gstate{ctm: identity, th: 1} }

type pdfInterp struct {
	p       *pdfText
	gs      gstate
	stack   []gstate
	tm, tlm matrix
	line    []byte
	has     bool    // a glyph was placed on line
	lx, ly  float64 // device position where the last text ended
	lsize   float64 // its font size in device units
}

type pdfOperand struct {
	tok pdfTok
	arr []pdfOperand
}

// run interprets a content stream with its resources.
func (it *pdfInterp) run(dst, content []byte, res types.Dict, depth int) []byte {
	l := &pdfLexer{b: content}
	var ops []pdfOperand
	var arena []byte
	keep := func(t pdfTok) pdfTok {
		if t.kind == tokString || t.kind == tokName {
			start := len(arena)
			arena = append(arena, t.val...)
			t.val = arena[start:len(arena):len(arena)]
		}
		return t
	}
	for {
		t := l.next()
		switch t.kind {
		case tokEOF:
			return dst
		case tokArrayOpen:
			var arr []pdfOperand
			for {
				a := l.next()
				if a.kind == tokArrayClose || a.kind == tokEOF || a.kind == tokOp {
					break
				}
				if len(arr) < 1<<16 {
					arr = append(arr, pdfOperand{tok: keep(a)})
				}
			}
			ops = append(ops, pdfOperand{arr: arr, tok: pdfTok{kind: tokArrayOpen}})
			continue
		case tokDictOpen: // marked-content properties: not text
			for depthD := 1; depthD > 0; {
				a := l.next()
				switch a.kind {
				case tokDictOpen:
					depthD++
				case tokDictClose:
					depthD--
				case tokEOF:
					return dst
				}
			}
			continue
		case tokOp:
			if it.p.ops++; it.p.ops > maxPDFOps {
				return dst
			}
			op := string(t.val)
			if op == "BI" {
				for a := l.next(); a.kind != tokEOF && !(a.kind == tokOp && string(a.val) == "ID"); a = l.next() {
				}
				l.skipInlineImage()
			} else {
				dst = it.op(dst, op, ops, res, depth)
			}
			ops, arena = ops[:0], arena[:0]
			continue
		}
		if len(ops) < 64 {
			ops = append(ops, pdfOperand{tok: keep(t)})
		}
	}
}

func nums(ops []pdfOperand, n int) ([]float64, bool) {
	if len(ops) < n {
		return nil, false
	}
	v := make([]float64, n)
	for i, o := range ops[len(ops)-n:] {
		if o.tok.kind != tokNumber {
			return nil, false
		}
		v[i] = o.tok.num
	}
	return v, true
}

func (it *pdfInterp) op(dst []byte, op string, ops []pdfOperand, res types.Dict, depth int) []byte {
	g := &it.gs
	switch op {
	case "q":
		if len(it.stack) < 256 {
			it.stack = append(it.stack, *g)
		}
	case "Q":
		if k := len(it.stack); k > 0 {
			*g, it.stack = it.stack[k-1], it.stack[:k-1]
		}
	case "cm":
		if v, ok := nums(ops, 6); ok {
			g.ctm = matrix(v).mul(g.ctm)
		}
	case "BT":
		it.tm, it.tlm = identity, identity
	case "Tf":
		if len(ops) >= 2 && ops[len(ops)-2].tok.kind == tokName {
			g.font = it.p.font(res, string(ops[len(ops)-2].tok.val))
			g.size = ops[len(ops)-1].tok.num
		}
	case "Tc":
		if v, ok := nums(ops, 1); ok {
			g.tc = v[0]
		}
	case "Tw":
		if v, ok := nums(ops, 1); ok {
			g.tw = v[0]
		}
	case "Tz":
		if v, ok := nums(ops, 1); ok {
			g.th = v[0] / 100
		}
	case "TL":
		if v, ok := nums(ops, 1); ok {
			g.tl = v[0]
		}
	case "Ts":
		if v, ok := nums(ops, 1); ok {
			g.ts = v[0]
		}
	case "Td", "TD":
		if v, ok := nums(ops, 2); ok {
			if op == "TD" {
				g.tl = -v[1]
			}
			it.tlm = translate(v[0], v[1]).mul(it.tlm)
			it.tm = it.tlm
		}
	case "Tm":
		if v, ok := nums(ops, 6); ok {
			it.tlm = matrix(v)
			it.tm = it.tlm
		}
	case "T*":
		it.tlm = translate(0, -g.tl).mul(it.tlm)
		it.tm = it.tlm
	case "Tj", "'", "\"":
		if op != "Tj" {
			if op == "\"" {
				if v, ok := nums(ops[:max(0, len(ops)-1)], 2); ok {
					g.tw, g.tc = v[0], v[1]
				}
			}
			it.tlm = translate(0, -g.tl).mul(it.tlm)
			it.tm = it.tlm
		}
		if len(ops) > 0 && ops[len(ops)-1].tok.kind == tokString {
			dst = it.show(dst, ops[len(ops)-1].tok.val)
		}
	case "TJ":
		if len(ops) > 0 {
			for _, e := range ops[len(ops)-1].arr {
				switch e.tok.kind {
				case tokString:
					dst = it.show(dst, e.tok.val)
				case tokNumber:
					it.tm = translate(-e.tok.num/1000*g.size*g.th, 0).mul(it.tm)
				}
			}
		}
	case "Do":
		if depth < maxPDFFormDepth && len(ops) > 0 && ops[len(ops)-1].tok.kind == tokName {
			dst = it.form(dst, res, string(ops[len(ops)-1].tok.val), depth)
		}
	}
	return dst
}

// form runs a form XObject's content in its own resources and matrix.
func (it *pdfInterp) form(dst []byte, res types.Dict, name string, depth int) []byte {
	if res == nil || it.p.x == nil {
		return dst
	}
	xobjs := it.p.dict(res["XObject"])
	o, ok := xobjs[name]
	if !ok {
		return dst
	}
	sd, _, err := it.p.x.DereferenceStreamDict(o)
	if err != nil || sd == nil || it.p.name(sd.Dict["Subtype"]) != "Form" {
		return dst
	}
	if err := sd.DecodeWithLimit(maxPDFBytes); err != nil {
		return dst
	}
	saved, savedTm, savedTlm := it.gs, it.tm, it.tlm
	if m := it.p.array(sd.Dict["Matrix"]); len(m) == 6 {
		var v matrix
		for i := range v {
			v[i] = it.p.num(m[i])
		}
		it.gs.ctm = v.mul(it.gs.ctm)
	}
	fres := it.p.dict(sd.Dict["Resources"])
	if fres == nil {
		fres = res
	}
	dst = it.run(dst, sd.Content, fres, depth+1)
	it.gs, it.tm, it.tlm = saved, savedTm, savedTlm
	return dst
}

// show places the glyphs of one string: a line ends when the text moves to
// another baseline, a space goes where it jumps ahead by more than a
// tenth of its size (as pdftotext has it); otherwise the runs join.
func (it *pdfInterp) show(dst []byte, s []byte) []byte {
	g := &it.gs
	f := g.font
	if f == nil {
		f = &pdfFont{enc: simpleEncoding(""), dw: 500}
		g.font = f
	}
	trm := it.tm.mul(g.ctm)
	sx, sy := trm.point(0, g.ts)
	size := math.Abs(g.size) * math.Sqrt(math.Abs(trm[0]*trm[3]-trm[1]*trm[2]))
	if size == 0 {
		size = 1
	}
	if it.has {
		ref := math.Max(size, it.lsize)
		dy, dx := math.Abs(sy-it.ly), sx-it.lx
		switch {
		case dy > 0.5*ref:
			dst = it.endLine(dst)
		case dx > 0.1*ref || dx < -ref:
			it.line = append(it.line, ' ')
		}
	}
	f.decode(s, func(gl glyph) {
		it.p.glyphs++
		if gl.unknown {
			it.p.unknown++
		}
		for _, r := range gl.text {
			if r == '\n' || r == '\r' || r == '\t' || r == 0xA0 {
				r = ' '
			}
			if r >= 0x20 {
				it.line = utf8.AppendRune(it.line, r)
			}
		}
		tx := (gl.width/1000*g.size + g.tc) * g.th
		if gl.space {
			tx += g.tw * g.th
		}
		it.tm = translate(tx, 0).mul(it.tm)
	})
	trm = it.tm.mul(g.ctm)
	it.lx, it.ly = trm.point(0, g.ts)
	it.lsize, it.has = size, true
	return dst
}

func (it *pdfInterp) endLine(dst []byte) []byte {
	if it.has || len(it.line) > 0 {
		dst = append(append(dst, it.line...), '\n')
	}
	it.line, it.has = it.line[:0], false
	return dst
}
