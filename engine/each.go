package engine

import (
	"context"
	"sort"
	"sync"
)

// EachBySize calls fn for each of len(sizes) items, n at a time, biggest
// first so that the longest reads start early; worker (0…n-1) says which
// of n callers' resources (a connection) fn may use. The first error
// cancels the others' context and is returned.
func EachBySize(ctx context.Context, sizes []int64, n int, fn func(ctx context.Context, worker, i int) error) error {
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sizes[order[a]] > sizes[order[b]] })
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	jobs := make(chan int)
	for w := range max(1, min(n, len(sizes))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := fn(ctx, w, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for _, i := range order {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
