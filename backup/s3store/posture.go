package s3store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/lifecycle"

	"github.com/atrest/atrest/backup"
)

// Posture implements backup.ObjectStore. Each setting is read back with its
// own call; a server that does not implement one (versitygw 1.8.0 answers
// 501 to bucket encryption and lifecycle) makes that setting unsupported,
// not the whole posture an error.
func (s *Store) Posture(ctx context.Context) (backup.Posture, error) {
	var p backup.Posture
	var errs [4]error

	v, err := s.c.GetBucketVersioning(ctx, s.bucket)
	switch {
	case err != nil:
		errs[0] = s.fail("get versioning", "", err)
		// Nothing else can be read from a bucket that is not there or a
		// server that does not answer.
		if errors.Is(errs[0], backup.ErrNoBucket) || errors.Is(errs[0], backup.ErrUnreachable) {
			return backup.Posture{}, errs[0]
		}
		p.Versioning = failed(errs[0])
	case v.Enabled():
		p.Versioning = backup.Setting{State: backup.StateEnabled}
	case v.Suspended():
		p.Versioning = backup.Setting{State: backup.StateDisabled, Detail: "suspended"}
	default:
		p.Versioning = backup.Setting{State: backup.StateDisabled, Detail: "never enabled"}
	}

	p.ObjectLock, errs[1] = s.objectLock(ctx)
	p.Encryption, errs[2] = s.encryption(ctx)
	p.Lifecycle, errs[3] = s.lifecycle(ctx)

	// Refused credentials refuse everything: say that once, as an error.
	denied := 0
	for _, e := range errs {
		if errors.Is(e, backup.ErrAccessDenied) {
			denied++
		}
	}
	if denied == len(errs) {
		return backup.Posture{}, errs[0]
	}
	return p, nil
}

// failed turns an error into the setting's state: unsupported for 501,
// error otherwise.
func failed(err error) backup.Setting {
	if errors.Is(err, backup.ErrNotImplemented) {
		// The server's message says nothing more (versitygw's speaks of
		// "a header you provided"), so only the code.
		c := code(err)
		if c == "" {
			c = "HTTP 501"
		}
		return backup.Setting{State: backup.StateUnsupported, Detail: "not implemented by the server (" + c + ")"}
	}
	return backup.Setting{State: backup.StateError, Detail: cause(err)}
}

// cause is an error's text without the "storage: op bucket: " context,
// which the posture check puts in its own words.
func cause(err error) string {
	var se *Error
	if errors.As(err, &se) {
		msg := oneLine(se.Err.Error())
		if se.Kind != nil && !strings.HasPrefix(msg, se.Kind.Error()) {
			msg = se.Kind.Error() + ": " + msg
		}
		return msg
	}
	return oneLine(err.Error())
}

// code is the S3 error code in err, if any.
func code(err error) string {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.Code
	}
	return ""
}

func (s *Store) objectLock(ctx context.Context) (backup.ObjectLock, error) {
	enabled, mode, validity, unit, err := s.c.GetObjectLockConfig(ctx, s.bucket)
	if err != nil {
		if code(err) == "ObjectLockConfigurationNotFoundError" {
			return backup.ObjectLock{Setting: backup.Setting{State: backup.StateDisabled}}, nil
		}
		err = s.fail("get object lock", "", err)
		return backup.ObjectLock{Setting: failed(err)}, err
	}
	if enabled != "Enabled" {
		return backup.ObjectLock{Setting: backup.Setting{State: backup.StateDisabled, Detail: enabled}}, nil
	}
	l := backup.ObjectLock{Setting: backup.Setting{State: backup.StateEnabled}}
	if mode == nil || *mode == "" {
		l.Detail = "no default retention"
		return l, nil
	}
	l.Mode = backup.RetentionMode(*mode)
	if validity != nil {
		l.Days = int(*validity)
		if unit != nil && *unit == minio.Years {
			l.Days *= 365
			l.Detail = fmt.Sprintf("default retention %s %d years", *mode, *validity)
		} else {
			l.Detail = fmt.Sprintf("default retention %s %d days", *mode, *validity)
		}
	}
	return l, nil
}

func (s *Store) encryption(ctx context.Context) (backup.Encryption, error) {
	cfg, err := s.c.GetBucketEncryption(ctx, s.bucket)
	if err != nil {
		if code(err) == "ServerSideEncryptionConfigurationNotFoundError" {
			return backup.Encryption{Setting: backup.Setting{State: backup.StateDisabled}}, nil
		}
		err = s.fail("get encryption", "", err)
		return backup.Encryption{Setting: failed(err)}, err
	}
	for _, r := range cfg.Rules {
		if a := r.Apply.SSEAlgorithm; a != "" {
			e := backup.Encryption{Setting: backup.Setting{State: backup.StateEnabled}, Algorithm: a}
			if r.Apply.KmsMasterKeyID != "" {
				e.Detail = "key " + r.Apply.KmsMasterKeyID
			}
			return e, nil
		}
	}
	return backup.Encryption{Setting: backup.Setting{State: backup.StateDisabled, Detail: "no default algorithm in the rules"}}, nil
}

func (s *Store) lifecycle(ctx context.Context) (backup.Lifecycle, error) {
	cfg, err := s.c.GetBucketLifecycle(ctx, s.bucket)
	if err != nil {
		if code(err) == "NoSuchLifecycleConfiguration" {
			return backup.Lifecycle{Setting: backup.Setting{State: backup.StateDisabled, Detail: "no lifecycle configuration"}}, nil
		}
		err = s.fail("get lifecycle", "", err)
		return backup.Lifecycle{Setting: failed(err)}, err
	}
	return expiryRules(cfg), nil
}

// expiryRules keeps the enabled rules that expire objects or versions.
func expiryRules(cfg *lifecycle.Configuration) backup.Lifecycle {
	l := backup.Lifecycle{Setting: backup.Setting{State: backup.StateDisabled}}
	for _, r := range cfg.Rules {
		if !strings.EqualFold(r.Status, "Enabled") {
			continue
		}
		e := backup.ExpiryRule{
			ID:             r.ID,
			Days:           int(r.Expiration.Days),
			Date:           r.Expiration.Date.Time,
			NoncurrentDays: int(r.NoncurrentVersionExpiration.NoncurrentDays),
		}
		if d := r.AllVersionsExpiration.Days; d > 0 && (e.Days == 0 || d < e.Days) {
			e.Days = d // a MinIO extension that expires every version
		}
		if e.Days == 0 && e.Date.IsZero() && e.NoncurrentDays == 0 {
			continue
		}
		f := r.RuleFilter
		switch {
		case f.And.Prefix != "":
			e.Prefix = f.And.Prefix
		case f.Prefix != "":
			e.Prefix = f.Prefix
		default:
			e.Prefix = r.Prefix // the pre-Filter form
		}
		e.Filtered = !f.Tag.IsEmpty() || len(f.And.Tags) > 0 ||
			f.ObjectSizeLessThan > 0 || f.ObjectSizeGreaterThan > 0 ||
			f.And.ObjectSizeLessThan > 0 || f.And.ObjectSizeGreaterThan > 0
		l.Rules = append(l.Rules, e)
	}
	if len(l.Rules) > 0 {
		l.State = backup.StateEnabled
		l.Detail = fmt.Sprintf("%d expiry rule(s)", len(l.Rules))
	} else if len(cfg.Rules) > 0 {
		l.Detail = fmt.Sprintf("%d rule(s), none expires objects", len(cfg.Rules))
	}
	return l
}
