package filesrc

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"path"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"

	"github.com/atrest/atrest/audit"
)

// E-mail (RFC 5322 with MIME, .eml) and web archives (MHTML, .mht) are read
// the way a mail client shows them: the address and subject headers decoded
// (RFC 2047, GBK/GB18030/UTF-8), each body part decoded from base64 or
// quoted-printable in its charset, HTML as text, and every attachment
// scanned as a member, like a zip entry. Message-IDs, boundaries and the
// other transport headers are never scanned: they hold no one's identifier.

// maxMIMEParts bounds the parts of one message, nested ones included.
const maxMIMEParts = 10000

// mailHeaders are the headers a person reads; their values are scanned.
var mailHeaders = []string{"From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Comments", "Keywords"}

// knownHeaders are what makes a text stream a message (see isMail).
var knownHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "subject": true, "date": true, "received": true, "return-path": true,
	"message-id": true, "mime-version": true, "x-mailer": true, "content-type": true, "delivered-to": true,
	"reply-to": true, "sender": true, "content-transfer-encoding": true, "dkim-signature": true,
	"x-originating-ip": true, "thread-topic": true, "thread-index": true, "x-mimeole": true, "x-priority": true,
	"snapshot-content-location": true, "content-location": true, "in-reply-to": true, "references": true,
}

// isMail says whether head starts with an RFC 5322 header block that a mail
// client or browser wrote: only header and continuation lines up to the
// first empty line, with MIME-Version, or From with Date, Received or
// Message-ID.
func isMail(head []byte) (format string, ok bool) {
	end := bytes.Index(head, []byte("\n\n"))
	if e := bytes.Index(head, []byte("\r\n\r\n")); e >= 0 && (end < 0 || e < end) {
		end = e
	}
	if end <= 0 {
		return "", false
	}
	seen := map[string]bool{}
	n := 0
	for i, ln := range bytes.Split(head[:end], []byte("\n")) {
		ln = bytes.TrimSuffix(ln, []byte("\r"))
		if len(ln) > 0 && (ln[0] == ' ' || ln[0] == '\t') {
			if i == 0 {
				return "", false
			}
			continue
		}
		colon := bytes.IndexByte(ln, ':')
		if colon <= 0 || !isHeaderName(ln[:colon]) {
			return "", false
		}
		name := strings.ToLower(string(ln[:colon]))
		if knownHeaders[name] || strings.HasPrefix(name, "x-") {
			seen[name] = true
		}
		n++
	}
	if n < 2 || !(seen["mime-version"] || seen["from"] && (seen["date"] || seen["received"] || seen["message-id"])) {
		return "", false
	}
	if ct := headerValue(head[:end], "content-type"); strings.Contains(strings.ToLower(ct), "multipart/related") && !seen["from"] {
		return "mht", true
	}
	return "eml", true
}

func isHeaderName(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// headerValue finds the first value of a header in a raw block (no unfolding).
func headerValue(block []byte, name string) string {
	for _, ln := range bytes.Split(block, []byte("\n")) {
		if colon := bytes.IndexByte(ln, ':'); colon > 0 && strings.EqualFold(string(ln[:colon]), name) {
			return strings.TrimSpace(string(ln[colon+1:]))
		}
	}
	return ""
}

// mailReader reads one message, nested messages included.
type mailReader struct {
	fc     *fileCtx
	m      *members
	format string
	parts  int
	wd     *mime.WordDecoder
}

// mail reads a message from r: its headers are one member ("headers"), each
// part another.
func (fc *fileCtx) mail(n node, r io.Reader, format string) result {
	if res, deep := fc.tooDeep(n, format); deep {
		return res
	}
	mr := &mailReader{fc: fc, m: fc.members(format), format: format, wd: &mime.WordDecoder{CharsetReader: charsetReader}}
	mr.message(n, r, n.member)
	return mr.m.result(nil)
}

func charsetReader(label string, in io.Reader) (io.Reader, error) {
	e, err := htmlindex.Get(label)
	if err != nil {
		return nil, fmt.Errorf("unknown charset %q", label)
	}
	return transform.NewReader(in, e.NewDecoder()), nil
}

// message reads headers and body of one message; prefix names its members.
func (mr *mailReader) message(n node, r io.Reader, prefix string) {
	msg, err := mail.ReadMessage(bufio.NewReader(r))
	if err != nil {
		mr.m.add(joinMember(prefix, "headers"), 0, result{state: audit.StateError, notRead: notReadError, reason: mr.format + ": " + err.Error()})
		return
	}
	var hdr bytes.Buffer
	for _, name := range mailHeaders {
		for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(name)] {
			dec, err := mr.wd.DecodeHeader(v)
			if err != nil {
				dec = v
			}
			hdr.WriteString(name + ": " + strings.Join(strings.Fields(dec), " ") + "\n")
		}
	}
	if hdr.Len() > 0 {
		name := joinMember(prefix, "headers")
		res := mr.fc.unit(node{member: name, format: mr.format, depth: n.depth + 1}, "utf-8", &hdr)
		res.format = mr.format
		mr.m.add(name, int64(hdr.Len()), res)
	}
	mr.part(n, textproto.MIMEHeader(msg.Header), msg.Body, prefix, "body")
}

