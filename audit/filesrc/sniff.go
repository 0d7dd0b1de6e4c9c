package filesrc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// sniffLen is how much of a stream is looked at before deciding what it is.
const sniffLen = 64 << 10

type kind int

const (
	kindText kind = iota
	kindEncrypted
	kindBinary
	kindSkipped
	kindGzip
	kindZstd
	kindBzip2
	kindZip
	kindTar
	kindOLE2
	kindMail
	kindRTF
	kindPDF
	kindXz
	kind7z
	kindRar
	kindDBF
	kindSQLite
)

// sniffed is the verdict on a stream's first bytes.
type sniffed struct {
	kind   kind
	format string // container or file format where known (gzip, zip, age, pdf …)
	reason string // for encrypted, binary and skipped
	// notRead is the class of a skipped stream that could hold text
	// (FileRecord.NotRead).
	notRead string
	dbf     dbfHeader // for dbf: the table's header
	enc     string    // for text: utf-8, utf-16le, utf-16be, gb18030, unknown-8bit
	bom     bool      // for text: a byte-order mark to drop
	repair  bool      // for utf-8: replace ill-formed sequences
}

type magic struct {
	off    int
	prefix string
	s      sniffed
}

// magics are tried in order; the first match decides. Encryption is claimed
// only here, from a header that a tool wrote: entropy alone never makes a
// file "encrypted" (see sniffText).
var magics = []magic{
	{0, "\x1f\x8b\x08", sniffed{kind: kindGzip, format: "gzip"}},
	{0, "\x28\xb5\x2f\xfd", sniffed{kind: kindZstd, format: "zstd"}},
	{0, "PK\x03\x04", sniffed{kind: kindZip, format: "zip"}},
	{0, "PK\x05\x06", sniffed{kind: kindZip, format: "zip"}}, // empty archive
	{0, "age-encryption.org/v1\n", sniffed{kind: kindEncrypted, format: "age", reason: "age v1 header"}},
	{0, "Salted__", sniffed{kind: kindEncrypted, format: "openssl", reason: "openssl Salted__ header"}},
	{0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", sniffed{kind: kindOLE2, format: "ole2"}},
	{0, "LUKS\xba\xbe", sniffed{kind: kindEncrypted, format: "luks", reason: "luks header"}},
	{0, "$ANSIBLE_VAULT;", sniffed{kind: kindEncrypted, format: "ansible-vault", reason: "ansible vault header"}},
	{0, "VimCrypt~", sniffed{kind: kindEncrypted, format: "vim", reason: "vim encryption header"}},
	{0, "%PDF-", sniffed{kind: kindPDF, format: "pdf"}},
	{0, "{\\rtf", sniffed{kind: kindRTF, format: "rtf"}},
	{0, "SQLite format 3\x00", sniffed{kind: kindSQLite, format: "sqlite"}},
	{0, "\xfd7zXZ\x00", sniffed{kind: kindXz, format: "xz"}},
	{0, "7z\xbc\xaf\x27\x1c", sniffed{kind: kind7z, format: "7z"}},
	{0, "Rar!\x1a\x07", sniffed{kind: kindRar, format: "rar"}},
	{0, "\x04\x22\x4d\x18", sniffed{kind: kindSkipped, format: "lz4", reason: "lz4 stream not parsed", notRead: "lz4"}},
	{0, "\x7fELF", sniffed{kind: kindBinary, format: "elf", reason: "elf executable"}},
	{0, "\xfe\xed\xfa\xce", sniffed{kind: kindBinary, format: "mach-o", reason: "mach-o executable"}},
	{0, "\xfe\xed\xfa\xcf", sniffed{kind: kindBinary, format: "mach-o", reason: "mach-o executable"}},
	{0, "\xce\xfa\xed\xfe", sniffed{kind: kindBinary, format: "mach-o", reason: "mach-o executable"}},
	{0, "\xcf\xfa\xed\xfe", sniffed{kind: kindBinary, format: "mach-o", reason: "mach-o executable"}},
	{0, "\x00asm", sniffed{kind: kindBinary, format: "wasm", reason: "webassembly module"}},
	{0, "\x89PNG\r\n\x1a\n", sniffed{kind: kindBinary, format: "png", reason: "png image"}},
	{0, "\xff\xd8\xff", sniffed{kind: kindBinary, format: "jpeg", reason: "jpeg image"}},
	{0, "GIF87a", sniffed{kind: kindBinary, format: "gif", reason: "gif image"}},
	{0, "GIF89a", sniffed{kind: kindBinary, format: "gif", reason: "gif image"}},
	{4, "ftyp", sniffed{kind: kindBinary, format: "iso-bmff", reason: "media file (iso bmff)"}},
	{257, "ustar", sniffed{kind: kindTar, format: "tar"}},
}

// sniff decides what a stream is from its first bytes; atEOF says head is
// the whole stream.
func sniff(head []byte, atEOF bool) sniffed {
	if len(head) == 0 {
		return sniffed{kind: kindText, enc: "utf-8"}
	}
	for _, m := range magics {
		if len(head) >= m.off+len(m.prefix) && string(head[m.off:m.off+len(m.prefix)]) == m.prefix {
			return m.s
		}
	}
	if isBzip2(head) {
		return sniffed{kind: kindBzip2, format: "bzip2"}
	}
	if isPE(head) {
		return sniffed{kind: kindBinary, format: "pe", reason: "pe executable"}
	}
	if s, ok := armored(head); ok {
		return s
	}
	if isPGPEncrypted(head) {
		return sniffed{kind: kindEncrypted, format: "openpgp", reason: "openpgp encrypted message"}
	}
	if h, ok := isDBF(head); ok {
		return sniffed{kind: kindDBF, format: "dbf", dbf: h}
	}
	if format, ok := isMail(head); ok {
		return sniffed{kind: kindMail, format: format}
	}
	return sniffText(head, atEOF)
}

// isBzip2 wants the block magic (pi) after "BZh1".."BZh9", so a text file
// that happens to start with "BZh" is still text.
func isBzip2(b []byte) bool {
	return len(b) >= 10 && string(b[:3]) == "BZh" && b[3] >= '1' && b[3] <= '9' &&
		(string(b[4:10]) == "\x31\x41\x59\x26\x53\x59" || string(b[4:10]) == "\x17\x72\x45\x38\x50\x90")
}

// isPE checks the PE signature that the MZ stub points to; "MZ" alone starts
// plenty of text.
func isPE(b []byte) bool {
	if len(b) < 64 || string(b[:2]) != "MZ" {
		return false
	}
	off := int(binary.LittleEndian.Uint32(b[0x3c:]))
	return off+4 <= len(b) && string(b[off:off+4]) == "PE\x00\x00"
}

// armored recognises ASCII-armoured ciphertext, allowing leading blank space.
func armored(head []byte) (sniffed, bool) {
	b := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case bytes.HasPrefix(b, []byte("-----BEGIN AGE ENCRYPTED FILE-----")):
		return sniffed{kind: kindEncrypted, format: "age", reason: "age v1 header (armored)"}, true
	case bytes.HasPrefix(b, []byte("-----BEGIN PGP MESSAGE-----")):
		return sniffed{kind: kindEncrypted, format: "openpgp", reason: "openpgp armored message"}, true
	}
	return sniffed{}, false
}

