package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
)

// ParseSchedule parses a cron expression (5 fields, an optional leading seconds
// field, or a descriptor like @daily).
func ParseSchedule(s string) (cron.Schedule, error) {
	if err := checkSteps(s); err != nil {
		return nil, err
	}
	return cronParser.Parse(s)
}

// cronField is one field of a cron expression and the values it takes.
type cronField struct {
	name     string
	min, max int
}

var (
	cronFields   = []cronField{{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 6}}
	secondsField = cronField{"second", 0, 59}
)

// checkSteps refuses a step that does not fit its field, such as */61 for
// minutes: robfig/cron takes it and fires at the range's start alone, which
// is not what anybody who wrote it meant. A step may be at most the
// field's span (59 for minutes).
func checkSteps(s string) error {
	fields := strings.Fields(s)
	if len(fields) == 0 || strings.HasPrefix(fields[0], "@") {
		return nil
	}
	spec := cronFields
	if len(fields) == 6 {
		spec = append([]cronField{secondsField}, cronFields...)
	}
	for i, f := range fields {
		if i >= len(spec) {
			break // cron's own parser says how many fields it wants
		}
		for _, part := range strings.Split(f, ",") {
			_, step, ok := strings.Cut(part, "/")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(step)
			if err != nil {
				continue // not a number: cron's own parser says so
			}
			if fd := spec[i]; n < 1 || n > fd.max-fd.min {
				return fmt.Errorf("step /%d in %q: the %s field runs %d-%d, so a step is 1-%d", n, part, fd.name, fd.min, fd.max, fd.max-fd.min)
			}
		}
	}
	return nil
}

func (t *translator) schedule(where []any, key, s string) string {
	if s == "" {
		return ""
	}
	if _, err := ParseSchedule(s); err != nil {
		t.fail(append(where, key), "%s %q: %v", key, s, err)
	}
	return s
}
