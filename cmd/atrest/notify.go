package main

import (
	"net/http"
	"time"

	"github.com/atrest/atrest/audit/journal"
	"github.com/atrest/atrest/internal/config"
	"github.com/atrest/atrest/internal/notify"
)

// notifyRunner is the notify[] targets of the config with their URLs and
// secrets read from the environment, or nil when none is configured. A
// variable that is not set stops serve before anything runs.
func notifyRunner(cfg *config.Config, j *journal.Journal) (*notify.Runner, error) {
	if len(cfg.Notify) == 0 {
		return nil, nil
	}
	var targets []notify.Target
	for _, n := range cfg.Notify {
		url, err := config.Env("notify "+n.Name+": url_env", n.URLEnv)
		if err != nil {
			return nil, err
		}
		t := notify.Target{Name: n.Name, Format: n.Format, URL: url, On: n.On}
		if n.SecretEnv != "" {
			if t.Secret, err = config.Env("notify "+n.Name+": secret_env", n.SecretEnv); err != nil {
				return nil, err
			}
		}
		targets = append(targets, t)
	}
	s := &notify.Sender{Client: &http.Client{Timeout: 10 * time.Second}, Location: cfg.Location, Now: time.Now,
		Retries: 3, Backoff: 5 * time.Second}
	return notify.NewRunner(cfg.JournalDir(), targets, s, j), nil
}
