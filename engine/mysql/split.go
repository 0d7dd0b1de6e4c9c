package mysql

import (
	"bytes"
	"fmt"
	"io"

	"github.com/atrest/atrest/engine"
)

// splitter cuts a SQL script into statements as the mysql client does: it
// honours quotes ('…', "…", `…`, with backslash escapes and doubled quotes),
// comments (-- , #, /* */; a /*! */ or /*M! */ comment is code to the
// server and stays in the statement), and DELIMITER lines. Memory holds the
// read buffer and one statement.
type splitter struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	rerr     error
	delim    []byte
	special  [256]bool // bytes that end a plain run inside a statement
	max      int
	line     int  // line of buf[pos], 1-based
	complete bool // "-- Dump completed" came after the last statement
}

// truncated is the error for input that ends too soon: the reader's own
// error if it had one (a failed decryption, say), else engine.ErrTruncated.
func (s *splitter) truncated() error {
	if s.rerr != nil {
		return s.rerr
	}
	return engine.ErrTruncated
}

func newSplitter(r io.Reader, maxStmt int) *splitter {
	s := &splitter{r: r, buf: make([]byte, 256<<10), max: maxStmt, line: 1}
	s.setDelimiter([]byte(";"))
	return s
}

func (s *splitter) setDelimiter(d []byte) {
	s.delim = append([]byte(nil), d...)
	s.special = [256]bool{}
	for _, c := range []byte("'\"`-#/\n") {
		s.special[c] = true
	}
	s.special[d[0]] = true
}

// fill makes at least n bytes available from pos unless the input ends
// first; it returns what is available.
func (s *splitter) peek(n int) []byte {
	for s.end-s.pos < n && !s.eof {
		if s.pos > 0 && (s.end == s.pos || s.end == len(s.buf)) {
			copy(s.buf, s.buf[s.pos:s.end])
			s.end -= s.pos
			s.pos = 0
		}
		if s.end == len(s.buf) {
			nb := make([]byte, 2*len(s.buf))
			copy(nb, s.buf[:s.end])
			s.buf = nb
		}
		m, err := s.r.Read(s.buf[s.end:])
		s.end += m
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
		}
	}
	return s.buf[s.pos:min(s.end, s.pos+n)]
}

// next returns the next statement, without its delimiter and the blanks
// and comments before it, in dst's storage, and the line it starts on.
func (s *splitter) next(dst []byte) (stmt []byte, line int, err error) {
	if err := s.skipToStatement(); err != nil {
		return dst[:0], s.line, err
	}
	s.complete = false
	line = s.line
	stmt, err = s.body(dst[:0])
	return stmt, line, err
}

// skipToStatement passes blanks, comments, empty statements and client
// commands (DELIMITER, the sandbox-mode line of new mariadb-dump) up to the
// first byte of a statement; io.EOF if there is none.
func (s *splitter) skipToStatement() error {
	for {
		b := s.peek(1)
		if len(b) == 0 {
			if s.rerr != nil {
				return s.rerr
			}
			return io.EOF
		}
		switch c := b[0]; {
		case c == '\n':
			s.line++
			s.pos++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			s.pos++
		case c == '#' || c == '-' && isLineComment(s.peek(3)):
			if bytes.HasPrefix(s.peek(17), []byte("-- Dump completed")) {
				s.complete = true
			}
			s.skipLine()
		case c == '/' && bytes.HasPrefix(s.peek(12), []byte("/*M!999999\\-")):
			// mariadb-dump's "/*M!999999\- enable the sandbox mode */": a
			// client command, not SQL.
			if err := s.skipBlock(); err != nil {
				return err
			}
		case c == '/' && isPlainComment(s.peek(4)):
			if err := s.skipBlock(); err != nil {
				return err
			}
		case (c == 'd' || c == 'D') && isDelimiterCommand(s.peek(10)):
			l := s.readLine()
			f := bytes.Fields(l[len("delimiter"):])
			if len(f) == 0 {
				return fmt.Errorf("line %d: DELIMITER without a delimiter", s.line-1)
			}
			s.setDelimiter(f[0])
		case bytes.Equal(s.peek(len(s.delim)), s.delim):
			s.pos += len(s.delim) // empty statement
		default:
			return nil
		}
	}
}

func isLineComment(b []byte) bool {
	return len(b) >= 2 && b[0] == '-' && b[1] == '-' && (len(b) == 2 || b[2] <= ' ')
}

// isPlainComment: /* … */ that is not /*! or /*M! (those are code).
func isPlainComment(b []byte) bool {
	if len(b) < 2 || b[0] != '/' || b[1] != '*' {
		return false
	}
	return !(len(b) > 2 && b[2] == '!') && !(len(b) > 3 && b[2] == 'M' && b[3] == '!')
}

func isDelimiterCommand(b []byte) bool {
	return len(b) == 10 && bytes.EqualFold(b[:9], []byte("delimiter")) && (b[9] == ' ' || b[9] == '\t')
}

