// Package pick chooses the database family (engine.Engine) for a DSN. It is
// the one place where a source's driver: or a DSN's scheme is read: every
// job gets its engine from here and never asks which one it got.
package pick

import (
	"fmt"
	"strings"

	"github.com/atrest/atrest/engine"
	"github.com/atrest/atrest/engine/mysql"
	"github.com/atrest/atrest/engine/postgres"
)

// Drivers are the names a source's driver: may take.
var Drivers = []string{"mysql", "postgres"}

// Engine returns the family driver names, or, with driver "", the one the
// DSN's scheme says: postgres:// and postgresql:// URLs are PostgreSQL's;
// anything else is a go-sql-driver DSN (user:password@tcp(host:3306)/db),
// MySQL's. PostgreSQL's keyword=value DSNs need driver: postgres.
func Engine(driver, dsn string) (engine.Engine, error) {
	switch strings.ToLower(driver) {
	case "mysql", "mariadb":
		return mysql.Engine{}, nil
	case "postgres", "postgresql":
		return postgres.Engine{}, nil
	case "":
		if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
			return postgres.Engine{}, nil
		}
		return mysql.Engine{}, nil
	}
	return nil, fmt.Errorf("driver %q is not one of %s", driver, strings.Join(Drivers, ", "))
}

// Format is the family whose dumps a third-party backup format holds:
// mysqldump's (MySQL) or pg_dump's (PostgreSQL); "atrest" backups name
// their family in their manifests.
func Format(format string) (engine.Engine, bool) {
	switch format {
	case "mysqldump":
		return mysql.Engine{}, true
	case "pg_dump":
		return postgres.Engine{}, true
	}
	return nil, false
}
