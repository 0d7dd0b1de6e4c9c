package notify

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// robot is a local webhook receiver shaped like a WeCom or DingTalk group
// robot: it answers {errcode, errmsg} and, for DingTalk with a secret,
// refuses a request whose signature is wrong.
type robot struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	got    []map[string]any
	bad    int
}

func newRobot(t *testing.T, secret string) *robot {
	r := &robot{secret: secret}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.secret != "" {
			ts, sign := req.URL.Query().Get("timestamp"), req.URL.Query().Get("sign")
			mac := hmac.New(sha256.New, []byte(r.secret))
			mac.Write([]byte(ts + "\n" + r.secret))
			if sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) || req.URL.Query().Get("access_token") != "tok" {
				r.bad++
				io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
				return
			}
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		r.got = append(r.got, m)
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *robot) messages() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.got...)
}

func newJournal(t *testing.T) (string, *journal.Journal) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	j, err := journal.Open(dir, key, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return dir, j
}

func sender() *Sender {
	return &Sender{Client: &http.Client{Timeout: 5 * time.Second}, Location: time.UTC, Now: time.Now, Retries: 2, Backoff: 10 * time.Millisecond}
}

func TestStateChangesReachWeComAndDingTalk(t *testing.T) {
	wecom, ding := newRobot(t, ""), newRobot(t, "SEC123")
	dir, j := newJournal(t)
	on := []string{EventFail, EventRecover, EventMissed}
	targets := []Target{
		{Name: "oncall-wecom", Format: FormatWeCom, URL: wecom.srv.URL + "/cgi-bin/webhook/send?key=k", On: on},
		{Name: "oncall-ding", Format: FormatDingTalk, URL: ding.srv.URL + "/robot/send?access_token=tok", Secret: "SEC123", On: on},
	}
	for _, e := range []journal.Entry{
		{Kind: "drill.run", Subject: "yb-drill", Outcome: "pass"},
		{Kind: "drill.run", Subject: "yb-drill", Outcome: "fail", Detail: "integrity: digest mismatch in cb_ryxx"},
		{Kind: "drill.run", Subject: "yb-drill", Outcome: "fail"}, // still failing: no second page
		{Kind: "scan.files", Subject: "exports", Outcome: "findings"},
		{Kind: "drill.run", Subject: "yb-drill", Outcome: "pass"},
		{Kind: "backup.run", Subject: "yb-nightly", Outcome: "skipped", Detail: "the previous run is still going"},
	} {
		if _, err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	r := NewRunner(dir, targets, sender(), j)
	if err := r.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, rb := range []*robot{wecom, ding} {
		msgs := rb.messages()
		if len(msgs) != 3 || rb.bad != 0 {
			t.Fatalf("%d messages (%d refused): %v", len(msgs), rb.bad, msgs)
		}
		if msgs[0]["msgtype"] != "markdown" {
			t.Errorf("msgtype %v", msgs[0]["msgtype"])
		}
	}
	text := wecom.messages()[0]["markdown"].(map[string]any)["content"].(string)
	if !strings.Contains(text, "失败 FAILED") || !strings.Contains(text, "恢复演练 drill yb-drill") || !strings.Contains(text, "digest mismatch") {
		t.Errorf("wecom message: %s", text)
	}
	if title := ding.messages()[1]["markdown"].(map[string]any)["title"].(string); !strings.Contains(title, "RECOVERED") {
		t.Errorf("dingtalk title: %s", title)
	}
	// Each delivery is journaled; a restarted runner sends nothing again.
	sent := 0
	for e, err := range journal.Query(dir, journal.Filter{Kind: KindSent}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(e.Detail, "key=") || strings.Contains(e.Detail, "tok") {
			t.Errorf("a journaled delivery holds the URL: %s", e.Detail)
		}
		sent++
	}
	if sent != 6 {
		t.Errorf("%d notify.sent entries, want 6", sent)
	}
	again := NewRunner(dir, targets, sender(), j)
	again.Poll(context.Background())
	if n := len(wecom.messages()); n != 3 {
		t.Errorf("after a restart: %d messages", n)
	}
}

// A receiver that is down is retried, then the delivery is journaled as
// undelivered, without the URL (it holds the robot's key).
func TestDownReceiverRetriedThenJournaledUndelivered(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	dir, j := newJournal(t)
	j.Append(journal.Entry{Kind: "backup.check", Subject: "yb-nightly", Outcome: "fail"})
	tgt := Target{Name: "hook", Format: FormatJSON, URL: "http://" + addr + "/hook?key=SECRETKEY", On: []string{EventFail}}
	r := NewRunner(dir, []Target{tgt}, sender(), j)
	r.Poll(context.Background())
	var failed []journal.Entry
	for e, err := range journal.Query(dir, journal.Filter{Kind: KindFailed}) {
		if err != nil {
			t.Fatal(err)
		}
		failed = append(failed, e)
	}
	if len(failed) != 1 {
		t.Fatalf("%d notify.failed entries", len(failed))
	}
	if n, _ := journal.Number(failed[0].Figures["attempts"]); n != 3 {
		t.Errorf("attempts %v, want 3 (1 + 2 retries)", failed[0].Figures["attempts"])
	}
	if strings.Contains(failed[0].Detail, "SECRETKEY") || !strings.Contains(failed[0].Detail, "undelivered") {
		t.Errorf("detail %q", failed[0].Detail)
	}
}

func TestRobotErrcodeIsAFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
	}))
	defer srv.Close()
	s := sender()
	s.Retries = 0
	_, err := s.Send(context.Background(), Target{Name: "w", Format: FormatWeCom, URL: srv.URL + "?key=zzz"},
		Event{Kind: EventFail, Entry: journal.Entry{Seq: 1, Kind: "drill.run", Outcome: "fail"}})
	if err == nil || !strings.Contains(err.Error(), "errcode 93000") || strings.Contains(err.Error(), "zzz") {
		t.Fatalf("err %v", err)
	}
}

