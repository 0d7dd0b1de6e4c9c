// Package detect finds sensitive identifiers (SPEC §1) in bytes.
//
// One pass over the input finds candidates (digit runs, '@', full-width forms);
// only candidates reach the validators. There is no regular expression on the hot
// path. The package is a leaf: it imports only the standard library, x/text
// and x/sys/cpu (which picks the skip loop, trigger.go), and it never prints,
// logs or stores a value it finds.
//
// Tokens. An identifier is a whole token: the alphanumeric run that holds it
// (ASCII or full-width) is exactly the identifier, so a 13-digit timestamp holds
// no mobile number and an 18-digit ID inside a 23-digit run is nothing. Grouped
// forms (a card as 4-4-4-4-3, a mobile as 3-4-4, optionally after 86/+86/0086)
// are runs of short digit groups joined by one space or '-' each, and the whole
// run must be the identifier. Words that belong to an e-mail address (the
// local part before an '@', or a domain after one) are never reported on their
// own, nor are the digits after a decimal point ("0.13812345678").
//
// Locality. Whether a candidate is an identifier depends only on bytes within
// Overlap of it, never on where the scan started, which is what lets FindIn
// cut a stream into overlapping chunks and find each identifier exactly once.
package detect

import "unsafe"

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

// TypeNames are the types in the order people read them, with their
// Chinese names, for pages and reports.
var TypeNames = []struct{ Type, Chinese string }{
	{string(ResidentID), "身份证号"},
	{string(Mobile), "手机号"},
	{string(BankCard), "银行卡号"},
	{string(USCC), "统一社会信用代码"},
	{string(Email), "电子邮箱"},
	{string(Passport), "护照号"},
	{string(HMTPermit), "港澳台通行证"},
}

// Chinese is the type's Chinese name, or the type itself when it has none.
func Chinese(t string) string {
	for _, n := range TypeNames {
		if n.Type == t {
			return n.Chinese
		}
	}
	return t
}

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

// Overlap is the context, in bytes, that FindIn needs on each side of the
// range it reports: the longest span an identifier can take (an e-mail
// address, up to 64 characters of local part and 255 bytes of domain, in
// full-width forms three bytes a character) together with everything the
// decision about it looks at (keywords before it, the group before and after a
// grouped number, the '@' an address-like word leads to). A stream cut into
// chunks that each carry Overlap bytes of the neighbouring chunks finds every
// identifier exactly once.
const Overlap = 1024

// FindIn calls fn for every identifier whose Start lies in buf[lo:hi], in
// order of Start. Bytes outside [lo,hi) are context only (token boundaries,
// keywords), so a caller that cuts a stream into chunks overlapping by
// Overlap bytes on each side finds each identifier exactly once. Offsets in
// the Match are indexes into buf.
func FindIn(buf []byte, lo, hi int, fn func(Match)) {
	findIn(scanner{buf: buf}, lo, hi, fn)
}

// FindInBorrowed is FindIn for a caller that is done with each Match's
// Value before buf changes: a Value that is written plainly in buf (a run of
// ASCII digits, the common case) shares buf's memory instead of being
// copied, which spares an allocation for most identifiers of a dense text.
// Such a Value reads right only while buf is unchanged; whoever keeps one
// longer must copy it (strings.Clone).
func FindInBorrowed(buf []byte, lo, hi int, fn func(Match)) {
	findIn(scanner{buf: buf, borrow: true}, lo, hi, fn)
}

func findIn(s scanner, lo, hi int, fn func(Match)) {
	buf := s.buf
	if lo < 0 {
		lo = 0
	}
	if hi > len(buf) {
		hi = len(buf)
	}
	if lo >= hi {
		return
	}
	s.run(lo, hi, fn)
}

// Find returns every identifier in buf in order of Start.
func Find(buf []byte) []Match {
	var out []Match
	FindIn(buf, 0, len(buf), func(m Match) { out = append(out, m) })
	return out
}

// Count returns how many identifiers buf holds. It validates exactly as Find
// does but builds no values.
func Count(buf []byte) int {
	s := scanner{buf: buf, count: true}
	s.run(0, len(buf), nil)
	return s.found
}

// Whole reports the type of s when s (trimmed, full-width folded) is exactly
// one identifier, with its normalised value. It is meant for single database
// values. hint is a type that the column's name or comment suggests (may be
// ""): passport and permit numbers have no check digit and are reported only
// with that hint; a card hint also admits card numbers that start with 2 or 9.
func Whole(s string, hint Type) (Type, string, bool) {
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	lo, hi := 0, len(b)
	for lo < hi {
		c, n := charAt(b, lo)
		if !isSpace(c) {
			break
		}
		lo += n
	}
	for hi > lo {
		c, n := charBefore(b, hi)
		if !isSpace(c) {
			break
		}
		hi -= n
	}
	if lo >= hi || hi-lo > 2*Overlap {
		return "", "", false
	}
	sc := scanner{buf: b[lo:hi], hint: hint}
	var got Match
	cnt := 0
	sc.run(0, hi-lo, func(m Match) {
		cnt++
		got = m
	})
	if cnt == 1 && got.Start == 0 && got.End == hi-lo {
		return got.Type, got.Value, true
	}
	return "", "", false
}
