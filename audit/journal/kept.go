package journal

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A kept checkpoint is one a compliance officer copied out of the journal
// (`atrest audit checkpoint > cp-2026-12.txt`) and keeps elsewhere. Someone
// who holds the signing key can rewrite the local entries, re-sign every
// local checkpoint and replace the anchor's copies, and the journal will
// still verify on its own; it cannot make today's entries hash to a root the
// officer kept. Holding the journal against kept checkpoints is the tlog
// consistency check of size N against today's tree, done directly: the first
// N leaves of today's tree must give the kept root.

// KeptCheckpoint is one signed note from a file an officer kept.
type KeptCheckpoint struct {
	File string // where it came from, for messages
	Note []byte // the signed note as written by `atrest audit checkpoint`
}

// ReadKeptCheckpoints reads every signed note in a file: one checkpoint, or
// several appended over time (`atrest audit checkpoint >> kept.txt`).
func ReadKeptCheckpoints(path string) ([]KeptCheckpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("journal: kept checkpoint: %w", err)
	}
	notes := splitNotes(b)
	if len(notes) == 0 {
		return nil, fmt.Errorf("journal: kept checkpoint %s: no signed note in it (a file written by atrest audit checkpoint)", path)
	}
	var out []KeptCheckpoint
	for _, n := range notes {
		out = append(out, KeptCheckpoint{File: filepath.Base(path), Note: n})
	}
	return out, nil
}

// splitNotes cuts concatenated signed notes apart: each is text lines, a
// blank line, then signature lines starting with "— ".
func splitNotes(b []byte) [][]byte {
	var notes [][]byte
	lines := strings.SplitAfter(string(b), "\n")
	start, sawBlank, sawSig := 0, false, false
	flush := func(end int) {
		if sawSig {
			notes = append(notes, []byte(strings.Join(lines[start:end], "")))
		}
		start, sawBlank, sawSig = end, false, false
	}
	for i, l := range lines {
		switch {
		case sawBlank && strings.HasPrefix(l, "— "):
			sawSig = true
		case sawSig:
			// The first line after the signatures starts the next note.
			flush(i)
			if strings.TrimSpace(l) == "" {
				start = i + 1
			}
		case strings.TrimSpace(l) == "" && !sawBlank && i > start:
			sawBlank = true
		case strings.TrimSpace(l) == "" && i == start:
			start = i + 1 // blank lines between notes
		}
	}
	flush(len(lines))
	return notes
}

// KeptResult says how the journal stands against one kept checkpoint.
type KeptResult struct {
	File       string
	Checkpoint Checkpoint
	Extends    bool // today's journal extends it
	// Pruned: it is older than the entries retention kept, so it could not
	// be held against them (neither extended nor contradicted).
	Pruned bool
}

// VerifyFrom is VerifyContext that also holds the journal against
// checkpoints kept elsewhere. Kept notes must be signed by pub. A journal
// that does not extend one fails with a ProblemCheckpoint at the kept size,
// whose reason names the range of entries that were rewritten: after the
// largest kept checkpoint it still extends, up to the size of the first it
// does not. The results list every kept checkpoint reached.
func VerifyFrom(ctx context.Context, dir string, pub crypto.PublicKey, anchor Anchor, kept []KeptCheckpoint) (Report, []KeptResult, error) {
	var results []KeptResult
	var checks []*ckptCheck
	for _, k := range kept {
		c := &ckptCheck{file: "kept:" + k.File, kept: true}
		cp, err := openCheckpoint(k.Note, newKeyVerifiers(pub))
		if err != nil {
			return Report{}, nil, fmt.Errorf("journal: kept checkpoint in %s: %s", k.File, err)
		}
		c.cp, c.size = cp, cp.Size
		checks = append(checks, c)
	}
	rep, err := verify(ctx, dir, pub, anchor, checks)
	var p *Problem
	broken := errors.As(err, &p)
	if err != nil && !broken {
		return rep, nil, err
	}
	for _, c := range checks {
		results = append(results, KeptResult{File: strings.TrimPrefix(c.file, "kept:"), Checkpoint: c.cp, Extends: c.verified,
			Pruned: rep.Base != nil && c.size < rep.Base.Seq})
	}
	return rep, results, err
}

// keptReason explains a kept checkpoint whose root the entries do not give.
func (v *verifier) keptReason(c *ckptCheck) string {
	from := 1
	for size, cs := range v.bySize {
		for _, o := range cs {
			if o.kept && o.verified && size < c.size && size+1 > from {
				from = size + 1
			}
		}
	}
	return fmt.Sprintf("the journal does not extend the checkpoint kept in %s (size %d, signed %s): entries %d..%d were rewritten after it was signed",
		strings.TrimPrefix(c.file, "kept:"), c.size, c.cp.Time.Format("2006-01-02T15:04:05Z07:00"), from, c.size)
}
