package mysql

import (
	"errors"
	"strings"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/atrest/atrest/engine"
)

// LoadError is the engine's: a statement of a dump that failed to load,
// named by number, line, verb and table, never by its text.
type LoadError = engine.LoadError

// binlogHint is what a drill server that refuses triggers and routines
// (error 1419) needs.
const binlogHint = "the drill user may not create triggers or routines while the target keeps a binary log: set log_bin_trust_function_creators=1 on the drill server (or give the user SUPER)"

// newLoadError names a failed statement. err is the server's error (its
// quoted values are elided here), a transport error, or a parse error of
// the input (engine.ErrTruncated and the like); the server refused the
// statement when err is one of its errors.
func newLoadError(num int64, line int, verb, table string, err error) *LoadError {
	var me *mysqldrv.MySQLError
	e := &LoadError{Statement: num, Line: line, Verb: verb, Table: table, Err: redactErr(err), Refused: errors.As(err, &me)}
	if isCode(err, 1419) {
		e.Hint = binlogHint
	}
	return e
}

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
