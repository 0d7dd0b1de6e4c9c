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

// Calling a column plaintext, from first principles.
//
// Coincidence: a number shaped like an identifier validates by chance at a
// known rate (chanceRate). Region+date+sequence serials pass the resident-ID
// check digit 1 time in 11; random 15–19 digit numbers pass Luhn 1 time in
// 10; but an 11-digit number starting with 1 has an allocated mobile prefix
// about half the time, because mobiles carry no check digit. Real identifier
// columns validate at 95–100% (the rest: typos, placeholders).
//
// So a column is judged by two numbers per type: candidates c (values holding
// a token of the type's shape), of which m validate, among n non-empty
// values. If a share f of the candidates are real identifiers and the rest
// validate by chance at rate p, the pass rate is m/c = f + (1-f)p, so
//
//	f = (m/c - p) / (1 - p)        the share of candidates that are real
//	real coverage = f · c / n      the share of values holding a real one
//
// The column is plaintext when
//   - real coverage ≥ minCoverage (0.3). This separates a column that stores
//     identifiers (an ID column ≈ 1; a remark "联系138…" in a third of the
//     rows ≈ 0.33) from free text where a valid-looking number turns up now
//     and then (decoys in a few % of log lines): 0.3 is ten times a
//     few-percent decoy rate. Serials score ≈ 0 here whatever their number,
//     since their pass rate is the chance rate. A name or comment hint for
//     the same type halves the bar (0.15): the hint is independent evidence,
//     and 15% of the values is still far more than stray decoys. A hint alone
//     never suffices: the values must carry the identifiers.
//   - m exceeds the chance expectation p·c by at least 3 standard deviations
//     of a binomial(c, p), so a small sample of random 1xx numbers (half of
//     which "are" mobiles) cannot pass by luck: at 30 candidates a column
//     needs 24 valid mobiles, at 1000 candidates 567. With a consistent
//     hint 2 standard deviations do (5 of 5 values of a `phone` column).
//
// Masked, hashed and encrypted need half the values of that shape
// (shapeShare): a column of mostly ciphertext with a few stray placeholders
// is still an encrypted column.
const (
	minCoverage       = 0.3
	minCoverageHinted = 0.15
	minSigma          = 3.0
	minSigmaHinted    = 2.0
	shapeShare        = 0.5
)

// chanceRate is the share of tokens shaped like the type that validate by
// chance (see above). E-mail addresses, passports and permits have no check
// to pass by chance: their shape is their validation.
var chanceRate = map[detect.Type]float64{
	detect.ResidentID: 1.0 / 11, // check character, given a plausible region and date
	detect.Mobile:     0.52,     // 52 of the 100 prefixes 100–199 are allocated
	detect.BankCard:   0.1,      // Luhn
	detect.USCC:       1.0 / 31, // the mod-31 check alone; the GB 11714 check makes it rarer
}

// plaintextTest applies the rule above to m valid values out of c
// candidates among n values; it returns the estimated real coverage.
func plaintextTest(m, c, n int, t detect.Type, hinted bool) (bool, float64) {
	real, sig := realShare(m, c, n, t, hinted)
	return sig && real >= coverageNeeded(hinted), real
}

func coverageNeeded(hinted bool) float64 {
	if hinted {
		return minCoverageHinted
	}
	return minCoverage
}

