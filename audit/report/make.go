package report

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/atrest/atrest/audit/evidence"
	"github.com/atrest/atrest/audit/journal"
)

// Maker makes a period's report the one way `atrest report` and the
// dashboard's audit page both hand it out: the whole journal verified
// first, the report built, journaled (kind report) with a checkpoint
// signed over its entry, then written as HTML, JSON or a signed evidence
// bundle. It reads the journal and the functions it is given, nothing else.
type Maker struct {
	Config     Config
	JournalDir string
	// Verify verifies the whole journal, with its anchor when one is
	// configured (journal.VerifyContext).
	Verify func(context.Context) (journal.Report, error)
	// Journal gives the journal the report's own entry goes to; it is
	// called after verification. When the journal fails verification an
	// error here is not fatal: a torn journal refuses appends until `atrest
	// audit recover`, and the report, unjournaled, still says what broke.
	Journal func() (Journal, error)
	// BundleKey is the journal's signing key (Ed25519 or SM2), which signs
	// a bundle's manifest.
	BundleKey func() (crypto.Signer, error)
	Now       func() time.Time // default time.Now
}

// Journal is what a Maker needs of the journal: *journal.Journal is one.
type Journal interface {
	Append(journal.Entry) (journal.Entry, error)
	// Checkpoint signs a checkpoint over everything appended (and copies
	// it to the anchor): a bundle proves the report's entry against it.
	Checkpoint(context.Context) error
}

// Formats a Maker writes.
const (
	FormatHTML   = "html"
	FormatJSON   = "json"
	FormatBundle = "bundle"
)

// Request is one report to make.
type Request struct {
	Period Period
	Format string // FormatHTML, FormatJSON or FormatBundle
	// WebUser is the dashboard user who asked (actor.web_user of the
	// report's entry); empty from the command line. Process, if set, is
	// the entry's actor.process ("atrest serve").
	WebUser, Process string
}

// Made is what Make did besides writing.
type Made struct {
	Report *Report
	// Broken is the verification failure of a journal that does not
	// verify: the report was written and says where, and its evidence from
	// there on cannot be trusted.
	Broken error
	// Warning is a failure after the report was journaled (the anchor copy
	// of the checkpoint, say): worth a line, not a reason to withhold it.
	Warning error
}

// Make verifies the journal, builds the report for req.Period, journals it
// and writes it to w in req.Format. Nothing is written to w unless all of
// that worked; an error is for a report that could not be made at all.
func (m Maker) Make(ctx context.Context, req Request, w io.Writer) (Made, error) {
	switch req.Format {
	case FormatHTML, FormatJSON, FormatBundle:
	default:
		return Made{}, fmt.Errorf("report: format %q: want html, json or bundle", req.Format)
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	vrep, verr := m.Verify(ctx)
	var made Made
	if verr != nil {
		if vrep.FirstBad == nil && !errors.Is(verr, journal.ErrBroken) {
			return Made{}, fmt.Errorf("report: verify the journal: %w", verr)
		}
		made.Broken = verr
	}
	j, jerr := m.Journal()
	if jerr != nil && made.Broken == nil {
		return Made{}, fmt.Errorf("report: %w", jerr)
	}
	r, err := Build(ctx, Input{Config: m.Config, JournalDir: m.JournalDir, Verify: vrep, VerifyErr: verr,
		Period: req.Period, Now: now(), Journaled: jerr == nil})
	if err != nil {
		return Made{}, err
	}
	made.Report = r
	if jerr == nil {
		e := r.JournalEntry(req.Format)
		e.Actor.WebUser, e.Actor.Process = req.WebUser, req.Process
		stored, err := j.Append(e)
		if err != nil && !errors.Is(err, journal.ErrAnchor) {
			return Made{}, fmt.Errorf("report: journal: %w", err)
		}
		made.Warning = err
		if err := j.Checkpoint(ctx); err != nil {
			if req.Format == FormatBundle && !errors.Is(err, journal.ErrAnchor) {
				return Made{}, fmt.Errorf("report: sign a checkpoint over the report's entry %d: %w", stored.Seq, err)
			}
			made.Warning = errors.Join(made.Warning, err)
		}
		r.Attach(stored)
	}
	var buf bytes.Buffer
	switch req.Format {
	case FormatHTML:
		err = r.WriteHTML(&buf)
	case FormatJSON:
		err = r.WriteJSON(&buf)
	case FormatBundle:
		if r.Entry == nil {
			return Made{}, fmt.Errorf("report: a bundle needs the report journaled, and the journal cannot take entries: %v", jerr)
		}
		err = m.writeBundle(&buf, r, now())
	}
	if err != nil {
		return Made{}, err
	}
	_, err = buf.WriteTo(w)
	return made, err
}

// writeBundle writes the signed evidence bundle of r: the report in both
// formats, the period's entries and the report's own with their proofs
// against the newest checkpoint (Make signed one over the report's entry),
// and the manifest signed with the journal key.
func (m Maker) writeBundle(w io.Writer, r *Report, created time.Time) error {
	var html, js bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		return err
	}
	if err := r.WriteJSON(&js); err != nil {
		return err
	}
	seqs := []int{r.Entry.Seq}
	for e, err := range journal.Query(m.JournalDir, journal.Filter{Since: r.Period.From, Until: r.Period.To}) {
		if err != nil {
			return err
		}
		if e.Seq != r.Entry.Seq {
			seqs = append(seqs, e.Seq)
		}
	}
	proven, err := journal.Prove(m.JournalDir, seqs)
	if err != nil {
		return err
	}
	key, err := m.BundleKey()
	if err != nil {
		return err
	}
	return evidence.Write(w, key, evidence.Contents{Period: r.Period.Label, Created: created, Proven: proven,
		Files: []evidence.File{{Name: "report.html", Data: html.Bytes()}, {Name: "report.json", Data: js.Bytes()}}})
}
