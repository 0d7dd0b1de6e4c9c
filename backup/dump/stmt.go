package dump

import (
	"bytes"
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
}

// classify looks at the first tokens of a statement.
func classify(s []byte) stmtInfo {
	ts := tokens(s, 12)
	word := func(i int) string {
		if i < len(ts) {
			if t := ts[i].text(s); isWordByte(t[0]) {
				return strings.ToUpper(string(t))
			}
		}
		return ""
	}
	w0, w1 := word(0), word(1)
	info := stmtInfo{kind: stmtOther, verb: w0}
	if w1 != "" && w0 != "SET" && w0 != "INSERT" && w0 != "REPLACE" && w0 != "USE" {
		info.verb = w0 + " " + w1
	}
	setDB := func(i int) {
		if i < len(ts) && isIdent(ts[i].text(s)) {
			info.db, info.dbTok, info.hasDB = identName(ts[i].text(s)), ts[i], true
		}
	}
	// name reads a possibly qualified table name at i.
	name := func(i int) {
		if i >= len(ts) || !isIdent(ts[i].text(s)) {
			return
		}
		if i+2 < len(ts) && string(ts[i+1].text(s)) == "." && isIdent(ts[i+2].text(s)) {
			setDB(i)
			info.table = identName(ts[i+2].text(s))
			return
		}
		info.table = identName(ts[i].text(s))
	}
	skipWords := func(i int, words ...string) int {
		for i < len(ts) {
			w := word(i)
			found := false
			for _, x := range words {
				if w == x {
					found = true
				}
			}
			if !found {
				break
			}
			i++
		}
		return i
	}
	switch w0 {
	case "INSERT", "REPLACE":
		info.kind = stmtInsert
		name(skipWords(1, "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO"))
	case "USE":
		info.kind = stmtSession
		setDB(1)
	case "SET":
		info.kind = stmtSession
		switch {
		case w1 == "GLOBAL" || w1 == "PASSWORD" || w1 == "PERSIST":
			info.kind, info.verb = stmtSkip, "SET "+w1
		case len(ts) > 3 && string(ts[1].text(s)) == "@" && string(ts[2].text(s)) == "@" &&
			strings.HasPrefix(word(3), "GLOBAL"):
			info.kind, info.verb = stmtSkip, "SET GLOBAL"
		case w1 == "STATEMENT" || w1 == "ROLE" || w1 == "DEFAULT":
			info.kind = stmtOther
		}
	case "CREATE":
		// The object type follows modifiers (OR REPLACE, TEMPORARY,
		// ALGORITHM=…, DEFINER=…, SQL SECURITY …).
	find:
		for i := 1; i < len(ts); i++ {
			switch w := word(i); w {
			case "DATABASE", "SCHEMA":
				info.verb = "CREATE DATABASE"
				j := skipWords(i+1, "IF", "NOT", "EXISTS")
				info.ifNotExists = j > i+1
				setDB(j)
				break find
			case "TABLE":
				info.verb = "CREATE TABLE"
				name(skipWords(i+1, "IF", "NOT", "EXISTS"))
				break find
			case "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "INDEX", "SEQUENCE", "PACKAGE":
				info.verb = "CREATE " + w
				break find
			case "USER", "ROLE", "SERVER":
				info.verb, info.kind = "CREATE "+w, stmtSkip
				break find
			}
		}
	case "ALTER":
		switch w1 {
		case "DATABASE", "SCHEMA":
			info.verb = "ALTER DATABASE"
			switch word(2) {
			case "", "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "COMMENT", "UPGRADE":
				if len(ts) > 2 && ts[2].text(s)[0] == '`' {
					setDB(2)
				}
			default:
				setDB(2)
			}
		case "TABLE":
			name(skipWords(2, "ONLINE", "IGNORE"))
		case "USER", "SERVER", "INSTANCE":
			info.kind = stmtSkip
		}
	case "DROP":
		switch w1 {
		case "DATABASE", "SCHEMA", "USER", "ROLE", "SERVER":
			info.kind = stmtSkip
		case "TABLE":
			name(skipWords(2, "IF", "EXISTS"))
		case "TEMPORARY":
			name(skipWords(3, "IF", "EXISTS"))
		}
	case "LOCK", "UNLOCK":
		// Table locks on the main connection would block the inserts that
		// other connections run.
		info.kind = stmtSkip
	case "CHANGE", "START", "STOP", "RESET", "PURGE", "SHUTDOWN", "KILL", "GRANT", "REVOKE",
		"RENAME", "FLUSH", "INSTALL", "UNINSTALL", "LOAD", "BACKUP":
		// Replication, server and account state are not the dump's to
		// change on a drill target. (START TRANSACTION is harmless to
		// skip: statements autocommit.)
		if !(w0 == "RENAME" && w1 == "TABLE") {
			info.kind = stmtSkip
		}
	}
	return info
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
