package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/atrest/atrest/audit/journal"
)

// Appender journals deliveries (a *journal.Journal).
type Appender interface {
	Append(journal.Entry) (journal.Entry, error)
}

// Runner follows the journal and sends each state change to the targets
// that want it.
type Runner struct {
	Targets []Target
	Sender  *Sender
	Journal Appender
	// MaxAge: events older than this when first seen are not sent (a
	// notifier configured today does not page about last month).
	MaxAge time.Duration

	tail      *journal.Tailer
	states    *States
	delivered map[string]bool // about seq + target name
	pending   []Event
}

// NewRunner returns a Runner over the journal in dir.
func NewRunner(dir string, targets []Target, s *Sender, j Appender) *Runner {
	return &Runner{Targets: targets, Sender: s, Journal: j, MaxAge: 24 * time.Hour,
		tail: journal.NewTailer(dir), states: NewStates(), delivered: map[string]bool{}}
}

func deliveredKey(seq int, target string) string { return fmt.Sprintf("%d\x00%s", seq, target) }

// Run follows the journal until ctx is done.
func (r *Runner) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll reads what was journaled since the last poll and delivers the state
// changes in it (and those still pending) to every target that wants them.
func (r *Runner) Poll(ctx context.Context) error {
	_, err := r.tail.Poll(func(e journal.Entry) {
		if e.Kind == KindSent || e.Kind == KindFailed {
			if seq, ok := journal.Number(e.Figures["about_seq"]); ok {
				r.delivered[deliveredKey(int(seq), e.Subject)] = true
			}
			return
		}
		if ev, ok := r.states.Apply(e); ok {
			r.pending = append(r.pending, ev)
		}
	})
	if err != nil {
		return fmt.Errorf("notify: read journal: %w", err)
	}
	// Deliveries journaled by an earlier run of the daemon are known only
	// once the whole journal is read: decide after the poll.
	events := r.pending
	r.pending = nil
	now := r.Sender.Now()
	for _, ev := range events {
		if now.Sub(ev.Entry.Time) > r.MaxAge {
			continue
		}
		for _, t := range r.Targets {
			if !t.wants(ev.Kind) || r.delivered[deliveredKey(ev.Entry.Seq, t.Name)] {
				continue
			}
			if ctx.Err() != nil {
				r.pending = append(r.pending, ev)
				return ctx.Err()
			}
			r.deliver(ctx, t, ev)
		}
	}
	return nil
}

func (r *Runner) deliver(ctx context.Context, t Target, ev Event) {
	attempts, err := r.Sender.Send(ctx, t, ev)
	e := journal.Entry{Kind: KindSent, Subject: t.Name, Outcome: "ok",
		Figures: map[string]any{"about_seq": ev.Entry.Seq, "attempts": attempts},
		Detail:  fmt.Sprintf("%s %s: %s (%s)", ev.Kind, ev.Subject, ev.Entry.Outcome, t.Format)}
	if err != nil {
		e.Kind, e.Outcome = KindFailed, "fail"
		e.Detail += " — undelivered: " + err.Error()
	}
	r.delivered[deliveredKey(ev.Entry.Seq, t.Name)] = true
	if r.Journal != nil {
		r.Journal.Append(e)
	}
}
