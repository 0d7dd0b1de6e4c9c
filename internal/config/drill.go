package config

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

func (t *translator) drill(w []any, d rawDrill, backups map[string]bool, c *Config) Drill {
	out := Drill{Name: d.Name, Backup: d.Backup, IdentityFile: t.abs(d.IdentityFile), TargetDSNEnv: d.TargetDSNEnv,
		Schedule: t.schedule(w, "schedule", d.Schedule), Select: d.Select,
		SelectWindow: t.duration(w, "select_window", d.SelectWindow, 30*24*time.Hour)}
	if !backups[d.Backup] {
		t.fail(append(w, "backup"), "drill %q: backup %q is not a backups[] entry", d.Name, d.Backup)
	}
	if d.TargetDSNEnv == "" {
		t.fail(w, "drill %q: target_dsn_env is required", d.Name)
	}
	if out.Select == "" {
		out.Select = "latest"
	}
	if out.Select != "latest" && out.Select != "random" {
		t.fail(append(w, "select"), "drill %q: select %q is not latest or random", d.Name, d.Select)
	}
	switch out.Definers = d.Definers; out.Definers {
	case "":
		out.Definers = "keep"
	case "keep", "strip":
	default:
		hint := ""
		for _, v := range []string{"keep", "strip"} {
			if editDistance(strings.ToLower(d.Definers), v) <= 2 {
				hint = " (did you mean " + v + "?)"
			}
		}
		t.fail(append(w, "definers"), "drill %q: definers %q is not keep or strip%s", d.Name, d.Definers, hint)
	}
	for j, p := range d.Probes {
		if p.SQL == "" {
			t.fail(append(w, "probes", j), "drill %q: probe %d has no sql", d.Name, j+1)
		}
		sum := strings.ToLower(strings.TrimSpace(p.ExpectSHA256))
		if b, err := hex.DecodeString(sum); p.ExpectSHA256 != "" && (err != nil || len(b) != sha256.Size) {
			// Never echoed: a value pasted here by mistake is personal data.
			t.fail(append(w, "probes", j, "expect_sha256"), "drill %q: probe %d (%s): expect_sha256 is not a SHA-256 in hex (64 hex digits): put the hash of the expected value here, never the value (echo -n 'value' | sha256sum)", d.Name, j+1, p.Name)
			sum = ""
		}
		out.Probes = append(out.Probes, Probe{Name: p.Name, SQL: p.SQL, ExpectSHA256: sum})
	}
	out.RTO = t.duration(w, "rto", d.RTO, 0)
	out.RPO = t.duration(w, "rpo", d.RPO, 0)
	if d.RTO != "" && out.RTO <= 0 {
		t.fail(append(w, "rto"), "drill %q: rto must be longer than 0", d.Name)
	}
	if d.RPO != "" && out.RPO <= 0 {
		t.fail(append(w, "rpo"), "drill %q: rpo must be longer than 0", d.Name)
	}
	out.Tables = t.tableNames(w, "tables", d.Name, d.Tables)
	out.ExcludeTables = t.tableNames(w, "exclude_tables", d.Name, d.ExcludeTables)
	switch {
	case d.Tables != nil && d.ExcludeTables != nil:
		t.fail(append(w, "exclude_tables"), "drill %q: set tables or exclude_tables, not both", d.Name)
	case d.Tables != nil && len(d.Tables) == 0:
		t.fail(append(w, "tables"), "drill %q: tables is empty: leave it out to drill every table", d.Name)
	}
	if len(out.Tables)+len(out.ExcludeTables) > 0 {
		if b, ok := c.Backup(d.Backup); ok && b.Format != "atrest" {
			key := "tables"
			if d.Tables == nil {
				key = "exclude_tables"
			}
			t.fail(append(w, key), "drill %q: %s: backup %q is a %s dump, which has no manifest naming its tables: a subset drill needs an atrest backup", d.Name, key, d.Backup, b.Format)
		}
	}
	return out
}

// tableNames checks a drill's tables or exclude_tables: db.table or table,
// each once. Whether each names a table is known only from the drilled
// backup's manifest.
func (t *translator) tableNames(w []any, key, drill string, names []string) []string {
	seen := map[string]bool{}
	var out []string
	for j, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "" || strings.HasPrefix(n, ".") || strings.HasSuffix(n, "."):
			t.fail(append(w, key, j), "drill %q: %s %d: %q is not a table name (table, or database.table)", drill, key, j+1, n)
		case seen[n]:
			t.fail(append(w, key, j), "drill %q: %s: %q is listed twice", drill, key, n)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}
