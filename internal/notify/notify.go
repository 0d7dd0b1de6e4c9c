// Package notify tells the on-call DBA when a job changes state: a backup,
// check, drill or scan that fails, one that recovers, a scheduled run that
// was missed. Messages go to webhooks in the shapes Chinese operations teams
// are paged through — WeCom (企业微信) and DingTalk (钉钉) group robots, with
// DingTalk's signature — or as plain JSON.
//
// Like the syslog forwarder it is a reader of the journal: states are folded
// from the run entries, so a restart rebuilds them, and every delivery (or
// failed delivery, after bounded retries) is journaled as notify.sent or
// notify.failed naming the entry it was about, so nothing is sent twice and
// an undelivered page leaves a trace. A message carries names, outcomes and
// times, never a value: what the journal holds.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// Events a target can subscribe to (the config's on: list).
const (
	EventFail    = "fail"    // a job's run failed (or a drill missed its RTO or RPO target), after passing (or for the first time)
	EventRecover = "recover" // a job's run passed after failing
	EventMissed  = "missed"  // a scheduled run did not run (skipped: the previous one still going)
)

// Journal kinds of deliveries.
const (
	KindSent   = "notify.sent"
	KindFailed = "notify.failed"
)

// Formats of targets.
const (
	FormatWeCom    = "wecom"
	FormatDingTalk = "dingtalk"
	FormatJSON     = "json"
)

// Target is one notify[] entry with its secrets read.
type Target struct {
	Name   string
	Format string // wecom, dingtalk or json
	URL    string // holds the robot's key: never printed or journaled
	Secret string // dingtalk signing secret; may be empty
	On     []string
}

func (t Target) wants(event string) bool {
	for _, e := range t.On {
		if e == event {
			return true
		}
	}
	return false
}

// Event is a state change worth telling.
type Event struct {
	Kind    string // fail, recover, missed
	Entry   journal.Entry
	Subject string // "drill yb-nightly-drill": run kind and job
}

// runKinds are the entries whose outcomes make a job's state.
var runKinds = map[string]string{
	"backup.run":   "备份 backup",
	"backup.check": "备份检查 backup check",
	"drill.run":    "恢复演练 drill",
	"scan.db":      "数据库扫描 database scan",
	"scan.files":   "文件扫描 file scan",
	"backup.prune": "备份清理 backup prune",
}

// badOutcome says whether an outcome means the run failed or could not run.
func badOutcome(o string) bool { return o == "fail" || o == "error" }

// goodOutcome says whether the run did its job (findings are a scan's
// result, not a failure of the scan).
func goodOutcome(o string) bool { return o == "ok" || o == "pass" || o == "findings" }

// States folds run entries into each job's last state and yields the state
// changes. Feed it every entry in journal order.
type States struct {
	bad    map[string]bool // by kind+subject: the last run failed
	missed map[string]bool // by kind+subject: skipped since the last run that ran
}

// NewStates starts with no job known.
func NewStates() *States { return &States{bad: map[string]bool{}, missed: map[string]bool{}} }

// Apply folds e and returns the event it makes, if any.
func (s *States) Apply(e journal.Entry) (Event, bool) {
	what, ok := runKinds[e.Kind]
	if !ok {
		return Event{}, false
	}
	ev := Event{Entry: e, Subject: what + " " + e.Subject}
	key := e.Kind + "\x00" + e.Subject
	if e.Outcome == "skipped" {
		// One page when runs start being missed, not one per missed run.
		was := s.missed[key]
		s.missed[key] = true
		if was {
			return Event{}, false
		}
		ev.Kind = EventMissed
		return ev, true
	}
	s.missed[key] = false
	switch {
	case badOutcome(e.Outcome) || missedTarget(e):
		was := s.bad[key]
		s.bad[key] = true
		if was {
			return Event{}, false
		}
		ev.Kind = EventFail
		return ev, true
	case goodOutcome(e.Outcome):
		was := s.bad[key]
		s.bad[key] = false
		if !was {
			return Event{}, false
		}
		ev.Kind = EventRecover
		return ev, true
	}
	return Event{}, false
}

// missedTarget says whether e is a drill that restored and verified its
// backup but missed its RTO or RPO target: the backup is good, the promise
// to the business is not kept, which the on-call DBA must hear of too.
func missedTarget(e journal.Entry) bool {
	for _, k := range []string{"rto_met", "rpo_met"} {
		if met, ok := e.Figures[k].(bool); ok && !met {
			return true
		}
	}
	return false
}

