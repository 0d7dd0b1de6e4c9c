// Package pick chooses the database family (engine.Engine) for a DSN. It is
// the one place where a source's driver: or a DSN's scheme is read: every
// job gets its engine from here and never asks which one it got.
package pick

import (
	"fmt"
	"strings"

	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/mysql"
)

// Drivers are the names a source's driver: may take.
var Drivers = []string{"mysql"}

// Engine returns the family driver names, or, with driver "", the one the
// DSN's form says: a go-sql-driver DSN (user:password@tcp(host:3306)/db)
// is MySQL's.
func Engine(driver, dsn string) (engine.Engine, error) {
	switch strings.ToLower(driver) {
	case "mysql", "mariadb":
		return mysql.Engine{}, nil
	case "":
		return mysql.Engine{}, nil
	}
	return nil, fmt.Errorf("driver %q is not one of %s", driver, strings.Join(Drivers, ", "))
}