// isPGPEncrypted recognises a binary OpenPGP message that starts with a
// public-key (tag 1) or symmetric-key (tag 3) encrypted session key packet
// (RFC 9580 §5.1, §5.3). One tag byte matches 2% of random data, so the
// packet length and the version and algorithm fields must be plausible too.
func isPGPEncrypted(b []byte) bool {
	if len(b) < 4 || b[0]&0x80 == 0 {
		return false
	}
	var tag, hdr, plen int
	if b[0]&0x40 != 0 { // new format
		tag = int(b[0] & 0x3f)
		switch l := int(b[1]); {
		case l < 192:
			hdr, plen = 2, l
		case l < 224:
			hdr, plen = 3, (l-192)<<8+int(b[2])+192
		case l == 255 && len(b) >= 6:
			hdr, plen = 6, int(binary.BigEndian.Uint32(b[2:6]))
		default:
			return false // partial lengths are not allowed for these packets
		}
	} else {
		tag = int(b[0]>>2) & 0x0f
		switch b[0] & 3 {
		case 0:
			hdr, plen = 2, int(b[1])
		case 1:
			hdr, plen = 3, int(binary.BigEndian.Uint16(b[1:3]))
		case 2:
			if len(b) < 6 {
				return false
			}
			hdr, plen = 5, int(binary.BigEndian.Uint32(b[1:5]))
		default:
			return false
		}
	}
	if plen < 4 || plen > 4096 || len(b) < hdr+4 {
		return false
	}
	body := b[hdr:]
	if len(body) < 6 {
		return false
	}
	switch tag {
	case 1: // PKESK
		switch body[0] {
		case 3: // version, 8-byte key ID, public-key algorithm
			return len(body) >= 10 && pgpPKAlgo(body[9])
		case 6: // version, size of the key fields (0, or key version 4 or 6 + fingerprint), algorithm
			n := int(body[1])
			ok := n == 0 || n == 21 && body[2] == 4 || n == 33 && body[2] == 6
			return ok && len(body) > 2+n && pgpPKAlgo(body[2+n])
		}
	case 3: // SKESK
		switch body[0] {
		case 4: // version, cipher, S2K type
			return pgpCipher(body[1]) && pgpS2K(body[2])
		case 5, 6: // version, field count, cipher, AEAD mode, S2K type
			return pgpCipher(body[2]) && body[3] >= 1 && body[3] <= 3 && pgpS2K(body[4])
		}
	}
	return false
}

