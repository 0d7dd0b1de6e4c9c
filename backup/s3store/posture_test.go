package s3store

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/crypto"
)

// A canned S3 server answers the posture calls with documents shaped like
// AWS's, so that enabled settings (which versitygw cannot show: it answers
// 501 to encryption and lifecycle) are parsed and tested too.
type cannedS3 map[string]cannedAnswer // by sub-resource

type cannedAnswer struct {
	status int
	body   string
}

func (c cannedS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		return // the bucket exists
	}
	for k := range r.URL.Query() {
		if a, ok := c[k]; ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(a.status)
			w.Write([]byte(a.body))
			return
		}
	}
	http.Error(w, "unexpected request "+r.URL.String(), http.StatusTeapot)
}

func s3err(status int, code string) cannedAnswer {
	return cannedAnswer{status, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>canned ` + code + `</Message></Error>`}
}

func cannedStore(t *testing.T, c cannedS3) *Store {
	t.Helper()
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	s, err := New(context.Background(), Config{
		Endpoint: srv.URL, Region: "us-east-1", AccessKey: "k", SecretKey: crypto.NewSecret("s"),
		Bucket: "bkt", MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPostureEnabled(t *testing.T) {
	s := cannedStore(t, cannedS3{
		"versioning": {200, `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`},
		"object-lock": {200, `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled>` +
			`<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>`},
		"encryption": {200, `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule>` +
			`<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>arn:k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault>` +
			`</Rule></ServerSideEncryptionConfiguration>`},
		"lifecycle": {200, `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
			`<Rule><ID>yb</ID><Filter><Prefix>yb/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule>` +
			`<Rule><ID>old-versions</ID><Filter></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration></Rule>` +
			`<Rule><ID>tagged</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>t</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>` +
			`<Rule><ID>off</ID><Filter><Prefix>yb/</Prefix></Filter><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>` +
			`<Rule><ID>mpu</ID><Filter></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>` +
			`</LifecycleConfiguration>`},
	})
	p, err := s.Posture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Versioning.State != backup.StateEnabled {
		t.Errorf("versioning %+v", p.Versioning)
	}
	if l := p.ObjectLock; l.State != backup.StateEnabled || l.Mode != backup.Compliance || l.Days != 365 {
		t.Errorf("object lock %+v, want COMPLIANCE 365 days", l)
	}
	if e := p.Encryption; e.State != backup.StateEnabled || e.Algorithm != "aws:kms" {
		t.Errorf("encryption %+v", e)
	}
	l := p.Lifecycle
	if l.State != backup.StateEnabled || len(l.Rules) != 3 {
		t.Fatalf("lifecycle %+v, want 3 expiry rules", l)
	}
	want := []backup.ExpiryRule{
		{ID: "yb", Prefix: "yb/", Days: 7},
		{ID: "old-versions", NoncurrentDays: 30},
		{ID: "tagged", Prefix: "logs/", Filtered: true, Days: 1},
	}
	for i, r := range l.Rules {
		if r != want[i] {
			t.Errorf("rule %d = %+v, want %+v", i, r, want[i])
		}
	}
	var ids []string
	for _, r := range l.ExpiryFor("yb/") {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "yb,old-versions" {
		t.Errorf("rules for yb/: %v", ids)
	}
}

func TestPostureDisabled(t *testing.T) {
	s := cannedStore(t, cannedS3{
		"versioning":  {200, `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status></VersioningConfiguration>`},
		"object-lock": s3err(404, "ObjectLockConfigurationNotFoundError"),
		"encryption":  s3err(404, "ServerSideEncryptionConfigurationNotFoundError"),
		"lifecycle":   s3err(404, "NoSuchLifecycleConfiguration"),
	})
	p, err := s.Posture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]backup.Setting{"versioning": p.Versioning, "object lock": p.ObjectLock.Setting,
		"encryption": p.Encryption.Setting, "lifecycle": p.Lifecycle.Setting} {
		if st.State != backup.StateDisabled {
			t.Errorf("%s: %+v, want disabled", name, st)
		}
	}
	if p.Versioning.Detail != "suspended" {
		t.Errorf("versioning detail %q", p.Versioning.Detail)
	}
}

func TestPostureFailures(t *testing.T) {
	s := cannedStore(t, cannedS3{
		"versioning":  {200, `<VersioningConfiguration/>`},
		"object-lock": s3err(501, "NotImplemented"),
		"encryption":  s3err(403, "AccessDenied"),
		"lifecycle":   s3err(400, "InvalidRequest"),
	})
	p, err := s.Posture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Versioning.State != backup.StateDisabled || p.ObjectLock.State != backup.StateUnsupported ||
		p.Encryption.State != backup.StateError || p.Lifecycle.State != backup.StateError {
		t.Errorf("posture %+v", p)
	}
	if !strings.Contains(p.Encryption.Detail, "access denied") || strings.Contains(p.Encryption.Detail, "storage:") {
		t.Errorf("encryption detail %q", p.Encryption.Detail)
	}

	// Refused everywhere: one error, not four error settings.
	s = cannedStore(t, cannedS3{
		"versioning": s3err(403, "AccessDenied"), "object-lock": s3err(403, "AccessDenied"),
		"encryption": s3err(403, "AccessDenied"), "lifecycle": s3err(403, "AccessDenied"),
	})
	if _, err := s.Posture(context.Background()); !errors.Is(err, backup.ErrAccessDenied) {
		t.Errorf("all refused: %v, want ErrAccessDenied", err)
	}
	s = cannedStore(t, cannedS3{"versioning": s3err(404, "NoSuchBucket")})
	if _, err := s.Posture(context.Background()); !errors.Is(err, backup.ErrNoBucket) {
		t.Errorf("bucket gone: %v, want ErrNoBucket", err)
	}
}
