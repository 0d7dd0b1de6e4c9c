package postgres

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/atrest/atrest/engine"
)

// script cuts a psql script (atrest's dumps, pg_dump's plain format) into
// what psql would run: SQL statements ended by a semicolon outside quotes,
// comments, dollar quotes and parentheses; backslash commands, one line
// each; and the data lines that follow COPY … FROM stdin up to the line
// \. — read with copyData. Memory holds the read buffer and one
// statement; COPY data streams.
type script struct {
	r    *bufio.Reader
	max  int
	line int // line of the next byte, 1-based
	stmt []byte
	tail engine.Tail // the input's last bytes, for the trailer
}

// read is how many bytes of the input the script has consumed (with what
// its buffer holds ahead).
func (s *script) read() int64 { return s.tail.N }

// item kinds.
const (
	itemSQL  = iota
	itemCopy // a COPY … FROM stdin statement: its data follows
	itemMeta // a backslash command
)

type item struct {
	kind int
	text []byte // without the final semicolon or newline; valid until the next call
	line int
}

func newScript(r io.Reader, maxStmt int) *script {
	s := &script{max: maxStmt, line: 1, tail: engine.Tail{Max: 256}}
	s.r = bufio.NewReaderSize(io.TeeReader(r, &s.tail), 256<<10)
	return s
}

// errLong: a statement longer than the limit (a corrupt or hostile input
// must not fill memory).
var errLong = errors.New("statement longer than the limit")

func (s *script) byte() (byte, error) {
	c, err := s.r.ReadByte()
	if err == nil && c == '\n' {
		s.line++
	}
	return c, err
}

func (s *script) peek() byte {
	b, err := s.r.Peek(1)
	if err != nil {
		return 0
	}
	return b[0]
}

func (s *script) add(c byte) error {
	if len(s.stmt) >= s.max {
		return errLong
	}
	s.stmt = append(s.stmt, c)
	return nil
}

// truncated is the error for input that ends inside something: the
// reader's own error if it had one (a failed decryption, say).
func truncated(err error) error {
	if err == io.EOF || err == nil {
		return engine.ErrTruncated
	}
	return err
}

// next returns the next item, or io.EOF at the end of the input.
func (s *script) next() (item, error) {
	s.stmt = s.stmt[:0]
	start := 0
	depth := 0
	for {
		c, err := s.byte()
		if err != nil {
			if err == io.EOF && len(s.stmt) == 0 {
				return item{}, io.EOF
			}
			return item{}, truncated(err)
		}
		// Leading blanks and comments are never kept: an empty statement
		// is one that has not started.
		empty := len(s.stmt) == 0
		if empty {
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' {
				continue
			}
			start = s.line
		}
		switch {
		case c == '\\' && empty:
			return s.meta(start)
		case c == '-' && s.peek() == '-':
			if err := s.lineComment(empty); err != nil {
				return item{}, err
			}
			continue
		case c == '/' && s.peek() == '*':
			if err := s.blockComment(empty); err != nil {
				return item{}, err
			}
			continue
		case c == '\'':
			if err := s.add(c); err != nil {
				return item{}, err
			}
			if err := s.quoted('\'', s.escapeString()); err != nil {
				return item{}, err
			}
			continue
		case c == '"':
			if err := s.add(c); err != nil {
				return item{}, err
			}
			if err := s.quoted('"', false); err != nil {
				return item{}, err
			}
			continue
		case c == '$':
			if err := s.add(c); err != nil {
				return item{}, err
			}
			if err := s.dollar(); err != nil {
				return item{}, err
			}
			continue
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == ';' && depth == 0:
			if !isCopyFromStdin(s.stmt) {
				return item{kind: itemSQL, text: s.stmt, line: start}, nil
			}
			// The data starts on the next line, as psql reads it.
			for c != '\n' {
				if c, err = s.byte(); err != nil {
					return item{}, truncated(err)
				}
			}
			return item{kind: itemCopy, text: s.stmt, line: start}, nil
		}
		if err := s.add(c); err != nil {
			return item{}, err
		}
	}
}

