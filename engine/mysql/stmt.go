package mysql

import (
	"bytes"
	"slices"
	"strings"
)

// lexer walks the tokens at the start of a statement, treating the markers
// of /*!NNNNN … */ comments as blanks (their content is code) and skipping
// other comments.
type lexer struct {
	s    []byte
	i    int
	cond bool // inside /*! … */
}

type token struct {
	start, end int
}

func (t token) text(s []byte) []byte { return s[t.start:t.end] }

func (l *lexer) next() (token, bool) {
	s := l.s
	for l.i < len(s) {
		c := s[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.i++
		case c == '/' && l.i+2 < len(s) && s[l.i+1] == '*' && (s[l.i+2] == '!' || s[l.i+2] == 'M' && l.i+3 < len(s) && s[l.i+3] == '!'):
			l.i += 3
			if s[l.i-1] == 'M' {
				l.i++
			}
			for l.i < len(s) && s[l.i] >= '0' && s[l.i] <= '9' {
				l.i++
			}
			l.cond = true
		case l.cond && c == '*' && l.i+1 < len(s) && s[l.i+1] == '/':
			l.i += 2
			l.cond = false
		case c == '/' && l.i+1 < len(s) && s[l.i+1] == '*':
			if j := bytes.Index(s[l.i+2:], []byte("*/")); j >= 0 {
				l.i += j + 4
			} else {
				l.i = len(s)
			}
		case c == '#' || c == '-' && isLineComment(s[l.i:min(len(s), l.i+3)]):
			if j := bytes.IndexByte(s[l.i:], '\n'); j >= 0 {
				l.i += j + 1
			} else {
				l.i = len(s)
			}
		case c == '`' || c == '\'' || c == '"':
			start := l.i
			l.i++
			for l.i < len(s) {
				if s[l.i] == '\\' && c != '`' {
					l.i += 2
					continue
				}
				if s[l.i] == c {
					if l.i+1 < len(s) && s[l.i+1] == c {
						l.i += 2
						continue
					}
					l.i++
					break
				}
				l.i++
			}
			return token{start, min(l.i, len(s))}, true
		case isWordByte(c):
			start := l.i
			for l.i < len(s) && isWordByte(s[l.i]) {
				l.i++
			}
			return token{start, l.i}, true
		default:
			l.i++
			return token{l.i - 1, l.i}, true
		}
	}
	return token{}, false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

// tokens returns up to n tokens from the start of s.
func tokens(s []byte, n int) []token {
	l := lexer{s: s}
	var out []token
	for len(out) < n {
		t, ok := l.next()
		if !ok {
			break
		}
		out = append(out, t)
	}
	return out
}

// identName unquotes an identifier token (`a“b` → a`b; a bare word as is).
func identName(b []byte) string {
	if len(b) >= 2 && b[0] == '`' && b[len(b)-1] == '`' {
		return strings.ReplaceAll(string(b[1:len(b)-1]), "``", "`")
	}
	return string(b)
}

func isIdent(b []byte) bool {
	return len(b) > 0 && (b[0] == '`' || isWordByte(b[0]))
}

type stmtKind uint8

const (
	stmtOther   stmtKind = iota // runs on the main connection after in-flight inserts finish
	stmtInsert                  // may run on any connection
	stmtSession                 // changes session state: runs on main, replayed on the others
	stmtSkip                    // never run on a drill target
)

type stmtInfo struct {
	kind  stmtKind
	verb  string // "INSERT", "CREATE TABLE", "SET", …
	table string // target of INSERT/REPLACE, CREATE/DROP TABLE
	// db names a database the statement refers to (USE, CREATE/ALTER
	// DATABASE, a qualified INSERT), at dbTok, for rewriting.
	db    string
	dbTok token
	hasDB bool
	// ifNotExists: CREATE DATABASE … IF NOT EXISTS.
	ifNotExists bool
	// onDuplicates: INSERT IGNORE or REPLACE, whose effect depends on the
	// table's unique keys.
	onDuplicates bool
	// object is the name of the view, trigger, routine, event, index or
	// sequence a CREATE makes (objectDB its qualifier, if written), to
	// name it when the server refuses it.
	object, objectDB string
}

// classify looks at the first tokens of a statement.
func classify(s []byte) stmtInfo {
	// Enough tokens to reach a view's name past mysqldump's modifiers
	// (ALGORITHM=…, DEFINER=`u`@`h`, SQL SECURITY …).
	c := classifier{s: s, ts: tokens(s, 24)}
	w0, w1 := c.word(0), c.word(1)
	c.info = stmtInfo{kind: stmtOther, verb: w0}
	if w1 != "" && w0 != "SET" && w0 != "INSERT" && w0 != "REPLACE" && w0 != "USE" {
		c.info.verb = w0 + " " + w1
	}
	switch w0 {
	case "INSERT", "REPLACE":
		c.info.kind = stmtInsert
		at := c.skip(1, "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO")
		c.info.onDuplicates = w0 == "REPLACE" || c.has(1, at, "IGNORE")
		c.name(at)
	case "USE":
		c.info.kind = stmtSession
		c.setDB(1)
	case "SET":
		c.set()
	case "CREATE":
		c.create()
	case "ALTER":
		c.alter()
	case "DROP":
		switch w1 {
		case "DATABASE", "SCHEMA", "USER", "ROLE", "SERVER":
			c.info.kind = stmtSkip
		case "TABLE":
			c.name(c.skip(2, "IF", "EXISTS"))
		case "TEMPORARY":
			c.name(c.skip(3, "IF", "EXISTS"))
		}
	case "LOCK", "UNLOCK":
		// Table locks on the main connection would block the inserts that
		// other connections run.
		c.info.kind = stmtSkip
	case "CHANGE", "START", "STOP", "RESET", "PURGE", "SHUTDOWN", "KILL", "GRANT", "REVOKE",
		"RENAME", "FLUSH", "INSTALL", "UNINSTALL", "LOAD", "BACKUP":
		// Replication, server and account state are not the dump's to
		// change on a drill target. (START TRANSACTION is harmless to
		// skip: statements autocommit.)
		if !(w0 == "RENAME" && w1 == "TABLE") {
			c.info.kind = stmtSkip
		}
	}
	return c.info
}

type classifier struct {
	s    []byte
	ts   []token
	info stmtInfo
}

// word returns token i upper-cased if it is a bare word, else "".
func (c *classifier) word(i int) string {
	if i < len(c.ts) {
		if t := c.ts[i].text(c.s); isWordByte(t[0]) {
			return strings.ToUpper(string(t))
		}
	}
	return ""
}

func (c *classifier) tok(i int) string {
	if i < len(c.ts) {
		return string(c.ts[i].text(c.s))
	}
	return ""
}

// skip passes the words at i that are among words.
func (c *classifier) skip(i int, words ...string) int {
	for i < len(c.ts) && slices.Contains(words, c.word(i)) {
		i++
	}
	return i
}

// has reports whether the words from..to-1 include word.
func (c *classifier) has(from, to int, word string) bool {
	for i := from; i < to; i++ {
		if c.word(i) == word {
			return true
		}
	}
	return false
}

func (c *classifier) setDB(i int) {
	if i < len(c.ts) && isIdent(c.ts[i].text(c.s)) {
		c.info.db, c.info.dbTok, c.info.hasDB = identName(c.ts[i].text(c.s)), c.ts[i], true
	}
}

// name reads a possibly qualified table name at i.
func (c *classifier) name(i int) {
	if i >= len(c.ts) || !isIdent(c.ts[i].text(c.s)) {
		return
	}
	if c.tok(i+1) == "." && i+2 < len(c.ts) && isIdent(c.ts[i+2].text(c.s)) {
		c.setDB(i)
		c.info.table = identName(c.ts[i+2].text(c.s))
		return
	}
	c.info.table = identName(c.ts[i].text(c.s))
}

// objectName reads a possibly qualified object name at i.
func (c *classifier) objectName(i int) {
	if i >= len(c.ts) || !isIdent(c.ts[i].text(c.s)) {
		return
	}
	if c.tok(i+1) == "." && i+2 < len(c.ts) && isIdent(c.ts[i+2].text(c.s)) {
		c.info.objectDB = identName(c.ts[i].text(c.s))
		c.info.object = identName(c.ts[i+2].text(c.s))
		return
	}
	c.info.object = identName(c.ts[i].text(c.s))
}

func (c *classifier) set() {
	c.info.kind = stmtSession
	switch w1 := c.word(1); {
	case w1 == "GLOBAL" || w1 == "PASSWORD" || w1 == "PERSIST":
		c.info.kind, c.info.verb = stmtSkip, "SET "+w1
	case c.tok(1) == "@" && c.tok(2) == "@" && strings.HasPrefix(c.word(3), "GLOBAL"):
		c.info.kind, c.info.verb = stmtSkip, "SET GLOBAL"
	case w1 == "STATEMENT" || w1 == "ROLE" || w1 == "DEFAULT":
		c.info.kind = stmtOther
	}
}

// create finds the object type, which follows modifiers (OR REPLACE,
// TEMPORARY, ALGORITHM=…, DEFINER=…, SQL SECURITY …).
func (c *classifier) create() {
	for i := 1; i < len(c.ts); i++ {
		switch w := c.word(i); w {
		case "DATABASE", "SCHEMA":
			c.info.verb = "CREATE DATABASE"
			j := c.skip(i+1, "IF", "NOT", "EXISTS")
			c.info.ifNotExists = j > i+1
			c.setDB(j)
			return
		case "TABLE":
			c.info.verb = "CREATE TABLE"
			c.name(c.skip(i+1, "IF", "NOT", "EXISTS"))
			return
		case "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "INDEX", "SEQUENCE", "PACKAGE":
			c.info.verb = "CREATE " + w
			c.objectName(c.skip(i+1, "IF", "NOT", "EXISTS"))
			return
		case "USER", "ROLE", "SERVER":
			c.info.verb, c.info.kind = "CREATE "+w, stmtSkip
			return
		}
	}
}

func (c *classifier) alter() {
	switch c.word(1) {
	case "DATABASE", "SCHEMA":
		c.info.verb = "ALTER DATABASE"
		// The name is optional: ALTER DATABASE CHARACTER SET … alters the
		// current one.
		switch c.word(2) {
		case "", "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "COMMENT", "UPGRADE":
			if strings.HasPrefix(c.tok(2), "`") {
				c.setDB(2)
			}
		default:
			c.setDB(2)
		}
	case "TABLE":
		c.name(c.skip(2, "ONLINE", "IGNORE"))
	case "USER", "SERVER", "INSTANCE":
		c.info.kind = stmtSkip
	}
}

// rewriteDB replaces the database name at t with quoted name, and adds IF
// NOT EXISTS to a CREATE DATABASE that lacks it: the target may exist.
func rewriteDB(s []byte, info stmtInfo, name string) []byte {
	t := info.dbTok
	out := make([]byte, 0, len(s)+len(name)+16)
	out = append(out, s[:t.start]...)
	if info.verb == "CREATE DATABASE" && !info.ifNotExists {
		out = append(out, "IF NOT EXISTS "...)
	}
	out = appendIdent(out, name)
	return append(out, s[t.end:]...)
}

// rewriteQualifiers replaces database qualifiers (the db of db.name, outside
// strings) found in m. A dump's view and trigger text can name its own
// database (mysqldump keeps a trigger's text as typed); left alone, a
// restore into another database would create objects in, or read from,
// the original one.
func rewriteQualifiers(s []byte, m map[string]string) []byte {
	if len(m) == 0 {
		return s
	}
	ts := tokens(s, len(s))
	var out []byte
	last := 0
	for i, t := range ts {
		if i+2 >= len(ts) || string(ts[i+1].text(s)) != "." || !isIdent(t.text(s)) || !isIdent(ts[i+2].text(s)) {
			continue
		}
		if i > 0 && string(ts[i-1].text(s)) == "." {
			continue // the middle of a.b.c
		}
		to, ok := m[identName(t.text(s))]
		if !ok {
			continue
		}
		out = append(out, s[last:t.start]...)
		out = appendIdent(out, to)
		last = t.end
	}
	if out == nil {
		return s
	}
	return append(out, s[last:]...)
}

// stripDefiner removes a DEFINER=user@host clause from a CREATE statement,
// so that the loading user becomes the definer (creating an object for
// another user needs the SET USER privilege).
func stripDefiner(s []byte) []byte {
	ts := tokens(s, 16)
	for i, t := range ts {
		if !strings.EqualFold(string(t.text(s)), "DEFINER") || i+2 >= len(ts) || string(ts[i+1].text(s)) != "=" {
			continue
		}
		end := ts[i+2].end
		if strings.EqualFold(string(ts[i+2].text(s)), "CURRENT_USER") {
			if i+4 < len(ts) && string(ts[i+3].text(s)) == "(" && string(ts[i+4].text(s)) == ")" {
				end = ts[i+4].end
			}
		} else if i+4 < len(ts) && string(ts[i+3].text(s)) == "@" {
			end = ts[i+4].end
		}
		out := append([]byte(nil), s[:t.start]...)
		return append(out, s[end:]...)
	}
	return s
}
