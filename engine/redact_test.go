package engine

import (
	"fmt"
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	r := NewRedactor("s3cret")
	err := r.Err(fmt.Errorf("x: %w", fmt.Errorf("dial scan:s3cret@db")))
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error not redacted: %v", err)
	}
	if got := NewRedactor("pw").String("pw 1pw"); got != "pw 1pw" {
		t.Errorf("a short password scrubbed everything: %q", got)
	}
}
