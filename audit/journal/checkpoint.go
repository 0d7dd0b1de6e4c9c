package journal

import (
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint describes one signed checkpoint.
type Checkpoint struct {
	Origin string
	Size   int
	Root   tlog.Hash // String() gives the base64 form used in the note
	Time   time.Time // signed, from the note's "time" extension line
}

// ckptRecord is one line of checkpoints.jsonl. Only Note is signed; the other
// fields are where a writer resumes (Verify recomputes everything itself).
type ckptRecord struct {
	Size       int         `json:"size"`
	Note       string      `json:"note"`
	Hash       string      `json:"hash"`            // entry hash of entry Size
	Segment    int         `json:"segment"`         // segment holding entry Size
	Offset     int64       `json:"offset"`          // end of entry Size in that segment
	SegEntries int         `json:"segment_entries"` // entries in that segment up to Size
	Range      []tlog.Hash `json:"range"`           // compact range of the tree at Size
}

// checkpointBody is the C2SP tlog-checkpoint body, with one extension line
// carrying the signing time.
func checkpointBody(c Checkpoint) string {
	return fmt.Sprintf("%s\n%d\n%s\ntime %s\n", c.Origin, c.Size,
		base64.StdEncoding.EncodeToString(c.Root[:]), c.Time.UTC().Format(time.RFC3339Nano))
}

func parseCheckpointBody(text string) (Checkpoint, error) {
	var c Checkpoint
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || !strings.HasSuffix(text, "\n") {
		return c, errors.New("not a tlog checkpoint")
	}
	c.Origin = lines[0]
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if c.Origin == "" || err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return c, errors.New("not a tlog checkpoint: bad origin or size")
	}
	c.Size = int(n)
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return c, errors.New("not a tlog checkpoint: bad root hash")
	}
	copy(c.Root[:], root)
	for _, l := range lines[3:] {
		if t, ok := strings.CutPrefix(l, "time "); ok {
			c.Time, err = time.Parse(time.RFC3339Nano, t)
			if err != nil {
				return c, fmt.Errorf("not a tlog checkpoint: bad time: %w", err)
			}
		}
	}
	return c, nil
}

// keyVerifiers accepts signatures by pub under whatever key name the note
// uses, so a journal keeps verifying after its origin changes.
type keyVerifiers struct {
	pub   crypto.PublicKey
	cache map[string]note.Verifier
}

func newKeyVerifiers(pub crypto.PublicKey) *keyVerifiers {
	return &keyVerifiers{pub: pub, cache: map[string]note.Verifier{}}
}

func (k *keyVerifiers) Verifier(name string, hash uint32) (note.Verifier, error) {
	v, ok := k.cache[name]
	if !ok {
		var err error
		if v, err = suite.NoteVerifier(name, k.pub); err != nil {
			return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
		}
		k.cache[name] = v
	}
	if v.KeyHash() != hash {
		return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
	}
	return v, nil
}

// openCheckpoint checks a signed note and parses its body; the error says
// how a bad note is bad, in words for a Problem.
func openCheckpoint(msg []byte, vs *keyVerifiers) (Checkpoint, error) {
	n, err := note.Open(msg, vs)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return Checkpoint{}, errors.New("not signed by the journal key (forged checkpoint?)")
		case errors.As(err, &invalid):
			return Checkpoint{}, errors.New("signature does not verify (forged or edited checkpoint)")
		}
		return Checkpoint{}, fmt.Errorf("not a signed note: %v", err)
	}
	return parseCheckpointBody(n.Text)
}

// defaultOrigin names a journal after its host, in the C2SP origin style.
func defaultOrigin(host string) string {
	host = strings.Map(func(r rune) rune {
		if r == '+' || unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, host)
	if host == "" {
		host = "localhost"
	}
	return "atrest.journal/" + host
}
