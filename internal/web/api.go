package web

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// api wraps a JSON handler in HTTP Basic authentication. Every role may
// read the API; it has no action.
func (s *Server) api(fn func(http.ResponseWriter, *http.Request, User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.basicUser(w, r)
		if !ok {
			return
		}
		fn(w, r, u)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// limitParam reads ?limit= (default def, at most hi).
func limitParam(r *http.Request, def, hi int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > hi {
		return 0, fmt.Errorf("limit %q: want 1..%d", s, hi)
	}
	return n, nil
}

// apiDrill is a drill run with its backup job.
type apiDrill struct {
	drillRun
	BackupJob string `json:"backup_job,omitempty"`
	Passed    bool   `json:"passed"`
}

// apiDrills: GET /api/drills[?job=NAME][&limit=N] — the newest drills
// (default 100, at most drillHistory per job), newest first: time, outcome,
// RTO and RPO in seconds, the failure class, the journal entry's seq.
func (s *Server) apiDrills(w http.ResponseWriter, r *http.Request, _ User) {
	n, err := limitParam(r, 100, 1000)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	snap := s.view.snap()
	drills := snap.Drills
	if job := r.URL.Query().Get("job"); job != "" {
		drills = map[string][]drillRun{job: snap.Drills[job]}
	}
	out := []apiDrill{}
	for _, d := range newestDrills(drills, n) {
		out = append(out, apiDrill{drillRun: d, BackupJob: s.drillBackup(d.Job), Passed: d.Passed()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"drills": out, "journal_entries": snap.Entries})
}

type apiCheckJob struct {
	Job              string            `json:"job"`
	RPOSeconds       float64           `json:"rpo_seconds,omitempty"`
	Freshness        string            `json:"freshness"` // fresh, stale, never, unknown
	LastBackup       *ref              `json:"last_backup"`
	BackupAgeSeconds float64           `json:"backup_age_seconds,omitempty"`
	LastRun          *ref              `json:"last_run"`
	LastCheck        *ref              `json:"last_check"`
	Checks           map[string]string `json:"checks"`        // check → pass|fail, each from the newest check that measured it
	CheckEntries     map[string]ref    `json:"check_entries"` // check → the entry that gave its verdict
	ChecksEntry      *ref              `json:"checks_entry"`  // the newest check entry with verdicts
}

// apiChecks: GET /api/checks — per backup job, freshness against its RPO
// (newest ok backup.run) and the verdict of each check from the newest
// backup check that measured it (integrity from the newest reading check).
func (s *Server) apiChecks(w http.ResponseWriter, r *http.Request, _ User) {
	snap := s.view.snap()
	out := []apiCheckJob{}
	for _, b := range s.backupRows(snap) {
		j := apiCheckJob{Job: b.Name, RPOSeconds: b.RPO.Seconds(), Freshness: b.Freshness,
			LastBackup: b.State.LastOK, LastRun: b.State.LastRun, LastCheck: b.State.LastCheck,
			Checks: b.State.Checks, CheckEntries: b.State.CheckAt, ChecksEntry: b.State.ChecksAt}
		if j.Checks == nil {
			j.Checks, j.CheckEntries = map[string]string{}, map[string]ref{}
		}
		if b.State.LastOK != nil {
			j.BackupAgeSeconds = b.Age.Seconds()
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out, "now": s.now().UTC().Format(time.RFC3339)})
}

type apiFinding struct {
	Name      string         `json:"name"`
	Scanned   bool           `json:"scanned"` // a scan ran to its end
	Entry     *ref           `json:"entry"`   // that scan's journal entry
	LastScan  *ref           `json:"last_scan,omitempty"`
	Plaintext int            `json:"plaintext"` // columns (sources) or findings (roots)
	ByType    map[string]int `json:"by_type"`
}

// apiFindings: GET /api/findings — counts of plaintext identifiers from
// each source's (plaintext columns) and root's (findings) newest completed
// scan, by type. Counts only: the journal holds no values to give.
func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request, _ User) {
	snap := s.view.snap()
	conv := func(rows []scanRow) []apiFinding {
		out := []apiFinding{}
		for _, row := range rows {
			f := apiFinding{Name: row.Name, ByType: map[string]int{}}
			if row.State != nil {
				last := row.State.Last
				f.LastScan = &last
				f.Entry, f.Scanned = row.State.Done, row.State.Done != nil
				f.Plaintext = row.State.Plaintext
				for _, t := range slices.Sorted(maps.Keys(row.State.ByType)) {
					f.ByType[t] = row.State.ByType[t]
				}
			}
			out = append(out, f)
		}
		return out
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sources": conv(scanRows(s.o.Inventory.Sources, snap.DB, "")),
		"roots":   conv(scanRows(s.o.Inventory.Roots, snap.Files, "")),
	})
}

// apiJournal: GET /api/journal?kind=&subject=&outcome=&since=&until=&page=&size=&before=&after=
// — entries that pass the filter, newest first, size per page (default
// 50, at most 500): page from 1 (at most 5,000 entries deep), or the page
// older than before=SEQ (next_before) or newer than after=SEQ (prev_after).
// It reads only what the page shows and skips: there is no total count.
func (s *Server) apiJournal(w http.ResponseWriter, r *http.Request, _ User) {
	jq, err := parseJournalQuery(r.URL.Query(), s.now())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	size := 50
	if v := r.URL.Query().Get("size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 500 {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("size %q: want 1..500", v))
			return
		}
	}
	res, err := queryPage(s.o.JournalDir, jq, size)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, oneLine(err.Error()))
		return
	}
	if res.Entries == nil {
		res.Entries = []journal.Entry{}
	}
	writeJSON(w, http.StatusOK, res)
}
