package mysql

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/atrest/atrest/engine"
)

// Schema objects: what a backup records of a database's views, triggers,
// routines, events and of its tables' keys and constraints, and what a
// drill reads back from the restored copy to compare. Both sides build an
// Object from the text the server prints (SHOW CREATE …, rebuilt from
// information_schema for triggers) through newObject, so the digests agree
// exactly when the definitions do.

// newObject is the Object for the definition text of an object of db.
// text must be as the server prints it with db as the current database
// (names in db unqualified), and with every other database named as in
// the source.
func newObject(db, typ, name, text, definer string) Object {
	return Object{Database: db, Name: name, Type: typ, Digest: objectDigest(typ, text), Definer: definer}
}

// objectDigest is the SHA-256 (hex) of a definition normalised for what a
// restore changes without changing the object: the DEFINER clause (the
// drill loads objects as its own user; the definer is recorded beside),
// identifier quoting (the loader writes the database names it rewrites
// quoted), runs of blanks, and an event's ENABLE/DISABLE (the drill
// creates events disabled, so that none runs in a scratch database).
func objectDigest(typ, text string) string {
	b := stripDefiner([]byte(text))
	if typ == engine.ObjEvent {
		b = eventStatus(b, nil)
	}
	s := strings.Join(strings.Fields(strings.ReplaceAll(string(b), "`", "")), " ")
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// eventStatus replaces the ENABLE, DISABLE or DISABLE ON SLAVE of a CREATE
// EVENT (before its DO) with status, or removes it when status is nil;
// with no status written (ENABLE by default) it inserts status before DO.
func eventStatus(s []byte, status []byte) []byte {
	l := lexer{s: s}
	for {
		t, ok := l.next()
		if !ok {
			return s
		}
		w := strings.ToUpper(string(t.text(s)))
		switch w {
		case "ENABLE", "DISABLE":
			end := t.end
			if w == "DISABLE" {
				// DISABLE ON SLAVE (MariaDB), DISABLE ON REPLICA (MySQL).
				save := l
				if on, ok := l.next(); ok && strings.EqualFold(string(on.text(s)), "ON") {
					if who, ok := l.next(); ok {
						end = who.end
					}
				} else {
					l = save
				}
			}
			return splice(s, t.start, end, status)
		case "DO":
			// DO starts the body (no clause before it holds the bare
			// word); the status, if any, came before it.
			if status != nil {
				return splice(s, t.start, t.start, append(append([]byte(nil), status...), ' '))
			}
			return s
		}
	}
}

func splice(s []byte, from, to int, with []byte) []byte {
	out := make([]byte, 0, len(s)+len(with))
	out = append(out, s[:from]...)
	out = append(out, with...)
	return append(out, s[to:]...)
}

// tableKeys lists the indexes and constraints of a table from its SHOW
// CREATE TABLE text: one line each, after the columns. Their digests are
// of the line itself; the table's DDLHash covers them as well, and these
// name the one that differs.
func tableKeys(db, table, ddl string) []Object {
	var out []Object
	for _, line := range strings.Split(ddl, "\n") {
		line = strings.TrimSuffix(strings.TrimSpace(line), ",")
		typ, name := keyLine(line)
		if typ == "" {
			continue
		}
		out = append(out, newObject(db, typ, table+"."+name, line, ""))
	}
	return out
}

// keyLine says what a line of SHOW CREATE TABLE defines, if a key or a
// constraint, and its name.
func keyLine(line string) (typ, name string) {
	b := []byte(line)
	ts := tokens(b, 4)
	word := func(i int) string {
		if i < len(ts) {
			return strings.ToUpper(string(ts[i].text(b)))
		}
		return ""
	}
	ident := func(i int) string {
		if i < len(ts) && isIdent(ts[i].text(b)) {
			return identName(ts[i].text(b))
		}
		return ""
	}
	switch word(0) {
	case "PRIMARY":
		return engine.ObjPrimaryKey, "PRIMARY"
	case "UNIQUE":
		return engine.ObjUnique, ident(2)
	case "KEY", "INDEX":
		return engine.ObjIndex, ident(1)
	case "FULLTEXT", "SPATIAL", "VECTOR":
		return engine.ObjIndex, ident(2)
	case "CONSTRAINT":
		switch word(2) {
		case "FOREIGN":
			return engine.ObjForeignKey, ident(1)
		case "CHECK":
			return engine.ObjCheck, ident(1)
		}
	}
	return "", ""
}

// definerOf reads the DEFINER=user@host clause of a CREATE statement as
// an account, 'user'@'host'; ok is false when there is none or it is
// CURRENT_USER (the loading user, who exists).
func definerOf(s []byte) (acct string, ok bool) {
	ts := tokens(s, 16)
	for i, t := range ts {
		if !strings.EqualFold(string(t.text(s)), "DEFINER") || i+2 >= len(ts) || string(ts[i+1].text(s)) != "=" {
			continue
		}
		user := ts[i+2].text(s)
		if strings.EqualFold(string(user), "CURRENT_USER") {
			return "", false
		}
		host := ""
		if i+4 < len(ts) && string(ts[i+3].text(s)) == "@" {
			host = unquoteAny(ts[i+4].text(s))
		}
		return account(unquoteAny(user), host), true
	}
	return "", false
}

// unquoteAny unquotes a name written `x`, 'x', "x" or bare.
func unquoteAny(b []byte) string {
	if len(b) >= 2 && (b[0] == '\'' || b[0] == '"') && b[len(b)-1] == b[0] {
		q := string(b[:1])
		inner := string(b[1 : len(b)-1])
		return strings.ReplaceAll(strings.ReplaceAll(inner, q+q, q), `\`+q, q)
	}
	return identName(b)
}

// account writes an account as the server's messages do: 'user'@'host'
// (a role, which has no host, as 'role'@”).
func account(user, host string) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	return q(user) + "@" + q(host)
}

// accountOf splits information_schema's DEFINER (user@host) into an
// account.
func accountOf(definer string) string {
	i := strings.LastIndexByte(definer, '@')
	if i < 0 {
		return account(definer, "")
	}
	return account(definer[:i], definer[i+1:])
}

// splitAccount is the user and host of an account written by account.
func splitAccount(a string) (user, host string, ok bool) {
	i := strings.LastIndex(a, "'@'")
	if len(a) < 5 || a[0] != '\'' || a[len(a)-1] != '\'' || i < 0 {
		return "", "", false
	}
	un := func(s string) string { return strings.ReplaceAll(s, "''", "'") }
	return un(a[1:i]), un(a[i+3 : len(a)-1]), true
}

// objectLabel names an object for messages: its kind in lower case and
// its qualified name ("trigger yb.trg_audit").
func objectLabel(typ, db, name string) string {
	if db == "" {
		return strings.ToLower(typ) + " " + name
	}
	return strings.ToLower(typ) + " " + db + "." + name
}

// unrename writes the scratch databases' names in text back as the source
// databases' (quoted, as the loader wrote them), so that a restored
// definition that names another restored database reads as the source's
// did.
func unrename(text string, renames [][2]string) string {
	for _, r := range renames {
		if r[0] != r[1] {
			text = strings.ReplaceAll(text, quoteIdent(r[1])+".", quoteIdent(r[0])+".")
		}
	}
	return text
}

// readObjects lists the schema objects of db (the connection's current
// database) as a drill reads them back: views, triggers, routines, events
// and the keys of every base table.
func readObjects(ctx context.Context, q querier, db string, renames [][2]string) ([]Object, error) {
	info, err := readSchema(ctx, q, db)
	if err != nil {
		return nil, err
	}
	src := db
	for _, r := range renames {
		if r[1] == db {
			src = r[0]
		}
	}
	var out []Object
	for _, t := range info.tables {
		if t.name == MarkerTable || t.kind == "SEQUENCE" {
			continue
		}
		ddl, _, err := showCreate(ctx, q, "TABLE", t.name, "Create Table")
		if err != nil {
			return nil, err
		}
		out = append(out, tableKeys(src, t.name, unrename(ddl, renames))...)
	}
	views, err := readViews(ctx, q, info.views)
	if err != nil {
		return nil, err
	}
	for _, v := range views {
		out = append(out, newObject(src, engine.ObjView, v.name, unrename(v.stmt, renames), v.definer))
	}
	triggers, err := readTriggers(ctx, q, db)
	if err != nil {
		return nil, err
	}
	for _, t := range triggers {
		out = append(out, newObject(src, engine.ObjTrigger, t.name, unrename(t.stmt, renames), t.definer))
	}
	routines, err := readRoutines(ctx, q, db)
	if err != nil {
		return nil, err
	}
	for _, r := range routines {
		out = append(out, newObject(src, r.kind, r.name, unrename(r.stmt, renames), r.definer))
	}
	events, _, err := readEvents(ctx, q, db)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		out = append(out, newObject(src, engine.ObjEvent, e.name, unrename(e.stmt, renames), e.definer))
	}
	return out, nil
}

// stmtDefiner is definerOf on a string, "" when there is none.
func stmtDefiner(stmt string) string {
	a, _ := definerOf([]byte(stmt))
	return a
}
