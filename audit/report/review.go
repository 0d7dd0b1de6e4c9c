package report

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/atrest/atrest/audit/detect"
	"github.com/atrest/atrest/audit/journal"
)

// MaxNoteRunes bounds a review note: an attestation, not a document.
const MaxNoteRunes = 2000

// Review is an audit administrator's attestation that they reviewed the
// records of a period (GB/T 22239-2019 8.1.5.2), made from the dashboard
// or `atrest audit review`, after the caller authenticated the reviewer
// and checked their role.
type Review struct {
	Period  Period
	Note    string // what was reviewed and what was done about it
	Auditor string // the dashboard user, authenticated as an auditor
	Via     string // "dashboard" or "cli"
}

// Entry is the review's journal entry (kind review): the period's label as
// subject, the note as detail, the reviewer as actor.web_user, and
// figures.authenticated and figures.auditor, which ruleReview asks for
// before it counts a review towards MLPS-8.1.5.2. The note is refused
// (CheckNote) before anything is made.
func (rv Review) Entry() (journal.Entry, error) {
	if err := CheckNote(rv.Note); err != nil {
		return journal.Entry{}, err
	}
	if rv.Auditor == "" {
		return journal.Entry{}, errors.New("a review needs the authenticated auditor who made it")
	}
	return journal.Entry{Kind: KindReview, Subject: rv.Period.Label, Outcome: "ok", Detail: rv.Note,
		Actor: journal.Actor{WebUser: rv.Auditor},
		Figures: map[string]any{"auditor": true, "authenticated": true, "via": map[string]any{rv.Via: 1},
			"from_unix": rv.Period.From.Unix(), "to_unix": rv.Period.To.Unix()}}, nil
}

// CheckNote refuses an empty or oversized note and one that holds an
// identifier: the journal never holds a value (SPEC §2), and a reviewer's
// free text is the one place one could slip in.
func CheckNote(note string) error {
	switch {
	case note == "":
		return errors.New("note required: say what was reviewed and what was done about it")
	case !utf8.ValidString(note):
		return errors.New("note is not valid UTF-8")
	case utf8.RuneCountInString(note) > MaxNoteRunes:
		return fmt.Errorf("note longer than %d characters", MaxNoteRunes)
	}
	if ms := detect.Find([]byte(note)); len(ms) > 0 {
		return fmt.Errorf("note holds what looks like a %s identifier: write its mask or fingerprint instead", ms[0].Type)
	}
	return nil
}
