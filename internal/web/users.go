package web

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/atrest/atrest/internal/atomicfile"
	"github.com/atrest/atrest/internal/fslock"
	"golang.org/x/crypto/argon2"
)

// User is one line of the users file.
//
// The users file (http.users_file) is JSON Lines, one user a line, mode
// 0600, replaced atomically on every change:
//
//	{"name":"li.wei","role":"auditor","hash":"$argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>","created":"2026-11-25T09:00:00Z"}
//
// role is sysadmin, secadmin or auditor (roles.go); a file written before
// the three roles says admin, which is read as sysadmin and written back so
// at the next change.
//
// hash is the PHC string of an argon2id key: algorithm, version, memory
// (KiB), passes and lanes, then the 16-byte random salt and the 32-byte key
// in unpadded standard base64. A password is never stored, logged or
// journaled.
type User struct {
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
}

// MinPasswordLen is the shortest password user add accepts, in characters.
const MinPasswordLen = 12

// maxPasswordBytes bounds what is hashed: argon2 takes any length, but a
// form field of megabytes is not a password.
const maxPasswordBytes = 1024

var (
	ErrUserExists   = errors.New("user already exists")
	ErrNoSuchUser   = errors.New("no such user")
	ErrLastSecadmin = errors.New("cannot delete the last security administrator")
	nameRE          = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)
)

// CheckName refuses user names that would not survive a URL, a log line or
// the journal's subject unchanged.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("user name %q: use 1-64 letters, digits and . _ @ - (starting with a letter or digit)", name)
	}
	return nil
}

// CheckPassword is the password policy: at least MinPasswordLen characters,
// valid UTF-8, no control characters.
func CheckPassword(pw string) error {
	switch {
	case pw == "":
		return errors.New("empty password")
	case !utf8.ValidString(pw):
		return errors.New("password is not valid UTF-8")
	case len(pw) > maxPasswordBytes:
		return fmt.Errorf("password longer than %d bytes", maxPasswordBytes)
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("password shorter than %d characters", MinPasswordLen)
	}
	for _, r := range pw {
		if r < 0x20 || r == 0x7f {
			return errors.New("password holds a control character")
		}
	}
	return nil
}

// argon2id parameters for new hashes: RFC 9106's second recommended option
// (64 MiB, 3 passes, 4 lanes). Stored hashes carry their own parameters, so
// these can rise without invalidating old ones. Tests lower them.
var hashParams = argonParams{memory: 64 * 1024, passes: 3, lanes: 4}

type argonParams struct {
	memory uint32 // KiB
	passes uint32
	lanes  uint8
}

const (
	saltLen = 16
	keyLen  = 32
)