func TestDingTalkSignature(t *testing.T) {
	// The example of DingTalk's documentation, recomputed: the same inputs
	// must give the same query whatever else the URL holds.
	u, err := signedURL("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECxyz", time.UnixMilli(1700000000000))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte("SECxyz"))
	mac.Write([]byte(strconv.FormatInt(1700000000000, 10) + "\nSECxyz"))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !strings.Contains(u, "timestamp=1700000000000") || !strings.Contains(u, "sign="+strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(want)) || !strings.Contains(u, "access_token=abc") {
		t.Fatalf("signed url %s", u)
	}
}

// A drill that restored and verified but missed its RTO target pages as a
// missed target (subscribed with fail), and one that meets it again as a
// recovery.
func TestMissedDrillTargetPages(t *testing.T) {
	wecom := newRobot(t, "")
	dir, j := newJournal(t)
	targets := []Target{{Name: "oncall", Format: FormatWeCom, URL: wecom.srv.URL + "/cgi-bin/webhook/send?key=k", On: []string{EventFail, EventRecover}}}
	for _, e := range []journal.Entry{
		{Kind: "drill.run", Subject: "yb-drill", Outcome: "ok", Figures: map[string]any{"rto_met": true}},
		{Kind: "drill.run", Subject: "yb-drill", Outcome: "ok", Detail: "targets missed: RTO 41m12s missed the target 30m",
			Figures: map[string]any{"rto_met": false}},
		{Kind: "drill.run", Subject: "yb-drill", Outcome: "ok", Figures: map[string]any{"rto_met": true}},
	} {
		if _, err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := NewRunner(dir, targets, sender(), j).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := wecom.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want a missed target and a recovery: %v", len(msgs), msgs)
	}
	text := msgs[0]["markdown"].(map[string]any)["content"].(string)
	if !strings.Contains(text, "TARGET MISSED") || !strings.Contains(text, "RTO 41m12s missed") {
		t.Errorf("message: %s", text)
	}
}
