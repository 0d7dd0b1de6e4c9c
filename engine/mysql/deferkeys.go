package mysql

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Deferred secondary keys (LoadOptions.DeferIndexes).
//
// InnoDB inserts rows in primary key order cheaply, but keeps every
// secondary index up to date row by row, in the random order the rows'
// keys come in. Building such an index once, after the rows are in, sorts
// the keys and writes the index in order: much less work for the server.
// So Load creates a table without its secondary keys and adds them back
// with one ALTER TABLE … ADD … per table once its rows are in.
//
// The rules, each for the restored SHOW CREATE TABLE to come out
// byte-identical to the source's (a drill compares its hash):
//
//   - Only plain KEY and UNIQUE KEY definitions are deferred. PRIMARY KEY
//     stays (it is InnoDB's clustered index: the rows themselves), and so
//     do FULLTEXT keys (the server always lists them last).
//   - A table keeps all its keys when it has another kind of key. The
//     server lists a SPATIAL key, or one written inside a column
//     definition, by position among the plain keys: adding the plain keys
//     after it would reorder SHOW CREATE TABLE's lines. A key USING HASH
//     (for UNIQUE, a hash kept in a hidden column) is rare enough to leave
//     alone.
//   - Only ENGINE=InnoDB tables, and not those WITH SYSTEM VERSIONING or
//     with a PERIOD (a key may name the period), nor temporary ones (the
//     ALTER may run on another connection).
//   - At the first CREATE TABLE that holds a FOREIGN KEY (or a column's
//     REFERENCES), every key deferred so far is added back, and nothing is
//     deferred for the rest of the load: a foreign key may need the
//     referenced table's index, and InnoDB must then find it at once.
//
// The keys are added back before the first statement that could notice
// they are missing: anything but INSERT, session statements (SET, USE),
// the CREATE TABLE and single-table DROP TABLE of other tables (atrest's
// dump creates every table before any rows) and mysqldump's ALTER TABLE
// … DISABLE/ENABLE KEYS (nothing on InnoDB); also before an INSERT IGNORE
// or REPLACE into such a table (those depend on the unique keys), and at
// the end of the input. The ALTERs then run under the session settings of
// that point, as written in the dump.

// deferredKeys are the key definitions held back from one CREATE TABLE.
type deferredKeys struct {
	table *loadedTable
	keys  []string // "KEY `k` (`c`)", in the CREATE TABLE's order
	// The CREATE TABLE's statement number and line, for errors.
	num  int64
	line int
}

// alter is the statement that adds the keys back.
func (d *deferredKeys) alter() string {
	// Each key ends its line, the comma starting the next: a key's text
	// may end in a -- comment.
	return "ALTER TABLE " + tableName(d.table) + "\n  ADD " + strings.Join(d.keys, "\n, ADD ")
}

// loadError reports a failed ALTER as a failure of the CREATE TABLE the
// keys came from, the statement of the input to look at.
func (d *deferredKeys) loadError(err error) *LoadError {
	e := newLoadError(d.num, d.line, "ALTER TABLE", tableName(d.table), err)
	e.Err = fmt.Errorf("adding back the keys deferred from this CREATE TABLE: %w", e.Err)
	return e
}

// deferKeys is called for a statement other than INSERT and session ones,
// once the inserts before it are done. It adds back the deferred keys if
// the statement could notice them missing, and returns the text to run:
// for a CREATE TABLE whose keys it defers, the text without them.
func (l *loader) deferKeys(text []byte, info stmtInfo, t *loadedTable, num int64, line int) ([]byte, error) {
	if !l.opts.DeferIndexes || l.deferStopped {
		return text, nil
	}
	var c createTable
	if info.verb == "CREATE TABLE" {
		c = parseCreateTable(text)
	}
	if !l.canRunWithKeysDeferred(text, info, c) {
		if err := l.addDeferredKeys(); err != nil {
			return nil, err
		}
	}
	if c.foreignKey {
		l.deferStopped = true
		return text, nil
	}
	if len(c.keys) == 0 || t == nil {
		return text, nil
	}
	l.deferred = append(l.deferred, &deferredKeys{table: t, keys: c.keys, num: num, line: line})
	return c.stmt, nil
}

// canRunWithKeysDeferred reports whether a statement (not an INSERT) can
// run before the deferred keys are back: it neither reads nor changes the
// tables they belong to, nor needs their keys.
func (l *loader) canRunWithKeysDeferred(text []byte, info stmtInfo, c createTable) bool {
	if len(l.deferred) == 0 {
		return true
	}
	switch info.verb {
	case "CREATE TABLE":
		return c.plain && !c.foreignKey && !l.keysDeferred(l.tableOf(info))
	case "DROP TABLE":
		return !hasToken(text, ",") && !l.keysDeferred(l.tableOf(info))
	case "ALTER TABLE":
		return togglesKeys(text)
	}
	return false
}

