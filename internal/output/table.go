package output

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mattn/go-runewidth"
)

// table prints one line per record, in columns chosen by record kind, for
// people: columns line up whatever the script (a CJK character takes two
// cells, counted with go-runewidth), database columns come plaintext first
// with the reasons the jsonl carries, and the server's settings read as a
// list with its notes. It works on the records' JSON form so that any
// package's records print without this package importing them.
type table struct {
	w    io.Writer
	kind string     // kind of the rows in block
	head []string   // their header
	rows [][]string // the block, aligned together
	// columns are held until the scan's summary so they print worst first
	// (a scan emits them table by table).
	columns []map[string]any
}

// tableBlock rows are aligned together; then the block is flushed so memory
// does not grow with a scan's findings.
const tableBlock = 2000

var tableColumns = map[string][]string{
	"finding": {"location", "type", "masked"},
	"file":    {"path", "state", "findings", "by_type", "reason"},
	"column":  {"column", "state", "type", "severity", "confidence", "sampled", "matched", "reason"},
	"table":   {"table", "rows_estimate", "sampled", "method", "encrypted_at_rest", "plaintext_columns", "error"},
	"check":   {"job", "suite", "check", "status", "detail"},
	"drill":   {"job", "suite", "status", "failure", "rto_seconds", "rto", "rpo_seconds", "rpo", "backup"},
	"backup":  {"job", "suite", "status", "key", "bytes", "seconds"},
	"prune":   {"job", "action", "key", "reason"},
}

// stateOrder puts what is wrong first.
var stateOrder = map[string]int{"plaintext": 0, "hashed": 1, "masked": 2, "encrypted": 3, "none": 4}

func (t *table) Write(rec any) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	kind, _ := m["record"].(string)
	switch kind {
	case "finding":
		loc := str(m["path"])
		if mem, _ := m["member"].(string); mem != "" {
			loc += "!" + mem
		}
		m["location"] = fmt.Sprintf("%s:%s", loc, str(m["line"]))
	case "file":
		if m["state"] == "scanned" && m["reason"] == nil && m["by_type"] == nil {
			return nil // only what was not scanned, or holds findings, is news to a person
		}
		if mem, _ := m["member"].(string); mem != "" {
			m["path"] = str(m["path"]) + "!" + mem
		}
	case "column":
		m["column"] = str(m["database"]) + "." + str(m["table"]) + "." + str(m["column"])
		t.columns = append(t.columns, m)
		return nil
	case "table":
		m["table"] = str(m["database"]) + "." + str(m["table"])
	case "server":
		t.flush()
		return t.server(m)
	case "summary":
		t.flushColumns()
		t.flush()
		return t.summary(m)
	}
	t.row(kind, m)
	return nil
}

func (t *table) row(kind string, m map[string]any) {
	if kind != t.kind || len(t.rows) >= tableBlock {
		t.flush()
		t.kind = kind
	}
	cols, ok := tableColumns[kind]
	if !ok {
		cols = sortedKeys(m)
	}
	if len(t.rows) == 0 {
		t.head = make([]string, len(cols))
		for i, c := range cols {
			t.head[i] = strings.ToUpper(c)
		}
	}
	vals := make([]string, len(cols))
	for i, c := range cols {
		vals[i] = str(m[c])
	}
	t.rows = append(t.rows, vals)
}

// flushColumns prints the held column verdicts, worst first.
func (t *table) flushColumns() {
	sort.SliceStable(t.columns, func(i, j int) bool {
		a, b := stateRank(t.columns[i]), stateRank(t.columns[j])
		if a != b {
			return a < b
		}
		return str(t.columns[i]["column"]) < str(t.columns[j]["column"])
	})
	for _, m := range t.columns {
		t.row("column", m)
	}
	t.columns = nil
}

func stateRank(m map[string]any) int {
	if r, ok := stateOrder[str(m["state"])]; ok {
		return r
	}
	return len(stateOrder)
}

// flush prints the block with every column as wide as its widest cell, in
// display cells.
func (t *table) flush() {
	if len(t.rows) == 0 {
		return
	}
	widths := make([]int, len(t.head))
	for _, r := range append([][]string{t.head}, t.rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	fmt.Fprintln(t.w)
	for _, r := range append([][]string{t.head}, t.rows...) {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c) // no padding after the last column
				break
			}
			b.WriteString(runewidth.FillRight(c, widths[i]+2))
		}
		fmt.Fprintln(t.w, strings.TrimRight(b.String(), " "))
	}
	t.rows = nil
}

// server prints the server record as a list: the settings that decide how
// the data is stored and carried, then its notes (what it could not read,
// what is wrong).
func (t *table) server(m map[string]any) error {
	fmt.Fprintf(t.w, "\nSERVER %s  %s", str(m["address"]), str(m["version"]))
	if s, ok := m["severity"].(string); ok && s != "" {
		fmt.Fprintf(t.w, "  severity %s", s)
	}
	fmt.Fprintln(t.w)
	skip := map[string]bool{"record": true, "address": true, "version": true, "severity": true, "notes": true, "databases": true}
	for _, k := range sortedKeys(m) {
		if skip[k] || m[k] == "" {
			continue
		}
		fmt.Fprintf(t.w, "  %-26s %s\n", k+":", str(m[k]))
	}
	if notes, ok := m["notes"].([]any); ok {
		for _, n := range notes {
			fmt.Fprintf(t.w, "  note: %s\n", str(n))
		}
	}
	return nil
}

func (t *table) summary(m map[string]any) error {
	fmt.Fprintln(t.w, "\nSUMMARY")
	for _, k := range sortedKeys(m) {
		if k == "record" {
			continue
		}
		fmt.Fprintf(t.w, "  %-18s %s\n", k+":", str(m[k]))
	}
	return nil
}

func (t *table) Close() error {
	t.flushColumns()
	t.flush()
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.2f", x)
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, k+"="+str(x[k]))
		}
		return strings.Join(parts, " ")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
