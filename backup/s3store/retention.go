package s3store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/atrest/atrest/backup"
)

// SetDefaultRetention sets the object-lock default retention of an
// object-lock bucket, for tests and the demo (Posture reads it back).
func (s *Store) SetDefaultRetention(ctx context.Context, mode backup.RetentionMode, days int) error {
	po, err := putOptions(backup.PutOptions{Retention: &backup.Retention{Mode: mode}})
	if err != nil {
		return s.fail("set object lock", "", err)
	}
	if days <= 0 {
		return s.fail("set object lock", "", fmt.Errorf("default retention of %d days", days))
	}
	v, unit := uint(days), minio.Days
	if err := s.c.SetObjectLockConfig(ctx, s.bucket, &po.Mode, &v, &unit); err != nil {
		return s.fail("set object lock", "", err)
	}
	return nil
}

// PutRetention implements backup.Retainer.
func (s *Store) PutRetention(ctx context.Context, key, versionID string, r backup.Retention) error {
	po, err := putOptions(backup.PutOptions{Retention: &r})
	if err != nil {
		return s.fail("put retention", key, err)
	}
	until := r.Until.UTC()
	err = s.c.PutObjectRetention(ctx, s.bucket, key, minio.PutObjectRetentionOptions{
		Mode: &po.Mode, RetainUntilDate: &until, VersionID: versionID,
	})
	if err != nil {
		return s.fail("put retention", key, err)
	}
	return nil
}

// Retention implements backup.Retainer.
func (s *Store) Retention(ctx context.Context, key, versionID string) (backup.Retention, error) {
	mode, until, err := s.c.GetObjectRetention(ctx, s.bucket, key, versionID)
	var er minio.ErrorResponse
	switch {
	case err == nil:
	case errors.As(err, &er) && er.Code == "NoSuchObjectLockConfiguration":
		return backup.Retention{}, nil
	case errors.As(err, &er):
		return backup.Retention{}, s.fail("get retention", key, err)
	default:
		// versitygw 1.8.0 answers GetObjectRetention with an
		// <ObjectLockRetention> document where S3 has <Retention>, which
		// minio-go cannot decode. The object's own headers say the same.
		oi, serr := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{VersionID: versionID})
		if serr != nil {
			return backup.Retention{}, s.fail("get retention", key, serr)
		}
		var r backup.Retention
		r.Mode = backup.RetentionMode(oi.Metadata.Get("X-Amz-Object-Lock-Mode"))
		if u := oi.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"); u != "" {
			if r.Until, err = time.Parse(time.RFC3339, u); err != nil {
				return backup.Retention{}, s.fail("get retention", key, fmt.Errorf("retain-until date %q: %v", u, err))
			}
		}
		return r, nil
	}
	var r backup.Retention
	if mode != nil {
		r.Mode = backup.RetentionMode(*mode)
	}
	if until != nil {
		r.Until = *until
	}
	return r, nil
}

// DeleteVersion implements backup.Retainer.
func (s *Store) DeleteVersion(ctx context.Context, key, versionID string) error {
	if versionID == "" {
		return s.fail("delete version", key, errors.New("no version given"))
	}
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: versionID}); err != nil {
		return s.fail("delete version", key, err)
	}
	return nil
}