// realShare estimates the share of the n values that hold a real identifier
// of type t, and whether m valid ones out of c candidates are beyond chance.
func realShare(m, c, n int, t detect.Type, hinted bool) (real float64, significant bool) {
	if m == 0 || n == 0 {
		return 0, false
	}
	c = max(c, m)
	p := chanceRate[t]
	f := (float64(m)/float64(c) - p) / (1 - p)
	f = math.Max(0, math.Min(1, f))
	real = f * float64(c) / float64(n)
	sigma := minSigma
	if hinted {
		sigma = minSigmaHinted
	}
	excess := float64(m) - p*float64(c)
	return real, excess >= sigma*math.Sqrt(float64(c)*p*(1-p))
}

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
	h := st.col.hint
	v := &ColumnVerdict{State: StateNone, Sampled: st.sampled, Hint: h.why}
	n := st.sampled
	if n == 0 {
		v.Confidence = ConfidenceLow
		v.Reason = "no non-empty values in the sample"
		return v
	}

	// Plaintext: the type with the most valid values first; another type
	// may still pass where the first fails (a contact column of e-mails and
	// some mobiles).
	var best detect.Type
	for _, t := range detect.Types {
		if st.matched[t] > st.matched[best] {
			best = t
		}
	}
	var total, bestReal float64
	var top detect.Type
	for _, t := range byMatched(st.matched) {
		m, c := st.matched[t], max(st.candidates[t], st.matched[t])
		ok, real := plaintextTest(m, c, n, t, h.has(t))
		if ok {
			return st.plaintext(v, t, real, "")
		}
		if _, sig := realShare(m, c, n, t, h.has(t)); sig {
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
		return st.plaintext(v, top, bestReal, fmt.Sprintf("; with the other types, about %.0f%% of the values hold a real identifier", 100*total))
	}

	// Masked, hashed, encrypted, if most values have that shape. Hashed and
	// encrypted values count together (both are protected values); the
	// commoner names the column, unless the sizes vary: digests have one
	// length, ciphertext of varying plaintext has several (AES-CBC with an
	// IV gives 32, 48, 64 bytes, all of them digest sizes).
	masked := st.shapes[crypto.ShapeMasked]
	hashed, enc := st.shapes[crypto.ShapeHashed], st.shapes[crypto.ShapeEncrypted]
	var sh crypto.Shape
	var cnt int
	switch {
	case masked >= hashed+enc:
		sh, cnt = crypto.ShapeMasked, masked
	case enc >= hashed:
		sh, cnt = crypto.ShapeEncrypted, hashed+enc
	case st.varyingSizes():
		sh, cnt = crypto.ShapeEncrypted, hashed+enc
		st.shapeWhy[sh] = "digest-sized values of several sizes, as ciphertext has and digests never do"
	case st.sharedTails >= 2:
		// MySQL's AES_ENCRYPT is AES-ECB: values ending alike end in the
		// same cipher block. Digests never share a block.
		sh, cnt = crypto.ShapeEncrypted, hashed+enc
		st.shapeWhy[sh] = "digest-sized values that share their last 16-byte block: AES-ECB (AES_ENCRYPT) ciphertext"
	case h.protect == "encrypted":
		// Digest-sized, one size, no shared blocks: AES of short values
		// (one block) looks exactly like a digest. The name settles it.
		sh, cnt = crypto.ShapeEncrypted, hashed+enc
		st.shapeWhy[sh] = "digest-sized values in a column named as encrypted"
	default:
		sh, cnt = crypto.ShapeHashed, hashed+enc
	}
	if share := float64(cnt) / float64(n); cnt > 0 && share >= shapeShare {
		v.State, v.Matched, v.Ratio = sh.String(), cnt, round(share)
		v.Reason = fmt.Sprintf("%d of %d values %s (%s)", cnt, n, sh, st.shapeWhy[sh])
		v.Confidence = shapeConfidence(cnt, share, h.any())
		switch sh {
		case crypto.ShapeMasked:
			var mt detect.Type
			for _, t := range append([]detect.Type{""}, detect.Types...) {
				if st.maskedAs[t] > st.maskedAs[mt] {
					mt = t
				}
			}
			v.Type, v.MaskedExample = mt, st.maskedEx
		default:
			if len(h.types) > 0 {
				v.Type = h.types[0] // what the name says is hashed/encrypted
			}
		}
		return v
	}

	// None. Report the best type's counts: a serial column shows its ~9%
	// pass rate here, which is the reason it is not an ID column.
	v.Confidence = noneConfidence(n, h.any())
	if best != "" {
		m, c := st.matched[best], st.candidates[best]
		v.Matched, v.Candidates, v.Ratio = m, c, round(float64(m)/float64(n))
		v.PassRate = round(float64(m) / float64(max(c, 1)))
		_, real := plaintextTest(m, c, n, best, h.has(best))
		v.Reason = fmt.Sprintf("%d of %d values hold a valid %s and %d of %d shaped like one validate (chance: %.0f%%): about %.0f%% of the values hold a real one, too few for a column of identifiers",
			m, n, best, m, c, 100*chanceRate[best], 100*real)
	}
	return v
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

func (st *colStats) plaintext(v *ColumnVerdict, t detect.Type, real float64, more string) *ColumnVerdict {
	h, n := st.col.hint, st.sampled
	m, c := st.matched[t], max(st.candidates[t], st.matched[t])
	v.State, v.Type, v.Matched, v.Candidates = StatePlaintext, t, m, c
	v.Ratio, v.PassRate = round(float64(m)/float64(n)), round(float64(m)/float64(c))
	v.MaskedExample, v.Fingerprint = st.example[t], st.fp[t]
	v.Confidence = plaintextConfidence(m, c, real, h.has(t))
	v.Reason = fmt.Sprintf("%d of %d values hold a valid %s; %d of %d values shaped like one validate (chance: %.0f%%): about %.0f%% of the values hold a real one%s",
		m, n, t, m, c, 100*chanceRate[t], 100*real, more)
	return v
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

// plaintextConfidence: a handful of values proves little; a column where
// most values hold a real identifier, seen 30 times, is beyond doubt. A
// consistent name hint is independent evidence and raises the level by one.
func plaintextConfidence(matched, candidates int, real float64, hinted bool) string {
	level := 1
	switch {
	case matched < 5 || candidates < 10:
		level = 0
	case matched >= 30 && real >= 0.8:
		level = 2
	}
	if hinted {
		level++
	}
	return levels[min(level, 2)]
}

func shapeConfidence(count int, share float64, hinted bool) string {
	level := 1
	switch {
	case count < 10:
		level = 0
	case count >= 30 && share >= 0.9:
		level = 2
	}
	if hinted {
		level++
	}
	return levels[min(level, 2)]
}

// noneConfidence: "none" is only as good as the sample; a name that says
// "ID number" over values that are not makes it doubtful.
func noneConfidence(n int, hinted bool) string {
	level := 0
	switch {
	case n >= 100:
		level = 2
	case n >= 10:
		level = 1
	}
	if hinted {
		level--
	}
	return levels[max(level, 0)]
}

var levels = []string{ConfidenceLow, ConfidenceMedium, ConfidenceHigh}

// severity combines the column state with the table's encryption at rest:
// plaintext identifiers in an unencrypted table are the worst case (anyone
// with the data files or a backup of them reads them).
func severity(state string, tableEncrypted bool, v *ColumnVerdict) string {
	switch state {
	case StatePlaintext:
		if tableEncrypted {
			return SeverityMedium
		}
		return SeverityHigh
	case StateHashed:
		// An unkeyed hash of an ID number is reversed by enumerating the
		// ID space (SPEC §2); a hash of something else may be a password.
		if v.Type != "" {
			return SeverityMedium
		}
		return SeverityLow
	case StateMasked:
		return SeverityLow
	}
	return ""
}

var rank = map[string]int{"": 0, SeverityLow: 1, SeverityMedium: 2, SeverityHigh: 3}

func worse(a, b string) string {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func round(x float64) float64 { return math.Round(x*10000) / 10000 }