// insertNeedsKeys reports whether an INSERT must wait for its table's
// deferred keys: INSERT IGNORE and REPLACE depend on the unique keys.
// (INSERT … ON DUPLICATE KEY UPDATE is not looked for: dump tools do not
// write it, and against a deferred UNIQUE key its duplicates would make the
// ALTER fail, not go unnoticed.)
func (l *loader) insertNeedsKeys(info stmtInfo, t *loadedTable) bool {
	return info.onDuplicates && l.keysDeferred(t)
}

// keysDeferred reports whether t has keys waiting to be added back.
func (l *loader) keysDeferred(t *loadedTable) bool {
	for _, d := range l.deferred {
		if d.table == t {
			return true
		}
	}
	return false
}

// addDeferredKeys waits for the inserts in flight, then adds back every
// table's deferred keys, on the insert connections when there are several,
// and waits for the ALTERs.
func (l *loader) addDeferredKeys() error {
	if len(l.deferred) == 0 {
		return nil
	}
	l.inflight.Wait()
	if err := l.Err(); err != nil {
		return err
	}
	todo := l.deferred
	l.deferred = nil
	for _, d := range todo {
		if err := l.addKeys(d); err != nil {
			return err
		}
	}
	l.inflight.Wait()
	return l.Err()
}

func (l *loader) addKeys(d *deferredKeys) error {
	stmt := d.alter()
	if l.opts.Parallel > 1 {
		// A buffer from the free list, as for an INSERT, so the number of
		// statements in memory stays bounded the same way.
		buf := append((<-l.free)[:0], stmt...)
		return l.dispatch(job{stmt: buf, num: d.num, line: d.line, verb: "ALTER TABLE", table: d.table, keys: d})
	}
	l.res.Statements++
	if _, err := l.main.ExecContext(l.ctx, stmt); err != nil {
		return d.loadError(err)
	}
	return nil
}

// createTable is what deferring keys needs to know of a CREATE TABLE.
type createTable struct {
	// plain: CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name (…) options,
	// not TEMPORARY, LIKE or … SELECT: it defines a new table and reads
	// none.
	plain      bool
	foreignKey bool     // a FOREIGN KEY or REFERENCES
	keys       []string // the keys deferred, if any
	stmt       []byte   // the statement without them
}

// element is one comma-separated item of a CREATE TABLE's list: a column,
// key or constraint.
type element struct {
	start, end int // the raw text, blanks and comments around it included
	words      []string
	inComment  bool // ends inside a /*! … */ comment: cannot be cut out
}

// word returns the element's i-th bare word, upper-cased, or "".
func (e element) word(i int) string {
	if i < len(e.words) {
		return e.words[i]
	}
	return ""
}

func (e element) has(word string) bool { return slices.Contains(e.words, word) }

func (e element) hasUsingHash() bool {
	for i := 0; i+1 < len(e.words); i++ {
		if e.words[i] == "USING" && e.words[i+1] == "HASH" {
			return true
		}
	}
	return false
}

// parseCreateTable splits a CREATE TABLE into its list of columns and keys
// and applies the rules at the top of this file.
func parseCreateTable(s []byte) createTable {
	head, elems, tail, ok := splitCreateTable(s)
	if !ok {
		return createTable{}
	}
	c := createTable{plain: plainCreateHead(head) && !slices.Contains(tail, "SELECT")}
	versioned := slices.Contains(tail, "VERSIONING")
	cuttable := true
	for _, e := range elems {
		if e.has("FOREIGN") || e.has("REFERENCES") {
			c.foreignKey = true
		}
		if e.word(0) == "LIKE" || e.word(0) == "SELECT" {
			c.plain = false
		}
		if e.has("VERSIONING") {
			versioned = true
		}
		if e.inComment {
			cuttable = false
		}
	}
	if !c.plain || c.foreignKey || versioned || !cuttable || !isInnoDB(tail) {
		return c
	}
	var keys, keep []element
	for _, e := range elems {
		switch deferrable(e) {
		case keyDefer:
			keys = append(keys, e)
		case keyKeep:
			keep = append(keep, e)
		case keyRefuse:
			return c
		}
	}
	if len(keys) == 0 || len(keep) == 0 {
		return c
	}
	for _, e := range keys {
		c.keys = append(c.keys, string(bytes.TrimSpace(s[e.start:e.end])))
	}
	c.stmt = withoutElements(s, elems, keep)
	return c
}

// withoutElements rebuilds a CREATE TABLE with only the elements kept (a
// subset of elems, in order), keeping the line break before its closing
// parenthesis.
func withoutElements(s []byte, elems, keep []element) []byte {
	first, last := elems[0], elems[len(elems)-1]
	out := make([]byte, 0, len(s))
	out = append(out, s[:first.start]...)
	for i, e := range keep {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, s[e.start:e.end]...)
	}
	if keep[len(keep)-1].end != last.end {
		lastText := s[last.start:last.end]
		out = append(out, lastText[len(bytes.TrimRight(lastText, " \t\r\n")):]...)
	}
	return append(out, s[last.end:]...)
}

type keyDecision int