// Message is the text of an event, in Chinese and English.
func Message(ev Event, loc *time.Location) (title, text string) {
	label := map[string]string{EventFail: "失败 FAILED", EventRecover: "已恢复 RECOVERED", EventMissed: "未按计划运行 MISSED"}[ev.Kind]
	if ev.Kind == EventFail && !badOutcome(ev.Entry.Outcome) && missedTarget(ev.Entry) {
		label = "未达标 TARGET MISSED"
	}
	title = fmt.Sprintf("atrest %s: %s", label, ev.Subject)
	var b strings.Builder
	fmt.Fprintf(&b, "**atrest %s**\n\n", label)
	fmt.Fprintf(&b, "- 作业 Job: %s\n", ev.Subject)
	fmt.Fprintf(&b, "- 结果 Outcome: %s\n", ev.Entry.Outcome)
	if d := ev.Entry.Detail; d != "" {
		fmt.Fprintf(&b, "- 详情 Detail: %s\n", oneLine(d, 300))
	}
	fmt.Fprintf(&b, "- 时间 Time: %s\n", ev.Entry.Time.In(loc).Format("2006-01-02 15:04:05 -07:00"))
	fmt.Fprintf(&b, "- 日志 Journal: #%d on %s\n", ev.Entry.Seq, ev.Entry.Actor.Host)
	return title, b.String()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

// body renders the request body of a target's format.
func body(t Target, ev Event, loc *time.Location) ([]byte, error) {
	title, text := Message(ev, loc)
	switch t.Format {
	case FormatWeCom:
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": text}})
	case FormatDingTalk:
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": title, "text": text}})
	case FormatJSON:
		return json.Marshal(map[string]any{"event": ev.Kind, "kind": ev.Entry.Kind, "job": ev.Entry.Subject,
			"outcome": ev.Entry.Outcome, "detail": ev.Entry.Detail, "time": ev.Entry.Time, "seq": ev.Entry.Seq,
			"hash": ev.Entry.Hash, "host": ev.Entry.Actor.Host, "title": title, "text": text})
	}
	return nil, fmt.Errorf("notify: format %q: want wecom, dingtalk or json", t.Format)
}

// signedURL adds DingTalk's timestamp and signature to a robot URL:
// sign = base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
func signedURL(raw, secret string, now time.Time) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("notify: the webhook URL does not parse")
	}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "\n" + secret))
	q := u.Query()
	q.Set("timestamp", ts)
	q.Set("sign", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// robotReply is what WeCom and DingTalk robots answer: errcode 0 is success,
// whatever the HTTP status says.
type robotReply struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Sender posts events to targets.
type Sender struct {
	Client   *http.Client
	Location *time.Location
	Now      func() time.Time
	// Retries after the first attempt, and the wait before each (doubling).
	Retries int
	Backoff time.Duration
}

// Send delivers ev to t, retrying as the Sender says. The error never holds
// the URL (it carries the robot's key).
func (s *Sender) Send(ctx context.Context, t Target, ev Event) (attempts int, err error) {
	b, err := body(t, ev, s.Location)
	if err != nil {
		return 0, err
	}
	wait := s.Backoff
	for attempts = 1; ; attempts++ {
		err = s.post(ctx, t, b)
		if err == nil || attempts > s.Retries {
			return attempts, err
		}
		select {
		case <-ctx.Done():
			return attempts, ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (s *Sender) post(ctx context.Context, t Target, b []byte) error {
	u := t.URL
	if t.Format == FormatDingTalk && t.Secret != "" {
		var err error
		if u, err = signedURL(u, t.Secret, s.Now()); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return errors.New("notify: the webhook URL is not a URL")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := s.Client.Do(req)
	if err != nil {
		// url.Error's text holds the URL: keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notify %s: %v", t.Name, err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify %s: HTTP %d", t.Name, resp.StatusCode)
	}
	if t.Format == FormatWeCom || t.Format == FormatDingTalk {
		var r robotReply
		if json.Unmarshal(reply, &r) != nil || r.ErrCode == nil {
			return fmt.Errorf("notify %s: the robot's answer is not {errcode, errmsg}", t.Name)
		}
		if *r.ErrCode != 0 {
			return fmt.Errorf("notify %s: robot refused: errcode %d %s", t.Name, *r.ErrCode, oneLine(r.ErrMsg, 120))
		}
	}
	return nil
}
