package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrest/atrest/internal/testenv"
)

// serve pages the on-call DBA through a WeCom-shaped robot when a scheduled
// job fails and again when it recovers, once each.
func TestServePagesOnFailAndRecover(t *testing.T) {
	var mu sync.Mutex
	var got []string
	robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Markdown struct{ Content string } `json:"markdown"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &m)
		mu.Lock()
		got = append(got, m.Markdown.Content)
		mu.Unlock()
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer robot.Close()
	db := testenv.MariaDB(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "atrest.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: %s/state
http: {listen: "127.0.0.1:0"}
sources:
  - {name: his, dsn_env: ATREST_T_NOTIFY_DSN, scan_schedule: "* * * * * *"}
notify:
  - {name: oncall, format: wecom, url_env: ATREST_T_WECOM, on: [fail, recover]}
`, dir)), 0o644)
	t.Setenv("ATREST_T_WECOM", robot.URL+"/cgi-bin/webhook/send?key=k")
	t.Setenv("ATREST_T_NOTIFY_DSN", "root@tcp(127.0.0.1:1)/")
	if _, stderr, code := atrest(t, "init", "--config", cfg); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	startServe(t, cfg, &syncBuffer{})
	wait := func(n int) []string {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			mu.Lock()
			c := append([]string(nil), got...)
			mu.Unlock()
			if len(c) >= n {
				return c
			}
		}
		t.Fatalf("fewer than %d pages: %q", n, got)
		return nil
	}
	msgs := wait(1)
	if !strings.Contains(msgs[0], "FAILED") || !strings.Contains(msgs[0], "his") {
		t.Fatalf("first page: %s", msgs[0])
	}
	os.Setenv("ATREST_T_NOTIFY_DSN", db.DSN)
	msgs = wait(2)
	if !strings.Contains(msgs[1], "RECOVERED") || strings.Contains(strings.Join(msgs, ""), "key=k") {
		t.Fatalf("second page: %s", msgs[1])
	}
	time.Sleep(3 * time.Second) // more runs, same state: no more pages
	if n := len(wait(2)); n != 2 {
		t.Errorf("%d pages for two state changes", n)
	}
}