// skipLine passes the rest of the line and its newline.
func (s *splitter) skipLine() {
	for {
		if s.pos == s.end && len(s.peek(1)) == 0 {
			return
		}
		if i := bytes.IndexByte(s.buf[s.pos:s.end], '\n'); i >= 0 {
			s.pos += i + 1
			s.line++
			return
		}
		s.pos = s.end
	}
}

// readLine returns the rest of the line (a client command), without the newline.
func (s *splitter) readLine() []byte {
	var l []byte
	for {
		if s.pos == s.end && len(s.peek(1)) == 0 {
			return l
		}
		if i := bytes.IndexByte(s.buf[s.pos:s.end], '\n'); i >= 0 {
			l = append(l, s.buf[s.pos:s.pos+i]...)
			s.pos += i + 1
			s.line++
			return bytes.TrimRight(l, "\r")
		}
		l = append(l, s.buf[s.pos:s.end]...)
		s.pos = s.end
	}
}

// skipBlock passes a /* … */ comment.
func (s *splitter) skipBlock() error {
	s.pos += 2
	for {
		b := s.peek(2)
		if len(b) < 2 {
			s.pos += len(b)
			return s.truncated()
		}
		if b[0] == '*' && b[1] == '/' {
			s.pos += 2
			return nil
		}
		if b[0] == '\n' {
			s.line++
		}
		s.pos++
	}
}

// body copies a statement up to its delimiter.
func (s *splitter) body(stmt []byte) ([]byte, error) {
	for {
		if len(stmt) > s.max {
			return stmt, fmt.Errorf("statement larger than %d bytes", s.max)
		}
		if s.pos == s.end && len(s.peek(1)) == 0 {
			if s.rerr != nil {
				return stmt, s.rerr
			}
			if len(bytes.TrimSpace(stmt)) == 0 {
				return stmt, io.EOF
			}
			return stmt, s.truncated()
		}
		c := s.buf[s.pos]
		var err error
		switch {
		case c == '\'' || c == '"' || c == '`':
			stmt, err = s.quoted(stmt, c)
		case c == '\n':
			s.line++
			s.pos++
			stmt = append(stmt, c)
		case c == s.delim[0] && bytes.Equal(s.peek(len(s.delim)), s.delim):
			s.pos += len(s.delim)
			return stmt, nil
		case c == '#' || c == '-' && isLineComment(s.peek(3)):
			stmt = s.copyLine(stmt)
		case c == '/' && isPlainComment(s.peek(4)):
			stmt, err = s.copyBlock(stmt)
		default:
			j := s.pos + 1
			for j < s.end && !s.special[s.buf[j]] {
				j++
			}
			stmt = append(stmt, s.buf[s.pos:j]...)
			s.pos = j
		}
		if err != nil {
			return stmt, err
		}
	}
}

// quoted copies a quoted string or identifier, opening quote at pos.
func (s *splitter) quoted(stmt []byte, q byte) ([]byte, error) {
	stmt = append(stmt, q)
	s.pos++
	escapes := q != '`'
	for {
		if s.pos == s.end && len(s.peek(1)) == 0 {
			return stmt, s.truncated()
		}
		chunk := s.buf[s.pos:s.end]
		i := 0
		for i < len(chunk) && chunk[i] != q && !(escapes && chunk[i] == '\\') {
			i++
		}
		s.line += bytes.Count(chunk[:i], []byte{'\n'})
		stmt = append(stmt, chunk[:i]...)
		s.pos += i
		if i == len(chunk) {
			if len(stmt) > s.max {
				return stmt, fmt.Errorf("statement larger than %d bytes", s.max)
			}
			continue
		}
		if chunk[i] == '\\' {
			b := s.peek(2)
			if len(b) < 2 {
				return stmt, s.truncated()
			}
			if b[1] == '\n' {
				s.line++
			}
			stmt = append(stmt, b...)
			s.pos += 2
			continue
		}
		// The closing quote, or a doubled one standing for itself.
		if b := s.peek(2); len(b) == 2 && b[1] == q {
			stmt = append(stmt, q, q)
			s.pos += 2
			continue
		}
		stmt = append(stmt, q)
		s.pos++
		return stmt, nil
	}
}

// copyLine copies a line comment and its newline into the statement (it
// may sit inside a routine body, which keeps it).
func (s *splitter) copyLine(stmt []byte) []byte {
	for {
		if s.pos == s.end && len(s.peek(1)) == 0 {
			return stmt
		}
		if i := bytes.IndexByte(s.buf[s.pos:s.end], '\n'); i >= 0 {
			stmt = append(stmt, s.buf[s.pos:s.pos+i+1]...)
			s.pos += i + 1
			s.line++
			return stmt
		}
		stmt = append(stmt, s.buf[s.pos:s.end]...)
		s.pos = s.end
	}
}

func (s *splitter) copyBlock(stmt []byte) ([]byte, error) {
	stmt = append(stmt, '/', '*')
	s.pos += 2
	for {
		b := s.peek(2)
		if len(b) < 2 {
			return stmt, s.truncated()
		}
		if b[0] == '*' && b[1] == '/' {
			s.pos += 2
			return append(stmt, '*', '/'), nil
		}
		if b[0] == '\n' {
			s.line++
		}
		stmt = append(stmt, b[0])
		s.pos++
	}
}
