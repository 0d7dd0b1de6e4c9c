// Package audit holds what a scan of data at rest produces: the records that
// every output format and the journal share, and the pipeline that turns a
// source's text into findings. Records never carry a raw identifier (SPEC §2):
// only its mask and its keyed fingerprint.
package audit

import "github.com/atrest/atrest/audit/detect"

// File states (SPEC §3).
const (
	StateScanned   = "scanned"
	StateEncrypted = "encrypted"
	StateBinary    = "binary"
	StateSkipped   = "skipped"
	StateError     = "error"
)

// Record is anything a scan emits; Kind is the jsonl "record" field.
type Record interface{ Kind() string }

// Finding is one occurrence of an identifier in a file (or a DB value).
type Finding struct {
	Record      string      `json:"record"` // always "finding"
	Path        string      `json:"path"`
	Member      string      `json:"member,omitempty"`
	Line        int         `json:"line"`
	Type        detect.Type `json:"type"`
	Masked      string      `json:"masked"`
	Fingerprint string      `json:"fingerprint"`
}

func (Finding) Kind() string { return "finding" }

// FileRecord says what happened to one file or container member.
type FileRecord struct {
	Record   string `json:"record"` // always "file"
	Path     string `json:"path"`
	Member   string `json:"member,omitempty"`
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
	Format   string `json:"format,omitempty"` // text, gzip, zip, xlsx, docx …
	Encoding string `json:"encoding,omitempty"`
	Size     int64  `json:"size"`
	Findings int    `json:"findings"`
	// ByType counts the findings by type (a file record only, members
	// included); it is complete even when only some findings are listed.
	ByType map[string]int `json:"by_type,omitempty"`
	// NotRead is set when the file or member could hold text and was not
	// read: a short class ("read error", "pdf image-only" …) under which the
	// summary counts it; Reason says more.
	NotRead string `json:"not_read,omitempty"`
}

func (FileRecord) Kind() string { return "file" }
