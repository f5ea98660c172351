// Package backoff spaces out the attempts of an operation that may succeed
// later: exponential pauses, capped, partly random, until a context ends.
// Every retry loop uses it, so that one formula is written and tested once.
package backoff

import (
	"context"
	"iter"
	"math/rand/v2"
	"time"
)

// Policy says how long to pause after each failed attempt.
type Policy struct {
	// First is the pause after the first attempt; each later pause doubles,
	// up to Max.
	First, Max time.Duration
	// Jitter is the part of each pause left to chance, from 0 to 1: a pause
	// lies between (1-Jitter) and 1 times the doubled value, so that clients
	// waiting for the same server do not all retry at the same moment.
	Jitter float64
}

// Delay returns the pause after attempt n (1 for the first).
func (p Policy) Delay(n int) time.Duration {
	d := p.First
	for i := 1; i < n && d > 0 && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	if jitter := time.Duration(float64(d) * min(max(p.Jitter, 0), 1)); jitter > 0 {
		d -= rand.N(jitter + 1)
	}
	return d
}

// Attempts yields the attempt numbers 1, 2, 3, ... and with each the pause
// that follows it, and pauses between them; the loop's body makes the
// attempt and leaves the loop once it succeeded or failed for good. The
// first attempt is always made. Later ones stop when ctx is done, or when
// its deadline would come before the pause ends: an attempt that could not
// start in time is not waited for.
func (p Policy) Attempts(ctx context.Context) iter.Seq2[int, time.Duration] {
	return func(yield func(int, time.Duration) bool) {
		for n := 1; ; n++ {
			pause := p.Delay(n)
			if !yield(n, pause) || !wait(ctx, pause) {
				return
			}
		}
	}
}

// wait pauses for d and reports whether ctx allows another attempt after it.
func wait(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		// A timer that fired late may find the deadline passed.
		return ctx.Err() == nil
	}
}
