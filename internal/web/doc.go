// Package web is the dashboard of `atrest serve`: server-rendered pages for
// compliance officers (where plaintext identifiers remain, whether each
// backup is fresh and checked, the drill history, whether the journal
// verifies), a JSON API for other tools, and the access control around both:
// the users file, login sessions, CSRF tokens, rate-limited logins and roles.
//
// Every page is a view of the journal, as the daemon's metrics are: the
// overview folds entries read by a journal.Tailer, the journal browser runs
// journal.Query with filters and bounded paging. The package journals what
// happens at its door (login.ok, login.fail, logout, access.denied) and
// starts runs only through the daemon's one-run-per-job path (Runner).
//
// It must never show, return or journal an identifier value or a password:
// pages and API carry the journal's counts, names and times only, and
// passwords go no further than argon2id. It serves no script at all, so the
// Content-Security-Policy forbids every one, and it loads nothing from
// another origin: templates, CSS and charts (inline SVG drawn on the server)
// are in the binary.
package web
