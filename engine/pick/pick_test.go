package pick

import "testing"

func TestEngine(t *testing.T) {
	for _, c := range []struct{ driver, dsn, want string }{
		{"", "root@tcp(127.0.0.1:3306)/", "mysql"},
		{"", "postgres://u@h/db", "postgres"},
		{"", "postgresql://u@h/db", "postgres"},
		{"postgres", "host=h dbname=db", "postgres"},
		{"MySQL", "postgres://looks/like/pg", "mysql"},
	} {
		e, err := Engine(c.driver, c.dsn)
		if err != nil || e.Name() != c.want {
			t.Errorf("Engine(%q, %q) = %v, %v; want %s", c.driver, c.dsn, e, err, c.want)
		}
	}
	if _, err := Engine("oracle", "x"); err == nil {
		t.Error("an unknown driver was taken")
	}
}
