package backup

import (
	"fmt"
	"time"
)

// HumanDuration prints a duration the way people say it: 3h, 2d4h, 45m,
// 12s (rounded down; a negative one with a minus).
func HumanDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d >= 48*time.Hour:
		days := d / (24 * time.Hour)
		h := (d % (24 * time.Hour)) / time.Hour
		s = fmt.Sprintf("%dd", days)
		if h > 0 {
			s += fmt.Sprintf("%dh", h)
		}
	case d >= time.Hour:
		s = fmt.Sprintf("%dh", d/time.Hour)
		if m := (d % time.Hour) / time.Minute; m > 0 && d < 10*time.Hour {
			s += fmt.Sprintf("%dm", m)
		}
	case d >= time.Minute:
		s = fmt.Sprintf("%dm", d/time.Minute)
	default:
		s = fmt.Sprintf("%ds", d/time.Second)
	}
	if neg {
		return "-" + s
	}
	return s
}