// HashPassword returns the PHC string of an argon2id key of pw under a
// fresh random salt.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := hashParams
	key := argon2.IDKey([]byte(pw), salt, p.passes, p.memory, p.lanes, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.passes, p.lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var b64 = base64.RawStdEncoding

// VerifyPassword reports whether pw matches the PHC string hash. A hash it
// cannot parse matches nothing.
func VerifyPassword(hash, pw string) bool {
	p, salt, key, err := parseHash(hash)
	if err != nil || len(pw) > maxPasswordBytes {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.passes, p.memory, p.lanes, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// parseHash reads "$argon2id$v=19$m=M,t=T,p=P$salt$key" and bounds the
// parameters, so that a hand-edited file cannot make a login take minutes
// or gigabytes.
func parseHash(s string) (p argonParams, salt, key []byte, err error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errors.New("not an argon2id v19 PHC string")
	}
	var m, t, l uint64
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &l); err != nil {
		return p, nil, nil, errors.New("bad argon2id parameters")
	}
	if m < 8*l || m > 1<<21 || t < 1 || t > 16 || l < 1 || l > 64 {
		return p, nil, nil, errors.New("argon2id parameters out of range")
	}
	if salt, err = b64.DecodeString(f[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("bad salt")
	}
	if key, err = b64.DecodeString(f[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errors.New("bad key")
	}
	return argonParams{memory: uint32(m), passes: uint32(t), lanes: uint8(l)}, salt, key, nil
}

// ReadUsers reads the users file. A missing file is no users. A file that
// others can read or write is refused: it holds password hashes.
func ReadUsers(path string) ([]User, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("users file %s: mode %04o lets others read it: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return parseUsers(path, data)
}

func parseUsers(path string, data []byte) ([]User, error) {
	var out []User
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var u User
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&u); err != nil {
			return nil, fmt.Errorf("%s:%d: not a user line: %v", path, n, err)
		}
		if err := CheckName(u.Name); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		role, err := ParseRole(string(u.Role))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: user %s: %w", path, n, u.Name, err)
		}
		u.Role = role
		if _, _, _, err := parseHash(u.Hash); err != nil {
			return nil, fmt.Errorf("%s:%d: user %s: hash: %w", path, n, u.Name, err)
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("%s:%d: user %s listed twice", path, n, u.Name)
		}
		seen[u.Name] = true
		out = append(out, u)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	return out, nil
}

// AddUser adds a user with a new argon2id hash of pw; an existing name is
// refused with ErrUserExists. It keeps no rule about who asks: the command
// line and the dashboard go through Change.Apply.
func AddUser(path, name string, role Role, pw string, now time.Time) error {
	if err := CheckName(name); err != nil {
		return err
	}
	role, err := ParseRole(string(role))
	if err != nil {
		return err
	}
	if err := CheckPassword(pw); err != nil {
		return err
	}
	return editUsers(path, func(us []User) ([]User, error) { return addUser(us, name, role, pw, now) })
}

func addUser(us []User, name string, role Role, pw string, now time.Time) ([]User, error) {
	for _, u := range us {
		if u.Name == name {
			return nil, fmt.Errorf("%w: %s (%s; one role per user: delete it first to change it)", ErrUserExists, name, u.Role)
		}
	}
	h, err := HashPassword(pw)
	if err != nil {
		return nil, err
	}
	return append(us, User{Name: name, Role: role, Hash: h, Created: now.UTC().Truncate(time.Second)}), nil
}

// DeleteUser removes a user and returns it; an unknown name is refused with
// ErrNoSuchUser, and the last security administrator with ErrLastSecadmin:
// without one, nobody could manage users but root on the host.
func DeleteUser(path, name string) (User, error) {
	var gone User
	err := editUsers(path, func(us []User) ([]User, error) { return deleteUser(us, name, &gone) })
	return gone, err
}

func deleteUser(us []User, name string, gone *User) ([]User, error) {
	for i, u := range us {
		if u.Name != name {
			continue
		}
		if u.Role == RoleSecadmin && len(holders(us, RoleSecadmin)) == 1 {
			return nil, fmt.Errorf("%w: %s is the only one; add another first", ErrLastSecadmin, name)
		}
		*gone = u
		return append(us[:i:i], us[i+1:]...), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoSuchUser, name)
}

// editUsers is a read-modify-write of the users file under an flock on a
// sibling lock file, so that two user commands do not lose each other's
// change. The new file is written to a temp file (0600), synced and renamed
// over the old one, so a reader sees the old list or the new, never half.
func editUsers(path string, edit func([]User) ([]User, error)) error {
	lf, err := fslock.Open(path + ".lock")
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	defer lf.Close()
	us, err := ReadUsers(path)
	if err != nil {
		return err
	}
	if us, err = edit(us); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, u := range us {
		if err := enc.Encode(u); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	return nil
}

// userDB is the users file as the server sees it: read again whenever the
// file changes on disk, so `atrest user add|del` take effect at once.
type userDB struct {
	path string

	mu    sync.Mutex
	stamp string // size, mtime and inode of the file last read
	users map[string]User
	err   error
}

// lookup returns the user named name, reloading the file if it changed.
func (db *userDB) lookup(name string) (User, bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.refresh()
	u, ok := db.users[name]
	return u, ok, db.err
}

func (db *userDB) refresh() {
	stamp := "missing"
	if fi, err := os.Stat(db.path); err == nil {
		stamp = fmt.Sprintf("%d %d %v", fi.Size(), fi.ModTime().UnixNano(), fileID(fi))
	}
	if stamp == db.stamp && db.users != nil {
		return
	}
	us, err := ReadUsers(db.path)
	db.stamp, db.err = stamp, err
	db.users = map[string]User{}
	for _, u := range us {
		db.users[u.Name] = u
	}
}

// dummyHash is verified against when a login names no known user, so that
// the answer takes as long as for a known one.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("not a password of anyone")
	if err != nil {
		panic(err)
	}
	return h
})