const (
	keyKeep   keyDecision = iota // stays in the CREATE TABLE
	keyDefer                     // added after the rows
	keyRefuse                    // the table keeps all its keys
)

// deferrable decides for one element of a CREATE TABLE (see the rules at
// the top of this file). A FOREIGN KEY never gets here.
func deferrable(e element) keyDecision {
	switch e.word(0) {
	case "KEY", "INDEX":
		return plainKey(e)
	case "UNIQUE":
		if w := e.word(1); w == "KEY" || w == "INDEX" {
			return plainKey(e)
		}
		return keyRefuse
	case "PRIMARY", "FULLTEXT", "CHECK":
		return keyKeep
	case "CONSTRAINT":
		// CONSTRAINT name CHECK (…); CONSTRAINT name UNIQUE or PRIMARY
		// KEY is a key by another spelling.
		if e.has("CHECK") && !e.has("UNIQUE") && !e.has("PRIMARY") {
			return keyKeep
		}
		return keyRefuse
	case "SPATIAL", "PERIOD", "VECTOR":
		return keyRefuse
	}
	// A column, whose name SHOW CREATE TABLE quotes. A key among its
	// attributes (id INT PRIMARY KEY, a INT UNIQUE) takes its place among
	// the others by position.
	if e.has("KEY") || e.has("UNIQUE") {
		return keyRefuse
	}
	return keyKeep
}

// plainKey defers a KEY or UNIQUE KEY, except one USING HASH (see the
// rules).
func plainKey(e element) keyDecision {
	if e.hasUsingHash() {
		return keyRefuse
	}
	return keyDefer
}

// splitCreateTable finds the parenthesized list of a CREATE TABLE: the
// tokens before it, its elements, and the tokens after it. ok is false if
// there is no such list (CREATE TABLE … LIKE, … SELECT) or it is malformed.
func splitCreateTable(s []byte) (head []string, elems []element, tail []string, ok bool) {
	lx := lexer{s: s}
	depth := 0
	closed := false
	var cur *element
	for {
		t, more := lx.next()
		if !more {
			break
		}
		text := t.text(s)
		switch {
		case closed:
			tail = append(tail, upperWord(text))
		case depth == 0 && string(text) == "(":
			depth = 1
			elems = append(elems, element{start: t.end})
			cur = &elems[0]
		case depth == 0:
			head = append(head, upperWord(text))
		case string(text) == "(":
			depth++
		case string(text) == ")":
			depth--
			if depth == 0 {
				cur.end, cur.inComment = t.start, lx.cond
				closed = true
			}
		case depth == 1 && string(text) == ",":
			cur.end, cur.inComment = t.start, lx.cond
			elems = append(elems, element{start: t.end})
			cur = &elems[len(elems)-1]
		default:
			if depth == 1 && isWordByte(text[0]) {
				cur.words = append(cur.words, upperWord(text))
			}
		}
	}
	return head, elems, tail, closed && len(elems) > 0
}

// upperWord upper-cases a bare word; other tokens (quoted names, strings,
// punctuation) are kept as they are.
func upperWord(t []byte) string {
	if isWordByte(t[0]) {
		return strings.ToUpper(string(t))
	}
	return string(t)
}

// plainCreateHead matches CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name
// or db.name.
func plainCreateHead(head []string) bool {
	i := 0
	match := func(words ...string) bool {
		if i+len(words) > len(head) {
			return false
		}
		for j, w := range words {
			if head[i+j] != w {
				return false
			}
		}
		i += len(words)
		return true
	}
	if !match("CREATE") {
		return false
	}
	match("OR", "REPLACE")
	if !match("TABLE") {
		return false
	}
	match("IF", "NOT", "EXISTS")
	switch rest := head[i:]; len(rest) {
	case 1:
		return isIdent([]byte(rest[0]))
	case 3:
		return isIdent([]byte(rest[0])) && rest[1] == "." && isIdent([]byte(rest[2]))
	}
	return false
}

// isInnoDB looks for ENGINE=InnoDB among the table options.
func isInnoDB(tail []string) bool {
	for i := 0; i+2 < len(tail); i++ {
		if tail[i] == "ENGINE" && tail[i+1] == "=" {
			return tail[i+2] == "INNODB"
		}
	}
	return false
}

// hasToken reports whether a statement (its first 64 tokens) holds tok
// outside strings and comments.
func hasToken(s []byte, tok string) bool {
	for _, t := range tokens(s, 64) {
		if string(t.text(s)) == tok {
			return true
		}
	}
	return false
}

// togglesKeys matches ALTER TABLE name DISABLE KEYS and ENABLE KEYS, which
// mysqldump writes around a table's rows: nothing happens on InnoDB.
func togglesKeys(s []byte) bool {
	ts := tokens(s, 8)
	n := len(ts)
	if n != 5 && n != 7 {
		return false
	}
	w := func(i int) string { return strings.ToUpper(string(ts[i].text(s))) }
	return (w(n-2) == "DISABLE" || w(n-2) == "ENABLE") && w(n-1) == "KEYS"
}
