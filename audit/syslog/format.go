// Package syslog forwards journal entries to a central log-audit system
// (日志审计) as RFC 5424 messages over UDP (RFC 5426), TCP (RFC 6587 octet
// counting) or TLS (RFC 5425).
//
// It is a reader of the journal, never a second record: a cursor file says
// which entry was forwarded last, and the journal itself is the backlog while
// the receiver is down, so nothing is lost and nothing grows in memory but a
// bounded batch. Forwarding never blocks an append: the daemon forwards in
// the background, and a CLI command makes one bounded attempt after it has
// journaled its run.
//
// Delivery is at least once over TCP and TLS: plain syslog has no
// acknowledgement, so an entry counts as delivered once the connection is
// seen alive ConfirmAfter after it was written, and after a connection
// breaks the entries not yet confirmed are sent again (same seq and hash:
// the receiver can tell a repeat). A CLI command that exits right after its
// entries confirms them only by the connection being alive a moment later.
// Over UDP it is best effort, as UDP syslog is.
//
// What a message may carry is what the journal carries: kinds, subjects,
// outcomes, counts, hashes — never an identifier value (the journal refuses
// values in figures, and subjects and details are masked by their callers).
package syslog

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrest/atrest/audit/journal"
)

const (
	// facilityLogAudit is RFC 5424 facility 13, "log audit".
	facilityLogAudit = 13
	// SDID is the structured-data ID (SPEC §7). 32473 is the private
	// enterprise number RFC 5612 reserves for documentation.
	SDID    = "atrest@32473"
	appName = "atrest"
)

// Severities (RFC 5424).
const (
	sevWarning = 4
	sevNotice  = 5
	sevInfo    = 6
)

// severity maps an entry's outcome: what went as it should is informational,
// a warning verdict is a notice, and everything else (fail, error, denied,
// findings) is a warning for the appliance's operator to look at.
func severity(outcome string) int {
	switch outcome {
	case "ok", "pass", "skipped", "started":
		return sevInfo
	case "warn":
		return sevNotice
	}
	return sevWarning
}

// Format renders e as one RFC 5424 message (without transport framing). host
// is the HOSTNAME field; maxLen bounds the whole message, cutting the free
// text at the end (never the structured data) where it would be longer.
func Format(e journal.Entry, host string, maxLen int) []byte {
	var b strings.Builder
	b.WriteByte('<')
	b.WriteString(strconv.Itoa(facilityLogAudit*8 + severity(e.Outcome)))
	b.WriteString(">1 ")
	if e.Time.IsZero() {
		b.WriteString("-")
	} else {
		b.WriteString(e.Time.Format("2006-01-02T15:04:05.000000Z07:00"))
	}
	b.WriteByte(' ')
	b.WriteString(headerField(host, 255))
	b.WriteByte(' ')
	b.WriteString(appName)
	b.WriteByte(' ')
	if e.Actor.PID > 0 {
		b.WriteString(strconv.Itoa(e.Actor.PID))
	} else {
		b.WriteByte('-')
	}
	b.WriteByte(' ')
	b.WriteString(headerField(e.Kind, 32))
	b.WriteString(" [")
	b.WriteString(SDID)
	param(&b, "seq", strconv.Itoa(e.Seq))
	param(&b, "kind", e.Kind)
	param(&b, "outcome", e.Outcome)
	param(&b, "hash", e.Hash)
	if u := e.Actor.WebUser; u != "" {
		param(&b, "user", u)
	} else if e.Actor.OSUser != "" {
		param(&b, "user", e.Actor.OSUser)
	}
	if e.Subject != "" {
		param(&b, "subject", e.Subject)
	}
	b.WriteByte(']')
	text := e.Kind + " " + e.Subject + ": " + e.Outcome
	if e.Detail != "" {
		text += " — " + e.Detail
	}
	// MSG is UTF-8 with its BOM (RFC 5424 §6.4): subjects and details are often Chinese.
	msg := b.String() + " \ufeff" + text
	if maxLen > 0 && len(msg) > maxLen {
		msg = truncateUTF8(msg, maxLen)
	}
	return []byte(msg)
}

// headerField makes s a valid header field: printable US-ASCII without
// spaces, at most n bytes, "-" when empty.
func headerField(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		if c := s[i]; c > 32 && c < 127 {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// param writes ` name="value"` with the escapes RFC 5424 §6.3.3 requires.
func param(b *strings.Builder, name, value string) {
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString(`="`)
	for _, r := range value {
		switch r {
		case '"', '\\', ']':
			b.WriteByte('\\')
		}
		if r == utf8.RuneError || r < 32 {
			r = ' '
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
}

// truncateUTF8 cuts s to at most n bytes at a rune boundary.
func truncateUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
