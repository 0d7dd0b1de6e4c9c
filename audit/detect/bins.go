package detect

import (
	"cmp"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// binsText is the table of issuer ranges (data/bins.txt: its comment gives
// the source and the shape).
//
//go:embed data/bins.txt
var binsText string

// binKey is how many leading digits of a card number the table compares: the
// longest prefix it holds. Cards have at least 15 digits.
const binKey = 10

// binRange is a range of binKey-digit keys, both ends included.
type binRange struct{ lo, hi uint64 }

// issuers holds, by card length, the ranges of data/bins.txt sorted and
// merged.
var issuers = func() [20][]binRange {
	t, err := parseBins(binsText)
	if err != nil {
		panic("detect: data/bins.txt: " + err.Error())
	}
	return t
}()

// parseBins reads the table: PREFIX[-PREFIX] LENGTHS ISSUER, '#' comments.
func parseBins(text string) ([20][]binRange, error) {
	var t [20][]binRange
	for n, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return t, fmt.Errorf("line %d: want PREFIX[-PREFIX] LENGTHS ISSUER", n+1)
		}
		a, z, _ := strings.Cut(f[0], "-")
		if z == "" {
			z = a
		}
		if len(a) != len(z) || len(a) < 1 || len(a) > binKey || !allDigits(a) || !allDigits(z) || a > z {
			return t, fmt.Errorf("line %d: prefix range %q: want 1 to %d digits, A-B of one length with A <= B", n+1, f[0], binKey)
		}
		scale := uint64(1)
		for i := len(a); i < binKey; i++ {
			scale *= 10
		}
		r := binRange{uint64(num(a)) * scale, uint64(num(z))*scale + scale - 1}
		for _, l := range strings.Split(f[1], ",") {
			k, err := strconv.Atoi(l)
			if err != nil || k < 15 || k > 19 {
				return t, fmt.Errorf("line %d: card length %q: want 15 to 19", n+1, l)
			}
			t[k] = append(t[k], r)
		}
	}
	for k, rs := range t {
		slices.SortFunc(rs, func(x, y binRange) int { return cmp.Compare(x.lo, y.lo) })
		var m []binRange
		for _, r := range rs {
			if len(m) > 0 && r.lo <= m[len(m)-1].hi+1 {
				m[len(m)-1].hi = max(m[len(m)-1].hi, r.hi)
				continue
			}
			m = append(m, r)
		}
		t[k] = m
	}
	return t, nil
}

// issuerRange reports whether the card number s (15 to 19 digits) starts
// with a range the table lists for its length.
func issuerRange[T text](s T) bool {
	rs := issuers[len(s)]
	key := uint64(num(s[:binKey]))
	// the last range that starts at or below key: rs[:i] start at or below it
	i, j := 0, len(rs)
	for i < j {
		h := int(uint(i+j) >> 1)
		if rs[h].lo <= key {
			i = h + 1
		} else {
			j = h
		}
	}
	return i > 0 && key <= rs[i-1].hi
}
