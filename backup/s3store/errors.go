package s3store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"

	"github.com/atrest/atrest/backup"
)

// Error is what every failed Store call returns: one line naming the
// operation, bucket and key, the class of failure (a backup sentinel, when
// one applies) and the server's or the network's own words.
type Error struct {
	Op     string // "put", "get", "list", …
	Bucket string
	Key    string // or the prefix, for listings; may be empty
	Kind   error  // a backup.Err* sentinel, or nil
	Err    error  // the underlying error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("storage: ")
	b.WriteString(e.Op)
	b.WriteString(" ")
	b.WriteString(e.Bucket)
	if e.Key != "" {
		b.WriteString("/")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	msg := oneLine(e.Err.Error())
	if e.Kind != nil && !strings.HasPrefix(msg, e.Kind.Error()) {
		b.WriteString(e.Kind.Error())
		b.WriteString(": ")
	}
	b.WriteString(msg)
	return b.String()
}

// Unwrap lets errors.Is find both the sentinel and the cause (io.ErrUnexpectedEOF,
// context.Canceled, minio.ErrorResponse).
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

func (s *Store) fail(op, key string, err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err // already ours (a body error re-reported)
	}
	kind, err := classify(err, key == "" && op != "list" && op != "list uploads", s.endpoint)
	return &Error{Op: op, Bucket: s.bucket, Key: key, Kind: kind, Err: err}
}

// classify maps an error from minio-go or the network to a sentinel, and
// rewrites it into a shorter cause where the original would repeat the URL.
func classify(err error, bucketOp bool, endpoint string) (kind, cause error) {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		cause = s3Cause(er)
		switch {
		case er.Code == "NoSuchKey" || er.Code == "NoSuchVersion":
			return backup.ErrNotFound, cause
		case er.Code == "NoSuchBucket":
			return backup.ErrNoBucket, cause
		case er.StatusCode == 404 && er.Code == "NotFound" && !bucketOp:
			// A HEAD has no body, so minio-go makes up the code from the
			// status and the object name.
			return backup.ErrNotFound, cause
		case er.Code == "AccessDenied" || er.Code == "InvalidAccessKeyId" ||
			er.Code == "SignatureDoesNotMatch" || er.Code == "InvalidSecurity" ||
			er.Code == "ExpiredToken" || er.Code == "InvalidToken" ||
			er.StatusCode == 403 || er.StatusCode == 401:
			return backup.ErrAccessDenied, cause
		case er.Code == "NotImplemented" || er.StatusCode == 501:
			return backup.ErrNotImplemented, cause
		case er.Code == "PreconditionFailed" || er.StatusCode == 412 || er.Code == "ConditionalRequestConflict":
			// If-None-Match: * on a taken key; a conditional write racing
			// another to the same key gets 409 ConditionalRequestConflict.
			return backup.ErrExists, cause
		}
		return nil, cause
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error repeats the whole request URL; the endpoint is enough.
		err = fmt.Errorf("%s %s: %w", strings.ToUpper(ue.Op[:1])+strings.ToLower(ue.Op[1:]), endpoint, ue.Err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	if unreachable(err) {
		return backup.ErrUnreachable, err
	}
	return nil, err
}

func s3Cause(er minio.ErrorResponse) error {
	msg := er.Message
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d", er.StatusCode)
	}
	if er.Code != "" {
		msg += " (" + er.Code + ")"
	}
	return &s3Error{msg: msg, resp: er}
}

// s3Error words a server's error response as "message (Code)" and keeps the
// minio.ErrorResponse reachable by errors.As.
type s3Error struct {
	msg  string
	resp minio.ErrorResponse
}

func (e *s3Error) Error() string { return e.msg }
func (e *s3Error) Unwrap() error { return e.resp }

func unreachable(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}
