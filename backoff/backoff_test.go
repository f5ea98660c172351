package backoff

import (
	"context"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	const ms = time.Millisecond
	testCases := []struct {
		name     string
		policy   Policy
		attempt  int
		min, max time.Duration
	}{
		{name: "[Success] first pause", policy: Policy{First: 250 * ms, Max: 5 * time.Second}, attempt: 1, min: 250 * ms, max: 250 * ms},
		{name: "[Success] doubles", policy: Policy{First: 250 * ms, Max: 5 * time.Second}, attempt: 3, min: time.Second, max: time.Second},
		{name: "[Success] capped", policy: Policy{First: 250 * ms, Max: 5 * time.Second}, attempt: 6, min: 5 * time.Second, max: 5 * time.Second},
		{name: "[Success] capped after many attempts", policy: Policy{First: 250 * ms, Max: 5 * time.Second}, attempt: 1000, min: 5 * time.Second, max: 5 * time.Second},
		{name: "[Success] first above the cap", policy: Policy{First: time.Minute, Max: time.Second}, attempt: 1, min: time.Second, max: time.Second},
		{name: "[Success] attempt 0 counts as the first", policy: Policy{First: 100 * ms, Max: time.Second}, attempt: 0, min: 100 * ms, max: 100 * ms},
		{name: "[Success] half random", policy: Policy{First: 250 * ms, Max: 5 * time.Second, Jitter: 0.5}, attempt: 5, min: 2 * time.Second, max: 4 * time.Second},
		{name: "[Success] random cap", policy: Policy{First: 250 * ms, Max: 5 * time.Second, Jitter: 0.5}, attempt: 100, min: 2500 * ms, max: 5 * time.Second},
		{name: "[Success] jitter above 1 is all random", policy: Policy{First: 100 * ms, Max: time.Second, Jitter: 3}, attempt: 1, min: 0, max: 100 * ms},
		{name: "[Success] negative jitter is none", policy: Policy{First: 100 * ms, Max: time.Second, Jitter: -1}, attempt: 1, min: 100 * ms, max: 100 * ms},
		{name: "[Success] zero policy never pauses", policy: Policy{}, attempt: 7, min: 0, max: 0},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				if d := tc.policy.Delay(tc.attempt); d < tc.min || d > tc.max {
					t.Fatalf("Delay(%d) = %s, want within [%s, %s]", tc.attempt, d, tc.min, tc.max)
				}
			}
		})
	}
}

func TestAttempts(t *testing.T) {
	quick := Policy{First: time.Millisecond, Max: 4 * time.Millisecond}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	testCases := []struct {
		name       string
		policy     Policy
		ctx        func(t *testing.T) context.Context
		succeedAt  int // the attempt after which the body leaves the loop; 0: never
		min, max   int // attempts made
		wantAtMost time.Duration
	}{
		{name: "[Success] stops when the body leaves", policy: quick, succeedAt: 3, min: 3, max: 3, wantAtMost: time.Second,
			ctx: func(*testing.T) context.Context { return context.Background() }},
		{name: "[Success] first attempt even when ctx is done", policy: quick, min: 1, max: 1, wantAtMost: 10 * time.Millisecond,
			ctx: func(*testing.T) context.Context { return cancelled }},
		{name: "[Error] no pause that would outlast the deadline", policy: Policy{First: time.Hour, Max: time.Hour}, min: 1, max: 1, wantAtMost: time.Second,
			ctx: func(t *testing.T) context.Context { return withTimeout(t, time.Minute) }},
		{name: "[Error] stops at the deadline", policy: Policy{First: 10 * time.Millisecond, Max: 10 * time.Millisecond}, min: 2, max: 6, wantAtMost: 200 * time.Millisecond,
			ctx: func(t *testing.T) context.Context { return withTimeout(t, 55*time.Millisecond) }},
		{name: "[Error] stops when ctx is cancelled during a pause", policy: Policy{First: time.Hour, Max: time.Hour}, min: 1, max: 1, wantAtMost: time.Second,
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(20*time.Millisecond, cancel)
				t.Cleanup(cancel)
				return ctx
			}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			made := 0
			for n := range tc.policy.Attempts(tc.ctx(t)) {
				made++
				if n != made {
					t.Fatalf("attempt numbered %d, want %d", n, made)
				}
				if n == tc.succeedAt {
					break
				}
			}
			if made < tc.min || made > tc.max {
				t.Errorf("%d attempts, want %d to %d", made, tc.min, tc.max)
			}
			if elapsed := time.Since(start); elapsed > tc.wantAtMost {
				t.Errorf("took %s, want at most %s", elapsed, tc.wantAtMost)
			}
		})
	}
}

func TestAttemptsYieldsThePauseThatFollows(t *testing.T) {
	p := Policy{First: 2 * time.Millisecond, Max: 8 * time.Millisecond}
	var pauses []time.Duration
	for n, pause := range p.Attempts(context.Background()) {
		pauses = append(pauses, pause)
		if n == 4 {
			break
		}
	}
	want := []time.Duration{2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond, 8 * time.Millisecond}
	for i := range want {
		if pauses[i] != want[i] {
			t.Fatalf("pauses = %v, want %v", pauses, want)
		}
	}
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
