package engine

import (
	"context"
	"sync"
)

// FirstError keeps the first error of several goroutines working on one
// job (a load's connections) and cancels the job's context when it comes.
type FirstError struct {
	Cancel context.CancelFunc

	mu  sync.Mutex
	err error
}

// Fail records err unless an error came first, and cancels the job.
func (f *FirstError) Fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
		if f.Cancel != nil {
			f.Cancel()
		}
	}
}

// Err is the first error, or nil.
func (f *FirstError) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
