package s3store

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestFirstElement(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>InternalError</Code></Error>", "Error"},
		{`<?xml version="1.0"?>` + strings.Repeat(" ", 5000) + `<CompleteMultipartUploadResult xmlns="x">`, "CompleteMultipartUploadResult"},
		{"<!-- c --><s3:Error>", "Error"},
		{"<ListBucketResult>", "ListBucketResult"},
		{"", ""},
		{"not xml", ""},
	} {
		br := bufio.NewReader(strings.NewReader(tc.body))
		var prolog bytes.Buffer
		if got := firstElement(br, &prolog); got != tc.want {
			t.Errorf("firstElement(%.40q) = %q, want %q", tc.body, got, tc.want)
		}
		rest, _ := io.ReadAll(br)
		if prolog.String()+string(rest) != tc.body {
			t.Errorf("body not kept whole: %.60q", prolog.String()+string(rest))
		}
	}
}

type canned struct {
	ct, body string
}

func (c canned) RoundTrip(*http.Request) (*http.Response, error) {
	h := http.Header{}
	h.Set("Content-Type", c.ct)
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: h, Body: io.NopCloser(strings.NewReader(c.body))}, nil
}

func TestErrorIn200Transport(t *testing.T) {
	doc := `<?xml version="1.0"?><Error><Code>SlowDown</Code></Error>`
	for _, tc := range []struct {
		method, query string
		want          int
	}{
		{"GET", "list-type=2&prefix=a", 500},
		{"POST", "uploadId=1", 500},
		{"GET", "", 200},            // object data: never touched
		{"GET", "versionId=3", 200}, // object data too
		{"GET", "uploads", 500},
	} {
		req := &http.Request{Method: tc.method, URL: &url.URL{Path: "/b/k", RawQuery: tc.query}}
		resp, err := (&errorIn200{base: canned{"application/xml", doc}}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.want || string(b) != doc {
			t.Errorf("%s ?%s: status %d, body %q; want %d and the body unchanged", tc.method, tc.query, resp.StatusCode, b, tc.want)
		}
	}
}
