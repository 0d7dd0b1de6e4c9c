package dbsrc

import (
	"fmt"
	"math/rand/v2"

	"github.com/atrest/atrest/internal/gen"
)

// The fake identifiers come from internal/gen, as the demo's and the
// benchmarks' do; these are the shapes the tests ask for by name.

func genID(r *rand.Rand) string     { return gen.From(r).ResidentID() }
func genSerial(r *rand.Rand) string { return gen.From(r).Serial() }
func genMobile(r *rand.Rand) string { return gen.From(r).Mobile() }
func genCard(r *rand.Rand) string   { return gen.From(r).Card() }

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
