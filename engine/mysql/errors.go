package mysql

import (
	"errors"
	"fmt"
	"strings"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// LoadError is a statement of a dump that failed to load. It names the
// statement by number and line, its verb and table, never its text: a
// backup's statements carry personal data.
type LoadError struct {
	Statement int64  // 1-based number of the statement in the input
	Line      int    // line of the input where it starts
	Verb      string // INSERT, CREATE TABLE, …
	Table     string // `db`.`table` when the statement has one
	// Err is the server's error (a go-sql-driver *MySQLError whose message has its
	// quoted values elided), a transport error, or a parse error of the
	// input (errTruncated and the like).
	Err error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "load: statement %d (line %d", e.Statement, e.Line)
	if e.Verb != "" {
		b.WriteString(", " + e.Verb)
	}
	if e.Table != "" {
		b.WriteString(" " + e.Table)
	}
	b.WriteString("): ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// SQL reports whether the server refused the statement (a restore failure),
// as opposed to the connection failing or the input being malformed.
func (e *LoadError) SQL() bool {
	var me *mysqldrv.MySQLError
	return errors.As(e.Err, &me)
}

// Truncated reports whether the input ended inside a statement.
func (e *LoadError) Truncated() bool { return errors.Is(e.Err, errTruncated) }

// redactErr returns err with the quoted values of a server message elided.
func redactErr(err error) error {
	var me *mysqldrv.MySQLError
	if !errors.As(err, &me) {
		return err
	}
	cp := *me
	cp.Message = redactMessage(me.Message)
	return &cp
}

// redactMessage elides the quoted text that server messages copy from the
// statement: "Duplicate entry '…'", "Incorrect … value: '…'", "near '…'".
// Quoted names (keys, columns) stay.
func redactMessage(m string) string {
	var b strings.Builder
	for {
		i, n := nextValueQuote(m)
		if i < 0 {
			b.WriteString(m)
			return b.String()
		}
		b.WriteString(m[:i+n])
		rest := m[i+n:]
		j := closingQuote(rest)
		b.WriteString("…'")
		if j < 0 {
			return b.String()
		}
		m = rest[j+1:]
	}
}

// nextValueQuote finds the next "<marker> '" that introduces a value and
// returns its index and length up to and including the quote.
func nextValueQuote(m string) (int, int) {
	best, blen := -1, 0
	lower := strings.ToLower(m)
	for _, marker := range []string{"entry '", "value: '", "value '", "near '", "for '", "string '"} {
		if i := strings.Index(lower, marker); i >= 0 && (best < 0 || i < best) {
			best, blen = i, len(marker)
		}
	}
	return best, blen
}

// closingQuote finds the quote that ends a value copied into a message: the
// last quote followed by the end, a blank or punctuation, since the value
// itself may hold quotes.
func closingQuote(s string) int {
	for _, follow := range []string{"' for key", "' for column", "' at line", "' at row"} {
		if i := strings.Index(s, follow); i >= 0 {
			return i
		}
	}
	return strings.LastIndexByte(s, '\'')
}
