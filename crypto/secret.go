package crypto

// Secret is a password or key that must never reach output or logs: every
// formatting verb prints "***". Call Reveal where the real value is needed.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no secret is set.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) String() string   { return "***" }
func (s Secret) GoString() string { return "***" }

// MarshalText keeps secrets out of JSON and YAML output.
func (s Secret) MarshalText() ([]byte, error) { return []byte("***"), nil }
