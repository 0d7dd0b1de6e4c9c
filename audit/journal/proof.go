package journal

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Entries proven: an evidence bundle carries some entries of the journal
// (a period's, and the report's own), one signed checkpoint that covers
// them, and for each entry an RFC 6962 inclusion proof in that checkpoint's
// tree. Anyone with the journal's public key can then check, without the
// journal, that each entry is exactly what the journal holds at its place.

// ProvenEntries are stored lines with what proves them.
type ProvenEntries struct {
	Lines      [][]byte           // stored lines (with newline), in seq order
	Seqs       []int              // the seq of each line
	Proofs     []tlog.RecordProof // inclusion proof of each line's leaf
	Checkpoint []byte             // signed note of the tree the proofs are for
	Size       int                // that tree's size
}

// Prove reads the entries with the given sequence numbers and proves them
// against the newest signed checkpoint, which must cover them all (sign one
// first, with Journal.Checkpoint). Memory is two hashes per entry of the
// journal, which the proofs need.
func Prove(dir string, seqs []int) (*ProvenEntries, error) {
	seqs = append([]int(nil), seqs...)
	sort.Ints(seqs)
	if len(seqs) == 0 {
		return nil, errors.New("journal: prove: no entries")
	}
	msg, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if err != nil {
		return nil, fmt.Errorf("journal: prove: no signed checkpoint: %w", err)
	}
	body, _, _ := bytes.Cut(msg, []byte("\n\n"))
	cp, err := parseCheckpointBody(string(body) + "\n")
	if err != nil {
		return nil, fmt.Errorf("journal: prove: checkpoint: %w", err)
	}
	if last := seqs[len(seqs)-1]; last > cp.Size {
		return nil, fmt.Errorf("journal: prove: entry %d is after the newest checkpoint (size %d): sign a checkpoint first", last, cp.Size)
	}
	sn, err := takeSnapshot(dir)
	if err != nil {
		return nil, err
	}
	want := map[int]bool{}
	for _, s := range seqs {
		want[s] = true
	}
	p := &ProvenEntries{Checkpoint: msg, Size: cp.Size}
	first, err := firstLine(filepath.Join(dir, segName(1)))
	if err != nil {
		return nil, fmt.Errorf("journal: prove: %s: %v (run atrest audit verify)", segName(1), err)
	}
	s, err := lineSuite(first)
	if err != nil {
		return nil, fmt.Errorf("journal: prove: %s:1: %v (run atrest audit verify)", segName(1), err)
	}
	var stored merkleLevels
	h := newHasher(s)
	n := 0
	for _, sf := range sn.segs {
		if n >= cp.Size {
			break
		}
		r, err := openAt(filepath.Join(dir, sf.name), 0, sf.size)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		lr := newLineReader(r)
		for n < cp.Size {
			line, complete, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil || !complete {
				r.Close()
				return nil, fmt.Errorf("journal: prove: %s: unreadable line after entry %d (run atrest audit verify)", sf.name, n)
			}
			li, err := parseLayout(line)
			if err != nil || li.seq != n+1 {
				r.Close()
				return nil, fmt.Errorf("journal: prove: %s: entry %d is not where it belongs (run atrest audit verify)", sf.name, n+1)
			}
			_, leaf := h.entryHash(line, li)
			stored.add(h, leaf)
			n++
			if want[n] {
				p.Lines = append(p.Lines, append(append([]byte(nil), line...), '\n'))
				p.Seqs = append(p.Seqs, n)
			}
		}
		r.Close()
	}
	if n < cp.Size {
		return nil, fmt.Errorf("journal: prove: the checkpoint covers %d entries, the journal has %d (run atrest audit verify)", cp.Size, n)
	}
	if cp.Size == 0 || stored.hash(h, 0, cp.Size) != cp.Root {
		return nil, fmt.Errorf("journal: prove: the entries do not give the checkpoint's root (run atrest audit verify)")
	}
	if len(p.Seqs) != len(want) {
		return nil, fmt.Errorf("journal: prove: some entries asked for are not in the journal")
	}
	for _, s := range p.Seqs {
		proof, err := stored.prove(h, cp.Size, s-1)
		if err != nil {
			return nil, fmt.Errorf("journal: prove entry %d: %w", s, err)
		}
		p.Proofs = append(p.Proofs, proof)
	}
	return p, nil
}

// CheckProven checks proven entries with the journal's public key alone:
// the checkpoint's signature, each line's own hash and sequence number, the
// chain between consecutive entries, and each inclusion proof. It returns
// the checkpoint, or an error naming the first entry that fails. The hash
// is the suite of pub's (Ed25519: SHA-256, SM2: SM3).
func CheckProven(p *ProvenEntries, pub crypto.PublicKey) (Checkpoint, error) {
	s, err := suite.Of(pub)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("journal: %w", err)
	}
	cp, err := openCheckpoint(p.Checkpoint, newKeyVerifiers(pub))
	if err != nil {
		return cp, fmt.Errorf("journal: checkpoint: %s", err)
	}
	if cp.Size != p.Size {
		return cp, fmt.Errorf("journal: checkpoint: says size %d, the proofs are for %d", cp.Size, p.Size)
	}
	if len(p.Lines) != len(p.Seqs) || len(p.Lines) != len(p.Proofs) {
		return cp, errors.New("journal: proven entries: lines, numbers and proofs do not pair up")
	}
	h := newHasher(s)
	prevSeq, prevHash := 0, []byte(nil)
	for i, line := range p.Lines {
		line = bytes.TrimSuffix(line, []byte("\n"))
		li, err := parseLayout(line)
		if err != nil {
			return cp, fmt.Errorf("journal: entry %d: %v", p.Seqs[i], err)
		}
		if li.seq != p.Seqs[i] {
			return cp, fmt.Errorf("journal: entry %d: the line says entry %d", p.Seqs[i], li.seq)
		}
		sum, leaf := h.entryHash(line, li)
		if !bytes.Equal(sum, li.hash) {
			return cp, fmt.Errorf("journal: entry %d: hash mismatch (edited)", li.seq)
		}
		if prevSeq > 0 && li.seq == prevSeq+1 && !bytes.Equal(li.prev, prevHash) {
			return cp, fmt.Errorf("journal: entry %d: prev does not match the hash of entry %d", li.seq, prevSeq)
		}
		if li.seq < 1 || li.seq > cp.Size {
			return cp, fmt.Errorf("journal: entry %d: outside the checkpoint's %d entries", li.seq, cp.Size)
		}
		if err := checkInclusion(h, p.Proofs[i], cp.Size, li.seq-1, leaf, cp.Root); err != nil {
			return cp, fmt.Errorf("journal: entry %d: not in the signed tree (%v)", li.seq, err)
		}
		prevSeq, prevHash = li.seq, append(prevHash[:0], li.hash...)
	}
	return cp, nil
}

// SignNote signs text (lines ending in newlines) as a signed note named
// name, with the journal key: what a bundle's manifest is signed with.
func SignNote(key crypto.Signer, name, text string) ([]byte, error) {
	s, err := suite.NoteSigner(name, key)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return note.Sign(&note.Note{Text: text}, s)
}

// OpenNote checks a note signed by SignNote with pub and returns its text.
func OpenNote(msg []byte, pub crypto.PublicKey) (string, error) {
	n, err := note.Open(msg, newKeyVerifiers(pub))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return "", errors.New("not signed by this journal's key")
		}
		return "", err
	}
	return n.Text, nil
}
