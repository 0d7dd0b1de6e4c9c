package report

// The report's types: what Build reads and what it writes. The JSON field
// names are stable; other tools read them.

import (
	"fmt"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// Verdict is the answer for one control and period.
type Verdict string

const (
	Met        Verdict = "met"
	PartlyMet  Verdict = "partly_met"
	NotMet     Verdict = "not_met"
	NoEvidence Verdict = "no_evidence"
	// Risk is MLPS-8.1.10.9's answer: the evidence is complete, and it
	// shows algorithms a national assessment may not accept.
	Risk Verdict = "risk"
)

// Verdicts lists the verdicts in the order the report counts them.
var Verdicts = []Verdict{Met, PartlyMet, NotMet, NoEvidence, Risk}

// Label is how the report prints v.
func (v Verdict) Label() Text {
	switch v {
	case Met:
		return Text{"符合", "met"}
	case PartlyMet:
		return Text{"部分符合", "partly met"}
	case NotMet:
		return Text{"不符合", "not met"}
	case NoEvidence:
		return Text{"无证据", "no evidence"}
	case Risk:
		return Text{"风险", "risk"}
	}
	return Text{string(v), string(v)}
}

// Config is the part of the configuration a report needs: names and
// settings, never a DSN or a secret.
type Config struct {
	// Suite is the installation's crypto suite ("standard" or "sm"): the
	// fingerprints'.
	Suite     string      `json:"suite,omitempty"`
	Sources   []Source    `json:"sources"`
	FileRoots []string    `json:"file_roots"`
	Backups   []BackupJob `json:"backups"`
	Drills    []Drill     `json:"drills"`
	// JournalRetention is journal.retention.
	JournalRetention Duration `json:"journal_retention"`
	Anchor           *Anchor  `json:"anchor,omitempty"`
}

// Source is one sources[] entry.
type Source struct {
	Name      string   `json:"name"`
	Databases []string `json:"databases,omitempty"`
	// TLS is what the source's DSN asks of the connection: "verified"
	// (tls=true or a registered config), "unverified" (skip-verify),
	// "preferred", "off", or "unknown" when the DSN is not readable here.
	TLS string `json:"tls"`
}

// TLS modes of a Source.
const (
	TLSVerified   = "verified"
	TLSUnverified = "unverified"
	TLSPreferred  = "preferred"
	TLSOff        = "off"
	TLSUnknown    = "unknown"
)

// BackupJob is one backups[] entry.
type BackupJob struct {
	Name       string   `json:"name"`
	Source     string   `json:"source"`
	Storage    string   `json:"storage"`
	Bucket     string   `json:"bucket"`
	Format     string   `json:"format"` // atrest, mysqldump or pg_dump
	Schedule   string   `json:"schedule,omitempty"`
	RPO        Duration `json:"rpo"`
	Retention  Duration `json:"retention"`
	Recipients int      `json:"recipients"`      // public keys the backups are encrypted to
	Suite      string   `json:"suite,omitempty"` // the job's crypto suite: standard or sm
}

// Drill is one drills[] entry.
type Drill struct {
	Name     string `json:"name"`
	Backup   string `json:"backup"`
	Schedule string `json:"schedule,omitempty"`
}

// Anchor is journal.anchor.
type Anchor struct {
	Storage string `json:"storage"`
	Bucket  string `json:"bucket"`
}

// Duration is a time.Duration that reads "26h" or "180d" in JSON and HTML.
type Duration time.Duration

func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td > 0 && td%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", td/(24*time.Hour))
	case td > 0 && td%time.Hour == 0:
		return fmt.Sprintf("%dh", td/time.Hour)
	case td > 0 && td%time.Minute == 0:
		return fmt.Sprintf("%dm", td/time.Minute)
	}
	return td.String()
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Input is what Build reads.
type Input struct {
	Config     Config
	JournalDir string
	// Verify and VerifyErr are journal.VerifyContext's answer for the whole
	// journal, taken just before Build.
	Verify    journal.Report
	VerifyErr error
	Period    Period
	Now       time.Time
	// Journaled says the caller journals this report (kind "report") and
	// attaches the entry with Report.Attach: PIPL-54 counts it.
	Journaled bool
}

