package dbsrc

import (
	"github.com/atrest/atrest/audit/detect"
	"github.com/atrest/atrest/engine"
)

// Column states (SPEC §3).
const (
	StatePlaintext = "plaintext"
	StateMasked    = "masked"
	StateHashed    = "hashed"
	StateEncrypted = "encrypted"
	StateNone      = "none"
)

// Severities, worst first (the engine's: a server record carries one too).
const (
	SeverityHigh   = engine.SeverityHigh   // identifiers in plaintext in a table not encrypted at rest
	SeverityMedium = engine.SeverityMedium // plaintext in an encrypted table; unkeyed hashes of identifiers; no TLS
	SeverityLow    = engine.SeverityLow    // masked identifiers
)

// Confidence of a verdict.
const (
	ConfidenceLow    = "low"
	ConfidenceMedium = "medium"
	ConfidenceHigh   = "high"
)

// ColumnVerdict says what one column holds, judged from a sample. It never
// carries a raw value: only a mask and the keyed fingerprint of one example.
type ColumnVerdict struct {
	Record   string      `json:"record"` // always "column"
	Database string      `json:"database"`
	Table    string      `json:"table"`
	Column   string      `json:"column"`
	DataType string      `json:"data_type"`
	Type     detect.Type `json:"type"`
	State    string      `json:"state"`
	// Sampled counts the non-empty values looked at; Matched those that
	// support the state (valid identifiers of Type for plaintext and none,
	// values of that shape for masked, hashed, encrypted); Ratio is
	// Matched/Sampled.
	Sampled int     `json:"sampled"`
	Matched int     `json:"matched"`
	Ratio   float64 `json:"ratio"`
	// Candidates counts values holding something shaped like a Type
	// identifier (an 18-digit run, an 11-digit run starting with 1 …);
	// PassRate is Matched/Candidates, the checksum pass rate that tells an ID
	// column (≈1) from serial numbers (≈0.09).
	Candidates     int     `json:"candidates,omitempty"`
	PassRate       float64 `json:"pass_rate,omitempty"`
	Confidence     string  `json:"confidence"`
	Hint           string  `json:"hint,omitempty"`   // why the name or comment raised confidence
	Reason         string  `json:"reason,omitempty"` // what the values look like
	MaskedExample  string  `json:"masked_example,omitempty"`
	Fingerprint    string  `json:"fingerprint,omitempty"` // of the masked example's value
	TableEncrypted bool    `json:"table_encrypted"`
	Severity       string  `json:"severity,omitempty"`
}

// TableRecord says how a table was sampled and whether its storage is
// encrypted at rest.
type TableRecord struct {
	Record       string `json:"record"` // always "table"
	Database     string `json:"database"`
	Table        string `json:"table"`
	Engine       string `json:"engine,omitempty"`
	RowsEstimate int64  `json:"rows_estimate"` // the server's estimate; -1: it has none (PostgreSQL before ANALYZE)
	Sampled      int    `json:"sampled"`       // rows read
	Columns      int    `json:"columns"`       // columns sampled
	// Method is key_ranges (rows from random points of an integer key) or
	// head (the first rows, with Reason saying why).
	Method           string  `json:"method,omitempty"`
	Key              string  `json:"key,omitempty"`
	Reason           string  `json:"reason,omitempty"`
	EncryptedAtRest  bool    `json:"encrypted_at_rest"`
	Encryption       string  `json:"encryption,omitempty"` // how encrypted_at_rest was established
	PlaintextColumns int     `json:"plaintext_columns"`
	Severity         string  `json:"severity,omitempty"`
	Seconds          float64 `json:"seconds"`
	Error            string  `json:"error,omitempty"`
}

// ServerRecord gives the server's encryption, transport and logging
// settings, as its engine reads them.
type ServerRecord = engine.ServerRecord

func (*ColumnVerdict) Kind() string { return "column" }
func (*TableRecord) Kind() string   { return "table" }