func pgpPKAlgo(a byte) bool {
	switch a {
	case 1, 2, 16, 18, 25, 26: // RSA, Elgamal, ECDH, X25519, X448
		return true
	}
	return false
}

func pgpCipher(c byte) bool { return c >= 1 && c <= 13 }

func pgpS2K(t byte) bool { return t == 0 || t == 1 || t == 3 || t == 4 }

// maxCtrl is the share of control bytes above which a stream is not text.
// Logs with a few NUL-padded blocks stay text: a missed plaintext identifier
// costs more than scanning some junk.
const maxCtrl = 0.10

// maxCtrl8bit is the same for text in an encoding that was not recognised,
// where the control bytes are all the evidence there is.
const maxCtrl8bit = 0.005

// sniffText decides between text (and its encoding) and binary for a stream
// with no known header.
//
// The rule for headerless high-entropy data: it is "binary", with the entropy
// in the reason, never "encrypted". Ciphertext, compressed data (raw deflate,
// an image body) and random bytes all measure close to 8 bits/byte; calling
// them encrypted would certify as protected a file that may just be packed
// plaintext. Encryption is claimed only from a header (see magics).
func sniffText(head []byte, atEOF bool) sniffed {
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		return sniffed{kind: kindText, enc: "utf-8", bom: true}
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		if textLike16(head[2:], false, atEOF) {
			return sniffed{kind: kindText, enc: "utf-16le", bom: true}
		}
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		if textLike16(head[2:], true, atEOF) {
			return sniffed{kind: kindText, enc: "utf-16be", bom: true}
		}
	}
	if enc := utf16NoBOM(head, atEOF); enc != "" {
		return sniffed{kind: kindText, enc: enc}
	}
	ctrl := ctrlRatio(head)
	if ctrl <= maxCtrl {
		body := head
		if !atEOF {
			body = trimPartialRune(head)
		}
		multi, invalid := utf8Stats(body)
		switch {
		case invalid == 0:
			return sniffed{kind: kindText, enc: "utf-8"}
		case multi >= 10*invalid:
			// UTF-8 with a few stray bytes (a log that got one Latin-1
			// line): still UTF-8. Decoding it as GB18030 would turn every
			// Chinese word into mojibake.
			return sniffed{kind: kindText, enc: "utf-8", repair: true}
		case gb18030Clean(head, atEOF):
			return sniffed{kind: kindText, enc: "gb18030"}
		case ctrl <= maxCtrl8bit && entropy(head) < 7:
			// Some other 8-bit encoding (Latin-1, cp1251, Big5 …): identifiers
			// are ASCII in all of them, so scan it with bad sequences replaced.
			// Text in these has next to no control bytes; random or
			// compressed data has one byte in nine.
			return sniffed{kind: kindText, enc: "unknown-8bit"}
		}
	}
	s := sniffed{kind: kindBinary}
	if h := entropy(head); len(head) >= 1024 && h >= 7.5 {
		s.reason = fmt.Sprintf("high-entropy data without a known header (%.2f bits/byte): compressed, random or encrypted cannot be told apart", h)
	} else if ctrl > maxCtrl {
		s.reason = fmt.Sprintf("binary data (%.0f%% control bytes)", 100*ctrl)
	} else {
		s.reason = "binary data (not utf-8, utf-16 or gb18030 text)"
	}
	return s
}

