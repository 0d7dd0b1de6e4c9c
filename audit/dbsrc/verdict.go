package dbsrc

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"unicode/utf8"

	"github.com/atrest/atrest/audit/detect"
	"github.com/atrest/atrest/crypto"
)

// colStats accumulates what one column's sampled values look like. It keeps
// counts and masked examples only, never a value.
type colStats struct {
	col         *column
	sampled     int
	matched     map[detect.Type]int
	candidates  map[detect.Type]int
	example     map[detect.Type]string // crypto.Mask of the first valid value
	fp          map[detect.Type]string
	shapes      [4]int // by crypto.Shape
	shapeWhy    [4]string
	sizes       map[int]int       // decoded sizes of hex/base64/binary hashes and ciphertext
	tails       map[uint64]uint64 // last-block id → hash of the value (0 once shared)
	sharedTails int
	maskedAs    map[detect.Type]int
	maskedEx    string
	extraHints  []detect.Type // passport / permit: only looked for when the column suggests them
	fper        *crypto.Fingerprinter
	mainHint    detect.Type
}

func newColStats(c *column, fp *crypto.Fingerprinter) *colStats {
	st := &colStats{col: c, fper: fp, matched: map[detect.Type]int{}, candidates: map[detect.Type]int{},
		example: map[detect.Type]string{}, fp: map[detect.Type]string{}, maskedAs: map[detect.Type]int{},
		sizes: map[int]int{}, tails: map[uint64]uint64{}}
	if len(c.hint.types) > 0 {
		st.mainHint = c.hint.types[0]
	}
	for _, t := range c.hint.types {
		if t != st.mainHint && (t == detect.Passport || t == detect.HMTPermit) {
			st.extraHints = append(st.extraHints, t)
		}
	}
	return st
}

// add judges one value. v is only valid during the call.
func (st *colStats) add(v []byte) {
	if v == nil {
		return // NULL
	}
	text := utf8.Valid(v)
	if text {
		v = bytes.TrimSpace(v)
	}
	if len(v) == 0 {
		return
	}
	st.sampled++

	found := map[detect.Type]string{}
	if text {
		s := string(v)
		// The column's main hint widens what Whole accepts (a card hint
		// admits cards starting with 2 or 9); passports and permits are
		// looked for only under a hint that names them.
		if t, norm, ok := detect.Whole(s, st.mainHint); ok {
			found[t] = norm
		} else {
			for _, h := range st.extraHints {
				if t, norm, ok := detect.Whole(s, h); ok {
					found[t] = norm
					break
				}
			}
		}
	}
	if len(found) == 0 {
		// Identifiers inside JSON and free text; also ASCII digits inside
		// GB18030 text in a blob.
		for _, m := range detect.Find(v) {
			if _, dup := found[m.Type]; !dup {
				found[m.Type] = m.Value
			}
		}
	}
	cand := shapes(v)
	for t, norm := range found {
		st.matched[t]++
		if _, ok := st.example[t]; !ok {
			st.example[t] = crypto.Mask(norm)
			if st.fper != nil {
				st.fp[t] = st.fper.Sum(norm)
			}
		}
		cand |= shapeOf[t]
	}
	for t, bit := range shapeOf {
		if cand&bit != 0 {
			st.candidates[t]++
		}
	}
	for _, t := range []detect.Type{detect.Passport, detect.HMTPermit} {
		if _, ok := found[t]; ok {
			st.candidates[t]++
		}
	}

	cl := crypto.Classify(string(v))
	sh := cl.Shape
	st.shapes[sh]++
	if st.shapeWhy[sh] == "" {
		st.shapeWhy[sh] = cl.Reason
	}
	if cl.Size > 0 && len(st.sizes) < 64 {
		st.sizes[cl.Size]++
	}
	if cl.Shape == crypto.ShapeHashed && cl.TailBlock != 0 && len(st.tails) < 4096 {
		h := fnv.New64a()
		h.Write(v)
		if whole, ok := st.tails[cl.TailBlock]; !ok {
			st.tails[cl.TailBlock] = h.Sum64()
		} else if whole != h.Sum64() && whole != 0 {
			st.sharedTails++ // two different values, one last block: ECB
			st.tails[cl.TailBlock] = 0
		}
	}
	if sh == crypto.ShapeMasked {
		st.maskedAs[maskedType(string(v), st.col.hint)]++
		if st.maskedEx == "" {
			st.maskedEx = crypto.Mask(string(v))
		}
	}
}

// verdict turns the counts into a column verdict (without the identifying
// fields, which the caller fills in).
func (st *colStats) verdict() *ColumnVerdict {
	v := &ColumnVerdict{State: StateNone, Sampled: st.sampled, Hint: st.col.hint.why}
	if st.sampled == 0 {
		v.Confidence = ConfidenceLow
		v.Reason = "no non-empty values in the sample"
		return v
	}
	if st.plaintextVerdict(v) || st.shapeVerdict(v) {
		return v
	}
	st.noneVerdict(v)
	return v
}

