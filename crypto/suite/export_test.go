package suite

// Test helpers for the external test package (byhand_test.go), which
// imports internal/testenv: that imports this package, so the test that
// needs a MariaDB cannot live inside it.
var (
	NeedTool   = needTool
	OpenSSLKey = opensslKey
	KeyPair    = keyPair
	WriteFile  = writeFile
)