// meta reads a backslash command to the end of its line.
func (s *script) meta(start int) (item, error) {
	s.stmt = append(s.stmt[:0], '\\')
	for {
		c, err := s.byte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return item{}, err
		}
		if c == '\n' {
			break
		}
		if err := s.add(c); err != nil {
			return item{}, err
		}
	}
	return item{kind: itemMeta, text: bytes.TrimRight(s.stmt, "\r"), line: start}, nil
}

// lineComment skips a -- comment; inside a statement it becomes a blank.
func (s *script) lineComment(empty bool) error {
	for {
		c, err := s.byte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if c == '\n' {
			if !empty {
				return s.add('\n')
			}
			return nil
		}
	}
}

// blockComment skips a /* */ comment, which nests.
func (s *script) blockComment(empty bool) error {
	s.byte() // the '*'
	depth := 1
	for depth > 0 {
		c, err := s.byte()
		if err != nil {
			return truncated(err)
		}
		switch {
		case c == '/' && s.peek() == '*':
			s.byte()
			depth++
		case c == '*' && s.peek() == '/':
			s.byte()
			depth--
		}
	}
	if !empty {
		return s.add(' ')
	}
	return nil
}

// escapeString: the quote just read opens an E'…' string, in which
// backslashes escape (the E is the statement's last byte, not the end of
// a longer word).
func (s *script) escapeString() bool {
	n := len(s.stmt)
	if n < 2 || (s.stmt[n-2] != 'E' && s.stmt[n-2] != 'e') {
		return false
	}
	return n < 3 || !isIdentByte(s.stmt[n-3])
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// keep reads and keeps one byte inside a quoted run, which the input
// must not end in.
func (s *script) keep() (byte, error) {
	c, err := s.byte()
	if err != nil {
		return 0, truncated(err)
	}
	return c, s.add(c)
}

// quoted copies a quoted string or identifier to its closing quote; a
// doubled quote stands for itself.
func (s *script) quoted(q byte, backslash bool) error {
	for {
		c, err := s.keep()
		if err != nil {
			return err
		}
		switch {
		case backslash && c == '\\':
			if _, err := s.keep(); err != nil {
				return err
			}
		case c == q && s.peek() == q:
			s.byte()
			if err := s.add(q); err != nil {
				return err
			}
		case c == q:
			return nil
		}
	}
}

// dollar copies a $tag$…$tag$ string whose opening $ was just read; a $
// that opens none ($1, a$b) is left as it is.
func (s *script) dollar() error {
	n := len(s.stmt)
	if n >= 2 && isIdentByte(s.stmt[n-2]) {
		return nil // inside a word: not a quote
	}
	tag := []byte{'$'}
	for {
		b, err := s.r.Peek(len(tag))
		if err != nil || len(b) < len(tag) {
			return nil
		}
		c := b[len(tag)-1]
		if c == '$' {
			break
		}
		if !isIdentByte(c) || (len(tag) == 1 && c >= '0' && c <= '9') {
			return nil // $1 or a lone $
		}
		tag = append(tag, c)
	}
	// Consume the rest of the opening tag.
	for range len(tag) {
		c, _ := s.byte()
		if err := s.add(c); err != nil {
			return err
		}
	}
	full := append(append([]byte{}, tag...), '$') // $tag$
	for {
		c, err := s.keep()
		if err != nil {
			return err
		}
		if c == '$' && bytes.HasSuffix(s.stmt, full) && len(s.stmt) >= 2*len(full) {
			return nil
		}
	}
}

// isCopyFromStdin: COPY … FROM STDIN, whose data lines follow in the
// script. COPY to or from a file or a program never is.
func isCopyFromStdin(stmt []byte) bool {
	w := words(stmt, 1)
	if len(w) == 0 || w[0] != "COPY" {
		return false
	}
	u := strings.ToUpper(string(stmt))
	i := strings.LastIndex(u, " FROM ")
	if i < 0 {
		i = strings.LastIndex(u, "\nFROM ")
	}
	if i < 0 {
		return false
	}
	rest := strings.Fields(u[i+6:])
	return len(rest) > 0 && (rest[0] == "STDIN" || strings.HasPrefix(rest[0], "STDIN"))
}

// copyData reads the data lines of the COPY item just returned, up to and
// not including the \. line, which it consumes.
type copyData struct {
	s    *script
	done bool
	pend []byte
}

func (s *script) copyData() *copyData { return &copyData{s: s} }

func (d *copyData) Read(p []byte) (int, error) {
	if len(d.pend) > 0 {
		n := copy(p, d.pend)
		d.pend = d.pend[n:]
		return n, nil
	}
	if d.done {
		return 0, io.EOF
	}
	line, err := d.s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A long row: hand it on in pieces.
		n := copy(p, line)
		d.pend = append(d.pend[:0], line[n:]...)
		return n, nil
	}
	if err != nil {
		// The input ended (or failed) before the \. line.
		return 0, truncated(err)
	}
	d.s.line++
	if t := bytes.TrimRight(line, "\r\n"); len(t) == 2 && t[0] == '\\' && t[1] == '.' {
		d.done = true
		return 0, io.EOF
	}
	n := copy(p, line)
	d.pend = append(d.pend[:0], line[n:]...)
	return n, nil
}

