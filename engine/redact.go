package engine

import "strings"

// Redactor scrubs a DSN's password from messages. No layer should put a
// password in a message; this is the second line of defence.
type Redactor struct{ secret string }

// minSecret: shorter passwords are not scrubbed, as replacing every "1" in
// a message would make it unreadable.
const minSecret = 4

// NewRedactor scrubs secret.
func NewRedactor(secret string) Redactor {
	if len(secret) < minSecret {
		secret = ""
	}
	return Redactor{secret: secret}
}

// String returns msg with the password replaced by ***.
func (r Redactor) String(msg string) string {
	if r.secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, r.secret, "***")
}

// Err wraps err so that its message never shows the password.
func (r Redactor) Err(err error) error {
	if err == nil || r.secret == "" {
		return err
	}
	return &redactedError{err: err, r: r}
}

type redactedError struct {
	err error
	r   Redactor
}

func (e *redactedError) Error() string { return e.r.String(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }
