// Package periodic runs the background chores of the server and the plugin
// (certificate renewals, repairs, retries) at a fixed interval, so that the
// loop around them is written and tested once.
package periodic

import (
	"context"
	"time"
)

// Every calls do every interval, the first time one interval from now,
// until ctx ends, and never once it ended. A call that takes longer than interval delays the next
// one; calls never overlap.
func Every(ctx context.Context, interval time.Duration, do func(context.Context)) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			// Both may be ready at once: an ended context wins.
			if ctx.Err() != nil {
				return
			}
			do(ctx)
		}
	}
}