// part reads one MIME entity: a multipart is walked, a message recursed
// into, a leaf decoded and scanned.
func (mr *mailReader) part(n node, h textproto.MIMEHeader, body io.Reader, prefix, fallback string) {
	if mr.parts++; mr.parts > maxMIMEParts || mr.fc.w.ctx.Err() != nil {
		return
	}
	ctype, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ctype, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(ctype, "multipart/") && params["boundary"] != "" {
		mp := multipart.NewReader(body, params["boundary"])
		for i := 1; ; i++ {
			p, err := mp.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				mr.m.add(joinMember(prefix, fmt.Sprintf("part %d", i)), 0, mr.fc.fail(fmt.Errorf("%s: %w", mr.format, err)))
				return
			}
			mr.part(n, p.Header, p, prefix, fmt.Sprintf("%s.%d", fallback, i))
			if mr.parts > maxMIMEParts {
				return
			}
		}
	}
	decoded := transferDecode(h.Get("Content-Transfer-Encoding"), body)
	name := mr.partName(h, params, ctype, fallback)
	member := joinMember(prefix, name)
	inner := node{member: member, format: mr.format, depth: n.depth + 1}
	var res result
	switch {
	case ctype == "message/rfc822" || ctype == "message/global":
		if r, deep := mr.fc.tooDeep(inner, mr.format); deep {
			res = r
			break
		}
		mr.message(inner, decoded, member)
		return
	case ctype == "text/html" || ctype == "text/plain":
		text := io.Reader(decoded)
		enc := "utf-8"
		if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
			if e, err := htmlindex.Get(cs); err == nil {
				text, enc = transform.NewReader(decoded, e.NewDecoder()), strings.ToLower(cs)
			}
		}
		if ctype == "text/html" {
			text = newHTMLText(text)
		}
		res = mr.fc.unit(inner, enc, text)
		res.format = mr.format
	default:
		// An attachment: classified by content like a zip member.
		res = mr.fc.stream(inner, &prefixReader{r: decoded, prefix: mr.format}, nil, -1)
	}
	mr.m.add(member, 0, res)
}

// partName is the attachment's file name (RFC 2231 or RFC 2047 encoded),
// else the fallback with an extension for the body parts.
func (mr *mailReader) partName(h textproto.MIMEHeader, params map[string]string, ctype, fallback string) string {
	name := ""
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = dp["filename"]
	}
	if name == "" {
		name = params["name"]
	}
	if name != "" {
		if dec, err := mr.wd.DecodeHeader(name); err == nil {
			name = dec
		}
		name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	}
	if name == "" || name == "." || name == "/" {
		switch ctype {
		case "text/html":
			return fallback + ".html"
		case "text/plain":
			return fallback + ".txt"
		}
		return fallback
	}
	return name
}

// transferDecode undoes a Content-Transfer-Encoding.
func transferDecode(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		// The decoder skips line ends; other stray bytes end the part with
		// an error, which is reported.
		return base64.NewDecoder(base64.StdEncoding, &base64Clean{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// base64Clean drops the blanks that some mailers put in base64 bodies.
type base64Clean struct{ r io.Reader }

func (b *base64Clean) Read(p []byte) (int, error) {
	for {
		n, err := b.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c != ' ' && c != '\t' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}