// plaintextVerdict applies the rule in rules.go to each type, the type with
// the most valid values first; another type may still pass where the first
// fails (a contact column of e-mails and some mobiles).
func (st *colStats) plaintextVerdict(v *ColumnVerdict) bool {
	h, n := st.col.hint, st.sampled
	var total, bestReal float64
	var top detect.Type
	for _, t := range byMatched(st.matched) {
		m, c := st.matched[t], max(st.candidates[t], st.matched[t])
		if ok, real := plaintextTest(m, c, n, t, h.has(t)); ok {
			st.plaintext(v, t, real, "")
			return true
		}
		if real, sig := realShare(m, c, n, t, h.has(t)); sig {
			total += real
			if real > bestReal {
				top, bestReal = t, real
			}
		}
	}
	// Free text with several kinds of identifier (phones in some remarks, ID
	// numbers in others) leaks as much as text with one kind: add up the
	// real shares of the types that are each beyond chance.
	if top != "" && total >= coverageNeeded(h.has(top)) {
		st.plaintext(v, top, bestReal, fmt.Sprintf("; with the other types, about %.0f%% of the values hold a real identifier", 100*total))
		return true
	}
	return false
}

// shapeVerdict: masked, hashed or encrypted, if most values have that
// shape. Hashed and encrypted values count together (both are protected
// values); the commoner names the column, unless the values say otherwise:
// digests have one length and never share a cipher block.
func (st *colStats) shapeVerdict(v *ColumnVerdict) bool {
	h, n := st.col.hint, st.sampled
	masked := st.shapes[crypto.ShapeMasked]
	hashed, enc := st.shapes[crypto.ShapeHashed], st.shapes[crypto.ShapeEncrypted]
	sh, cnt, why := crypto.ShapeHashed, hashed+enc, ""
	switch {
	case masked >= hashed+enc:
		sh, cnt = crypto.ShapeMasked, masked
	case enc >= hashed:
		sh = crypto.ShapeEncrypted
	case st.varyingSizes():
		// AES-CBC with an IV gives 32, 48, 64 bytes: digest sizes all.
		sh, why = crypto.ShapeEncrypted, "digest-sized values of several sizes, as ciphertext has and digests never do"
	case st.sharedTails >= 2:
		// MySQL's AES_ENCRYPT is AES-ECB: values ending alike end in the
		// same cipher block.
		sh, why = crypto.ShapeEncrypted, "digest-sized values that share their last 16-byte block: AES-ECB (AES_ENCRYPT) ciphertext"
	case h.protect == "encrypted":
		// One size, no shared block: AES of a short value (one block) looks
		// exactly like a digest. The name settles it.
		sh, why = crypto.ShapeEncrypted, "digest-sized values in a column named as encrypted"
	}
	share := float64(cnt) / float64(n)
	if cnt == 0 || share < shapeShare {
		return false
	}
	if why == "" {
		why = st.shapeWhy[sh]
	}
	v.State, v.Matched, v.Ratio = sh.String(), cnt, round(share)
	v.Reason = fmt.Sprintf("%d of %d values %s (%s)", cnt, n, sh, why)
	v.Confidence = shapeConfidence(cnt, share, h.any())
	if sh == crypto.ShapeMasked {
		var mt detect.Type
		for _, t := range append([]detect.Type{""}, detect.Types...) {
			if st.maskedAs[t] > st.maskedAs[mt] {
				mt = t
			}
		}
		v.Type, v.MaskedExample = mt, st.maskedEx
	} else if len(h.types) > 0 {
		v.Type = h.types[0] // what the name says is hashed or encrypted
	}
	return true
}

// noneVerdict reports the counts of the type with the most valid values: a
// serial column shows its ~9% pass rate here, the reason it is no ID column.
func (st *colStats) noneVerdict(v *ColumnVerdict) {
	h, n := st.col.hint, st.sampled
	v.Confidence = noneConfidence(n, h.any())
	best := byMatched(st.matched)
	if len(best) == 0 {
		return
	}
	t := best[0]
	m, c := st.matched[t], max(st.candidates[t], st.matched[t])
	real, _ := realShare(m, c, n, t, h.has(t))
	v.Matched, v.Candidates, v.Ratio = m, c, round(float64(m)/float64(n))
	v.PassRate = round(float64(m) / float64(c))
	v.Reason = fmt.Sprintf("%d of %d values hold a valid %s and %d of %d shaped like one validate (chance: %.0f%%): about %.0f%% of the values hold a real one, too few for a column of identifiers",
		m, n, t, m, c, 100*chanceRate[t], 100*real)
}

// varyingSizes: no one decoded size covers 90% of the sized values.
func (st *colStats) varyingSizes() bool {
	total, top := 0, 0
	for _, k := range st.sizes {
		total += k
		top = max(top, k)
	}
	return total >= 5 && float64(top) < 0.9*float64(total)
}

func (st *colStats) plaintext(v *ColumnVerdict, t detect.Type, real float64, more string) {
	h, n := st.col.hint, st.sampled
	m, c := st.matched[t], max(st.candidates[t], st.matched[t])
	v.State, v.Type, v.Matched, v.Candidates = StatePlaintext, t, m, c
	v.Ratio, v.PassRate = round(float64(m)/float64(n)), round(float64(m)/float64(c))
	v.MaskedExample, v.Fingerprint = st.example[t], st.fp[t]
	v.Confidence = plaintextConfidence(m, c, real, h.has(t))
	v.Reason = fmt.Sprintf("%d of %d values hold a valid %s; %d of %d values shaped like one validate (chance: %.0f%%): about %.0f%% of the values hold a real one%s",
		m, n, t, m, c, 100*chanceRate[t], 100*real, more)
}

// byMatched lists types with at least one valid value, most first, ties in
// detector precedence order.
func byMatched(m map[detect.Type]int) []detect.Type {
	var out []detect.Type
	for _, t := range detect.Types {
		if m[t] > 0 {
			out = append(out, t)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && m[out[j]] > m[out[j-1]]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func round(x float64) float64 { return math.Round(x*10000) / 10000 }