// ctrlRatio is the share of C0 control bytes other than tab, line feed,
// vertical tab, form feed, carriage return and escape, plus DEL.
func ctrlRatio(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	n := 0
	for _, c := range b {
		if (c < 0x20 && (c < 0x09 || c > 0x0d) && c != 0x1b) || c == 0x7f {
			n++
		}
	}
	return float64(n) / float64(len(b))
}

func entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	h, n := 0.0, float64(len(b))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// utf8Stats counts the multi-byte characters and the invalid bytes of b.
func utf8Stats(b []byte) (multi, invalid int) {
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			invalid++
		} else {
			multi++
		}
		b = b[size:]
	}
	return multi, invalid
}

// trimPartialRune drops a multi-byte sequence cut off by the end of the
// sniff window.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// gb18030Clean reports whether b decodes as GB18030 without a single invalid
// sequence. Latin-1 and random bytes fail quickly: a high byte must be
// followed by a valid trail byte.
func gb18030Clean(b []byte, atEOF bool) bool {
	dst := make([]byte, 3*len(b)+16)
	n, _, _ := simplifiedchinese.GB18030.NewDecoder().Transform(dst, b, atEOF)
	return !bytes.ContainsRune(dst[:n], utf8.RuneError)
}

// utf16NoBOM spots UTF-16 without a byte-order mark from its zero bytes:
// mostly-ASCII UTF-16 has a NUL in every other byte and almost none in the
// others. Text in CJK scripts without a BOM is not detected (nothing cheap
// tells it from binary).
func utf16NoBOM(b []byte, atEOF bool) string {
	if len(b) < 16 {
		return ""
	}
	var zero [2]int
	for i, c := range b {
		if c == 0 {
			zero[i&1]++
		}
	}
	half := float64(len(b) / 2)
	switch {
	case float64(zero[1]) > 0.5*half && float64(zero[0]) < 0.02*half && textLike16(b, false, atEOF):
		return "utf-16le"
	case float64(zero[0]) > 0.5*half && float64(zero[1]) < 0.02*half && textLike16(b, true, atEOF):
		return "utf-16be"
	}
	return ""
}

// textLike16 decodes b as UTF-16 and checks the result looks like text.
func textLike16(b []byte, bigEndian, atEOF bool) bool {
	if !atEOF {
		b = b[:len(b)&^1]
	}
	order := unicode.LittleEndian
	if bigEndian {
		order = unicode.BigEndian
	}
	dst := make([]byte, 2*len(b)+16)
	n, _, _ := unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder().Transform(dst, b, atEOF)
	return plausibleText(dst[:n])
}

// plausibleText reports whether nine in ten characters of decoded UTF-16 fall
// in the blocks that text is written in. Any pair of bytes decodes as UTF-16,
// so random data after a chance FF FE needs this; it lands in those blocks
// about 60% of the time (CJK and Hangul are large).
func plausibleText(b []byte) bool {
	total, ok := 0, 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		total++
		for _, rg := range textBlocks {
			if r >= rg[0] && r <= rg[1] {
				ok++
				break
			}
		}
	}
	return total == 0 || float64(ok) >= 0.9*float64(total)
}

var textBlocks = [][2]rune{
	{'\t', '\n'}, {'\r', '\r'}, {0x20, 0x7e}, {0xa0, 0x52f}, // ASCII, Latin, Greek, Cyrillic
	{0x590, 0x6ff}, {0x900, 0x97f}, {0xe00, 0xe7f}, // Hebrew, Arabic, Devanagari, Thai
	{0x2000, 0x27bf},                                                       // punctuation, symbols, box drawing
	{0x3000, 0x30ff}, {0x3400, 0x4dbf}, {0x4e00, 0x9fff}, {0xac00, 0xd7a3}, // CJK, kana, Hangul
	{0xfeff, 0xfeff}, {0xff00, 0xffef}, // BOM, full-width forms
}
