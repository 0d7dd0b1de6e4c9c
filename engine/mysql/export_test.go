package mysql

// DeferredKeys returns the key definitions Load with DeferIndexes holds
// back from a CREATE TABLE statement.
func DeferredKeys(create string) []string { return parseCreateTable([]byte(create)).keys }
