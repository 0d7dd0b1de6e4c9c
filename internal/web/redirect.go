package web

import (
	"net/url"
	"strings"
)

// localPath keeps a redirect target (the login form's next) on this site.
// It reads p as a browser reads a Location header, by the WHATWG URL
// standard, and keeps it only if that reading is a path on this host: no
// scheme, no authority. Whatever else it is, the answer is "/".
//
// What a browser does before it looks at the string, and what a check on
// the raw text would miss:
//   - it removes every tab, CR and LF anywhere ("/\t/evil.example" is
//     "//evil.example", another host);
//   - it trims leading and trailing C0 controls and spaces;
//   - in http and https URLs it takes a backslash for a slash
//     ("/\evil.example" is "//evil.example").
//
// The cleaned string is returned, so that the header says what the check
// saw; http.Redirect may still tidy its path (path.Clean), which cannot
// make a host of it: Clean keeps the leading "/" single.
func localPath(p string) string {
	p = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, p)
	p = strings.TrimFunc(p, func(r rune) bool { return r <= ' ' })
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	// Other controls have no business in a path, and net/url would refuse
	// them; DEL likewise.
	if strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return p
}
