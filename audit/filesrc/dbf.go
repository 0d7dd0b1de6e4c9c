package filesrc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/atrest/atrest/audit"
)

// dBase tables (.dbf, from dBase, FoxPro and the tools that export to them)
// are read by field: each record is a line, its fields trimmed and joined by
// tabs, so that values sized to their content ("440305197302127122" then
// "18620268926") do not run together. Text is decoded in the code page the
// header's language driver names, or as UTF-8 or GB18030 when it names none.
// Deleted records are read too: they are still stored.

const dbfMaxFields = 2048

// dbfLDID maps a dBase language driver ID to a Windows code page.
var dbfLDID = map[byte]int{
	0x01: 437, 0x02: 850, 0x03: 1252, 0x04: 10000, 0x57: 1252, 0x58: 1252, 0x59: 1252,
	0x64: 852, 0x65: 866, 0x66: 865, 0x67: 861, 0x6A: 737, 0x6B: 857,
	0x78: 950, 0x79: 949, 0x7A: 936, 0x7B: 932, 0x7C: 874, 0x4D: 936, 0x4E: 949, 0x4F: 950,
	0x13: 932, 0x26: 866, 0x37: 850, 0x7D: 1255, 0x7E: 1256,
	0xC8: 1250, 0xC9: 1251, 0xCA: 1254, 0xCB: 1253, 0xCC: 1257,
}

type dbfField struct {
	typ byte
	len int
}

type dbfHeader struct {
	records   int64
	headerLen int
	recordLen int
	ldid      byte
	fields    []dbfField
}

// isDBF checks the header of a dBase table: a known version byte, a real
// date, field descriptors ending in 0x0D where the header length says, and
// field lengths that add up to the record length.
func isDBF(b []byte) (dbfHeader, bool) {
	var h dbfHeader
	if len(b) < 65 {
		return h, false
	}
	switch b[0] {
	case 0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x83, 0x8B, 0xCB, 0xF5, 0xFB:
	default:
		return h, false
	}
	if b[2] < 1 || b[2] > 12 || b[3] < 1 || b[3] > 31 {
		return h, false
	}
	le := binary.LittleEndian
	h.records = int64(le.Uint32(b[4:]))
	h.headerLen, h.recordLen, h.ldid = int(le.Uint16(b[8:])), int(le.Uint16(b[10:])), b[29]
	sum := 1 // the deletion flag
	p := 32
	for ; p+32 <= len(b) && b[p] != 0x0D; p += 32 {
		f := b[p : p+32]
		fl := dbfField{typ: f[11], len: int(f[16])}
		if f[11] == 'C' { // character fields over 255 bytes keep the high byte in the decimals
			fl.len += int(f[17]) << 8
		}
		if fl.len == 0 || len(h.fields) >= dbfMaxFields {
			return h, false
		}
		h.fields = append(h.fields, fl)
		sum += fl.len
	}
	if p >= len(b) || b[p] != 0x0D || len(h.fields) == 0 || sum != h.recordLen {
		return h, false
	}
	if p+1 != h.headerLen && p+1+263 != h.headerLen { // Visual FoxPro adds a backlink
		return h, false
	}
	return h, true
}

// dbf reads the records of a dBase table.
func (fc *fileCtx) dbf(n node, br *bufio.Reader, h dbfHeader) result {
	if _, err := br.Discard(h.headerLen); err != nil {
		return result{state: audit.StateError, format: "dbf", notRead: notReadError, reason: "dbf: short header"}
	}
	var enc encoding.Encoding
	encName := "utf-8"
	if cp, ok := dbfLDID[h.ldid]; ok {
		enc, encName = codepageEncoding(cp), fmt.Sprintf("cp%d", cp)
	} else if head, _ := br.Peek(sniffLen); !utf8.Valid(trimPartialRune(head)) {
		if gb18030Clean(head, false) {
			enc, encName = simplifiedchinese.GB18030, "gb18030"
		} else {
			enc, encName = codepageEncoding(1252), "cp1252"
		}
	}
	d := &dbfReader{r: br, h: h, rec: make([]byte, h.recordLen), enc: enc}
	res := fc.unit(n, encName, &pullReader{next: d.next})
	res.format = "dbf"
	return res
}

type dbfReader struct {
	r    *bufio.Reader
	h    dbfHeader
	rec  []byte
	read int64
	enc  encoding.Encoding
}

func (d *dbfReader) next(dst []byte) ([]byte, error) {
	if d.read >= d.h.records {
		return dst, io.EOF
	}
	if _, err := io.ReadFull(d.r, d.rec); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return dst, io.EOF // fewer records than the header says: what was read stands
		}
		return dst, err
	}
	d.read++
	if d.rec[0] == 0x1A { // end-of-file marker
		d.read = d.h.records
		return dst, io.EOF
	}
	p := 1
	first := true
	for _, f := range d.h.fields {
		v := bytes.TrimSpace(bytes.TrimRight(d.rec[p:p+f.len], "\x00"))
		p += f.len
		if !first {
			dst = append(dst, '\t')
		}
		first = false
		switch f.typ {
		case 'M', 'G', 'B', 'P', 'I', 'Y', 'T', '@', '+', 'O', '0': // memo pointers and binary fields
			continue
		}
		if d.enc != nil && !isASCII(v) {
			if out, err := d.enc.NewDecoder().Bytes(v); err == nil {
				v = out
			}
		}
		dst = append(dst, flatten(bytes.ToValidUTF8(v, []byte("\uFFFD")))...)
	}
	return append(dst, '\n'), nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