// Report is one period's report. Field names are stable: other tools read
// the JSON.
type Report struct {
	Schema    string    `json:"schema"` // "atrest.report/v1"
	Period    Period    `json:"period"`
	Generated time.Time `json:"generated"`
	// Unfinished: the period had not ended when the report was made, so its
	// figures stop at Generated and later runs may change its verdicts.
	Unfinished bool            `json:"unfinished"`
	Entry      *Ref            `json:"entry,omitempty"` // this report's own journal entry
	Summary    map[Verdict]int `json:"summary"`         // China controls by verdict
	Controls   []Result        `json:"controls"`
	Beyond     []Result        `json:"beyond"`
	Figures    Figures         `json:"figures"`
	Journal    JournalStatus   `json:"journal"`
	// Roles are the dashboard's three separated roles, who held each and
	// what they did in the period.
	Roles      []RoleUsers `json:"roles"`
	Config     Config      `json:"config"`
	Algorithms []Algorithm `json:"algorithms"`
	// Cited are the entries the controls cite, by sequence number: the
	// appendix.
	Cited []CitedEntry `json:"cited_entries"`
}

// Schema names the JSON layout; a change that breaks readers changes it.
const Schema = "atrest.report/v1"

// Result is one control's answer.
type Result struct {
	Control
	// DerivedFrom are the IDs of the controls the verdict is taken from.
	DerivedFrom []string   `json:"derived_from,omitempty"`
	Verdict     Verdict    `json:"verdict"`
	Reason      Text       `json:"reason"`
	Evidence    []Evidence `json:"evidence"`
	// More counts evidence items left out to keep the table readable.
	More int `json:"more_evidence,omitempty"`
}

// Ref points at one journal entry.
type Ref struct {
	Seq     int       `json:"seq"`
	Hash    string    `json:"hash"`
	Anchor  string    `json:"anchor"` // "entry-812": the HTML appendix row's id
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"`
	Outcome string    `json:"outcome"`
}

// Evidence is one item behind a verdict: a journal entry, a setting of
// the configuration, or the journal verification.
type Evidence struct {
	Entry *Ref   `json:"entry,omitempty"`
	Fact  string `json:"fact,omitempty"` // a setting or a result, e.g. "journal.retention 180d"
	Why   Text   `json:"why"`
}

// CitedEntry is one row of the appendix.
type CitedEntry struct {
	Ref
	Actor  string `json:"actor"`
	Detail string `json:"detail,omitempty"`
}

// JournalStatus is the verification of the whole journal.
type JournalStatus struct {
	Verified         bool            `json:"verified"`
	Entries          int             `json:"entries"`
	Segments         int             `json:"segments"`
	Checkpoints      int             `json:"checkpoints"`
	Unsigned         int             `json:"unsigned"`
	NewestCheckpoint *CheckpointInfo `json:"newest_checkpoint,omitempty"`
	AnchorConfigured bool            `json:"anchor_configured"`
	Anchored         *CheckpointInfo `json:"anchored,omitempty"`
	FirstBad         *BadEntry       `json:"first_bad,omitempty"`
	Error            string          `json:"error,omitempty"`
	// PeriodEntries are the entries dated in the period.
	PeriodEntries int `json:"period_entries"`
	FirstSeq      int `json:"first_seq,omitempty"`
	LastSeq       int `json:"last_seq,omitempty"`
	// Unreadable counts lines Query could not read (Verify says why).
	Unreadable int `json:"unreadable,omitempty"`
}

// CheckpointInfo describes a signed checkpoint.
type CheckpointInfo struct {
	Size int       `json:"size"`
	Root string    `json:"root"`
	Time time.Time `json:"time"`
}

// BadEntry is where the journal first fails verification.
type BadEntry struct {
	Seq    int    `json:"seq"`
	Kind   string `json:"kind"`
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
}