// drain reads the rest of the data (a COPY that is skipped, or failed).
func (d *copyData) drain() error {
	_, err := io.Copy(io.Discard, d)
	return err
}

// complete reports whether the input ended with the trailer (after the
// whole input was read).
func (s *script) complete() bool { return endsWithTrailer(s.tail.Bytes()) }

// endsWithTrailer: the last line that says anything is pg_dump's trailer.
// After it pg_dump writes a "--" line and, since 17.6, 16.10, 15.14, a
// \unrestrict command.
func endsWithTrailer(tail []byte) bool {
	lines := strings.Split(string(tail), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "" || l == "--" || strings.HasPrefix(l, `\unrestrict `):
			continue
		case strings.HasPrefix(l, Trailer):
			return true
		}
		return false
	}
	return false
}

// words returns up to n upper-cased leading words of a statement.
func words(stmt []byte, n int) []string {
	var out []string
	for _, f := range bytes.Fields(stmt) {
		if len(out) == n {
			break
		}
		w := strings.ToUpper(string(f))
		if i := strings.IndexAny(w, "(;"); i >= 0 {
			w = w[:i]
			if w == "" {
				break
			}
		}
		out = append(out, w)
	}
	return out
}

// copyTarget reads the table a COPY statement names.
func copyTarget(stmt []byte) (schema, name string, err error) {
	s := strings.TrimSpace(string(stmt))
	s = strings.TrimSpace(s[len("COPY"):])
	parts, _, err := qualifiedName(s)
	if err != nil || len(parts) == 0 || len(parts) > 2 {
		return "", "", fmt.Errorf("COPY names no table")
	}
	if len(parts) == 1 {
		return "", parts[0], nil
	}
	return parts[0], parts[1], nil
}

// qualifiedName reads a.b (quoted or not) from the start of s.
func qualifiedName(s string) ([]string, string, error) {
	var parts []string
	for {
		if s == "" {
			return parts, s, nil
		}
		if s[0] == '"' {
			var b strings.Builder
			i := 1
			for ; i < len(s); i++ {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b.WriteByte('"')
						i++
						continue
					}
					break
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, "", errors.New("unterminated identifier")
			}
			parts = append(parts, b.String())
			s = s[i+1:]
		} else {
			i := 0
			for i < len(s) && isIdentByte(s[i]) {
				i++
			}
			if i == 0 {
				return parts, s, nil
			}
			parts = append(parts, strings.ToLower(s[:i]))
			s = s[i:]
		}
		if s == "" || s[0] != '.' {
			return parts, s, nil
		}
		s = s[1:]
	}
}
