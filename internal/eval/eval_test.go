package eval

import (
	"strings"
	"testing"
)

func TestValidators(t *testing.T) {
	for _, c := range []struct {
		s    string
		fn   func(string) bool
		want bool
	}{
		{"11010519491231002X", IsResidentID, true},
		{"11010519491231002x", IsResidentID, true},
		{"110105194912310021", IsResidentID, false}, // check digit
		{"110105491231002", IsResidentID, true},     // legacy 15 digits
		{"13812345678", IsMobile, true},
		{"12812345678", IsMobile, false},
		{"6222021234567890127", IsCard, false},
		{"4111111111111111", IsCard, true},
		{"91350100M000100Y43", IsUSCC, true},
		{"91350100M000100Y44", IsUSCC, false},
	} {
		if got := c.fn(c.s); got != c.want {
			t.Errorf("%s: %v, want %v", c.s, got, c.want)
		}
	}
	if l := Leaks(`{"masked":"110***********002X","fp":"ab11010519491231002Xcd"} 13812345678`); len(l) != 2 {
		t.Errorf("leaks %v, want the embedded ID and the mobile", l)
	}
}

func TestScoreFiles(t *testing.T) {
	labels := FileLabels{States: map[string]string{"b.age": "encrypted"}}
	labels.Lines = append(labels.Lines, struct {
		Path string `json:"path"`
		Line int    `json:"line"`
		Type string `json:"type"`
	}{"a.txt", 3, "cn_mobile"})
	out := strings.Join([]string{
		`{"record":"finding","path":"/r/a.txt","line":3,"type":"cn_mobile"}`,
		`{"record":"file","path":"/r/b.age","state":"encrypted"}`,
	}, "\n")
	if r := ScoreFiles(labels, "/r", out); !r.OK() || r.Recall != 1 {
		t.Errorf("all right scored as:\n%s", r)
	}
	out += "\n" + `{"record":"finding","path":"/r/a.txt","line":4,"type":"cn_mobile"}`
	if r := ScoreFiles(labels, "/r", out); r.OK() || r.Types[0].FP != 1 {
		t.Errorf("a false positive scored as:\n%s", r)
	}
}

func TestScoreDB(t *testing.T) {
	labels := []ColumnLabel{{"d", "t", "c", "cn_mobile", "plaintext"}}
	ok := `{"record":"column","database":"d","table":"t","column":"c","type":"cn_mobile","state":"plaintext"}`
	if r := ScoreDB(labels, ok); !r.OK() {
		t.Errorf("right scored as %s", r)
	}
	alarm := ok + "\n" + `{"record":"column","database":"d","table":"t","column":"x","type":"bank_card","state":"plaintext"}`
	if r := ScoreDB(labels, alarm); r.OK() || len(r.FalseAlarms) != 1 {
		t.Errorf("false alarm scored as %s", r)
	}
}
