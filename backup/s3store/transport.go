package s3store

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
)

// errorIn200 turns a "200 OK" whose body is an S3 <Error> document into the
// error status it should have had, so minio-go reports (and retries) it as
// an error. S3 documents this answer for CompleteMultipartUpload and copies,
// where minio-go copes; for a listing minio-go decodes it as an empty
// result, and a freshness check would take a failed listing for a bucket
// without backups.
//
// Object data is never inspected: an object may hold any bytes, an S3 error
// document included.
type errorIn200 struct{ base http.RoundTripper }

// maxProlog bounds what is read looking for the first element: the XML
// declaration and the spaces a server sends to keep a slow
// CompleteMultipartUpload alive.
const maxProlog = 1 << 20

func (t *errorIn200) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Body == nil || objectData(req) {
		return resp, err
	}
	br := bufio.NewReader(resp.Body)
	var prolog bytes.Buffer
	name := firstElement(br, &prolog)
	body := io.MultiReader(&prolog, br)
	if name == "Error" {
		// 500 with the document: minio-go reads the code and message from
		// it, and retries it like any InternalError.
		resp.StatusCode, resp.Status = http.StatusInternalServerError, "500 Internal Server Error (S3 error in a 200 response)"
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{body, resp.Body}
	return resp, nil
}

// objectData reports whether req reads object data: a GET or HEAD with no
// S3 sub-resource in its query.
func objectData(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	for k := range req.URL.Query() {
		if k != "versionId" && k != "partNumber" && k != "x-id" && !strings.HasPrefix(k, "response-") {
			return false
		}
	}
	return true
}

// firstElement reads past the XML prolog (declaration, comments, spaces),
// copying what it reads to prolog, and returns the first element's name
// ("" if there is none within maxProlog bytes or the body is not XML).
func firstElement(br *bufio.Reader, prolog *bytes.Buffer) string {
	for prolog.Len() < maxProlog {
		c, err := br.ReadByte()
		if err != nil {
			return ""
		}
		prolog.WriteByte(c)
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '<':
		default:
			return ""
		}
		next, err := br.Peek(1)
		if err != nil {
			return ""
		}
		if next[0] == '?' || next[0] == '!' {
			// Declaration or comment: copy through its closing '>'.
			b, err := br.ReadBytes('>')
			prolog.Write(b)
			if err != nil {
				return ""
			}
			continue
		}
		var name []byte
		for len(name) < 64 {
			b, err := br.ReadByte()
			if err != nil {
				return ""
			}
			prolog.WriteByte(b)
			if b == '>' || b == ' ' || b == '/' || b == '\t' || b == '\r' || b == '\n' {
				break
			}
			name = append(name, b)
		}
		if i := bytes.IndexByte(name, ':'); i >= 0 {
			name = name[i+1:]
		}
		return string(name)
	}
	return ""
}

// createOnly makes a multipart upload a create that cannot replace.
// S3 (and versitygw 1.8.0, under its per-key publish lock) decides
// If-None-Match: * when CompleteMultipartUpload assembles the object, but
// minio-go v7.4.1 drops custom headers from the completion
// (completeUploadOpts keeps only encryption and checksum options): without
// this, a streamed backup of unknown size would silently replace an object
// under its key. Put marks its context with the key; the header is added to
// that key's completion only. It is not a signed header, which SigV4 allows
// for standard headers.
type createOnly struct{ base http.RoundTripper }

type createOnlyKey struct{}

func (t *createOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if key, ok := req.Context().Value(createOnlyKey{}).(string); ok && req.Method == http.MethodPost &&
		req.URL.Query().Has("uploadId") && strings.HasSuffix(req.URL.Path, "/"+key) {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", "*")
	}
	return t.base.RoundTrip(req)
}
