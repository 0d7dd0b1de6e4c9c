package dbsrc

import (
	"math"

	"github.com/atrest/atrest/audit/detect"
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
