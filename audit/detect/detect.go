// Package detect finds sensitive identifiers (SPEC §1) in bytes.
//
// One pass over the input finds candidates (digit runs, '@', full-width forms);
// only candidates reach the validators. There is no regular expression on the hot
// path. The package is a leaf: it imports only the standard library and x/text,
// and it never prints, logs or stores a value it finds.
package detect

// Type is a canonical detector name (SPEC §1).
type Type string

const (
	ResidentID Type = "cn_resident_id"
	Mobile     Type = "cn_mobile"
	BankCard   Type = "bank_card"
	USCC       Type = "cn_uscc"
	Email      Type = "email"
	Passport   Type = "cn_passport"
	HMTPermit  Type = "cn_hmt_permit"
)

// Types lists every detector type in precedence order.
var Types = []Type{ResidentID, USCC, BankCard, Mobile, Email, Passport, HMTPermit}

// Match is one identifier found in a buffer.
type Match struct {
	Type Type
	// Start and End are byte offsets of the identifier as written in the
	// buffer (separators and a +86 prefix included).
	Start, End int
	// Value is the normalised identifier: ASCII, no separators, no country
	// code, upper-case X. It feeds the fingerprint and the mask and must never
	// be printed.
	Value string
}
