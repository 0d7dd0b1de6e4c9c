package output

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// table prints one line per record, in columns chosen by record kind. It works
// on the records' JSON form so that any package's records print without this
// package importing them.
type table struct {
	w    io.Writer
	tw   *tabwriter.Writer
	kind string // kind of the rows in tw
	rows int    // rows in the current block
}

// tableBlock rows are aligned together; then the block is flushed so memory
// does not grow with a scan's findings.
const tableBlock = 2000

var tableColumns = map[string][]string{
	"finding": {"location", "type", "masked"},
	"file":    {"path", "state", "findings", "by_type", "reason"},
	"column":  {"column", "state", "type", "sampled", "matched", "confidence", "table_encrypted"},
	"table":   {"table", "rows_estimate", "sampled", "encrypted_at_rest", "error"},
	"server":  {"address", "version", "innodb_encrypt_tables", "binlog_encryption", "require_secure_transport", "tls", "severity"},
	"check":   {"job", "suite", "check", "status", "detail"},
	"drill":   {"job", "suite", "status", "failure", "rto_seconds", "rpo_seconds", "backup"},
	"backup":  {"job", "suite", "status", "key", "bytes", "seconds"},
	"prune":   {"job", "action", "key", "reason"},
}

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
	case "table":
		m["table"] = str(m["database"]) + "." + str(m["table"])
	case "summary":
		t.flush()
		return t.summary(m)
	}
	if kind != t.kind || t.rows >= tableBlock {
		t.flush()
		t.kind = kind
	}
	if t.tw == nil {
		t.tw = tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
	}
	cols, ok := tableColumns[kind]
	if !ok {
		cols = sortedKeys(m)
	}
	if t.rows == 0 { // each aligned block gets its header
		fmt.Fprintf(t.tw, "\n%s\n", strings.ToUpper(strings.Join(cols, "\t")))
	}
	t.rows++
	vals := make([]string, len(cols))
	for i, c := range cols {
		vals[i] = str(m[c])
	}
	_, err = fmt.Fprintln(t.tw, strings.Join(vals, "\t"))
	return err
}

func (t *table) flush() {
	if t.tw != nil {
		t.tw.Flush()
	}
	t.rows = 0
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
