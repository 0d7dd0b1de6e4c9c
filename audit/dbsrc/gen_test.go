package dbsrc

import (
	"fmt"
	"math/rand/v2"
)

// Generators of fake identifiers that are valid under SPEC §1, and of the
// look-alikes that are not.

var regions = []string{"110105", "310104", "440305", "510107", "330102", "420106", "610102", "120104"}

func idCheck(body string) byte {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * w[i]
	}
	return "10X98765432"[sum%11]
}

func genID(r *rand.Rand) string {
	body := fmt.Sprintf("%s%04d%02d%02d%03d", regions[r.IntN(len(regions))],
		1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28), r.IntN(1000))
	return body + string(idCheck(body))
}

// genSerial is a settlement serial: region + date + a 4-digit sequence. Its
// last digit equals the ID check character 1 time in 11.
func genSerial(r *rand.Rand) string {
	return fmt.Sprintf("%s%04d%02d%02d%04d", regions[r.IntN(len(regions))],
		2020+r.IntN(6), 1+r.IntN(12), 1+r.IntN(28), r.IntN(10000))
}

var mobilePrefixes = []string{"130", "135", "138", "139", "150", "158", "177", "186", "189", "199"}

func genMobile(r *rand.Rand) string {
	return fmt.Sprintf("%s%08d", mobilePrefixes[r.IntN(len(mobilePrefixes))], r.IntN(100000000))
}

func luhnComplete(body string) string {
	for c := '0'; c <= '9'; c++ {
		s := body + string(c)
		sum, alt := 0, false
		for i := len(s) - 1; i >= 0; i-- {
			d := int(s[i] - '0')
			if alt {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
			alt = !alt
		}
		if sum%10 == 0 {
			return s
		}
	}
	panic("unreachable")
}

func genCard(r *rand.Rand) string {
	return luhnComplete(fmt.Sprintf("622202%012d", r.Int64N(1e12)))
}

// genNote is a log line: mostly numbers that are no identifier (timestamps,
// order numbers, landlines, masked values), and a valid ID in share of them.
func genNote(r *rand.Rand, share float64) string {
	if r.Float64() < share {
		return "trace " + genID(r) + " ok"
	}
	switch r.IntN(5) {
	case 0:
		return fmt.Sprintf("trace %d ok", 1600000000000+r.Int64N(2e11)) // ms timestamp
	case 1:
		return fmt.Sprintf("trace 0755-%08d ok", r.IntN(1e8)) // landline
	case 2:
		return "trace 110***********1234 ok"
	case 3:
		return fmt.Sprintf("order %s done", genSerial(r))
	}
	return "无"
}
