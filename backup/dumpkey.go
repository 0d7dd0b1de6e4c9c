package backup

import (
	"path"
	"strings"
)

// DumpLayers reads the encodings of a dump another tool uploaded from its
// key's suffixes, outermost first: x.sql.gz.age is age, then gzip. A drill
// decodes by them and a check holds the bytes to them, so that what a check
// passes is what a restore by the key's name can load.
func DumpLayers(key string) []string {
	var out []string
	for {
		ext := path.Ext(key)
		var l string
		switch strings.ToLower(ext) {
		case ".age":
			l = "age"
		case ".gz", ".gzip":
			l = "gzip"
		case ".zst", ".zstd":
			l = "zstd"
		default:
			return out
		}
		out = append(out, l)
		key = strings.TrimSuffix(key, ext)
	}
}
