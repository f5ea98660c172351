package control

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
)

func healVolume(name, id string, hosts ...string) glustercli.Volume {
	v := glustercli.Volume{Name: name, ID: id}
	for _, h := range hosts {
		v.Bricks = append(v.Bricks, glustercli.Brick{Host: h, Path: "/bricks/" + name})
	}
	return v
}

func TestHealQueriesShareAnswers(t *testing.T) {
	gv := healVolume("gv", "id-1", "10.0.0.1", "10.0.0.2")
	tests := []struct {
		name    string
		later   glustercli.Volume
		after   time.Duration
		queries int // gluster heal queries for the two questions
	}{
		{name: "the same bricks, soon after", later: gv, after: time.Second, queries: 1},
		{name: "the same bricks, once the answer aged", later: gv, after: healAnswerFor, queries: 2},
		{name: "a brick added since", later: healVolume("gv", "id-1", "10.0.0.1", "10.0.0.2", "10.0.0.3"), after: time.Second, queries: 2},
		{name: "a brick moved since", later: healVolume("gv", "id-1", "10.0.0.1", "10.0.0.3"), after: time.Second, queries: 2},
		{name: "the volume made anew since", later: healVolume("gv", "id-2", "10.0.0.1", "10.0.0.2"), after: time.Second, queries: 2},
		{name: "another volume", later: healVolume("other", "id-3", "10.0.0.1", "10.0.0.2"), after: time.Second, queries: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newHealQueries()
			now := time.Unix(1000, 0)
			q.now = func() time.Time { return now }
			var queries int
			query := func(context.Context) (Heal, error) {
				queries++
				return Heal{Pending: queries}, nil
			}
			if _, err := q.ask(t.Context(), gv, query); err != nil {
				t.Fatal(err)
			}
			now = now.Add(tc.after)
			h, err := q.ask(t.Context(), tc.later, query)
			if err != nil {
				t.Fatal(err)
			}
			if queries != tc.queries || h.Pending != tc.queries {
				t.Errorf("%d queries, answer %+v; want %d queries and the last one's answer", queries, h, tc.queries)
			}
		})
	}
}

func TestHealQueriesFailuresAreNotKept(t *testing.T) {
	q := newHealQueries()
	gv := healVolume("gv", "id-1", "10.0.0.1")
	fail := true
	query := func(context.Context) (Heal, error) {
		if fail {
			return Heal{}, fmt.Errorf("glfsheal: transport endpoint is not connected")
		}
		return Heal{Done: true}, nil
	}
	if _, err := q.ask(t.Context(), gv, query); err == nil {
		t.Fatal("a failed query answered")
	}
	fail = false
	if h, err := q.ask(t.Context(), gv, query); err != nil || !h.Done {
		t.Errorf("asked again after a failure: %+v, %v; want a new query's answer", h, err)
	}
}

// Many callers about many volumes at once: one query per volume, and never
// more than parallelHealQueries running.
func TestHealQueriesBounded(t *testing.T) {
	q := newHealQueries()
	var running, most, queries atomic.Int32
	release := make(chan struct{})
	query := func(context.Context) (Heal, error) {
		queries.Add(1)
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		running.Add(-1)
		return Heal{Done: true}, nil
	}
	const volumes, callers = 6, 5
	var wg sync.WaitGroup
	for v := range volumes {
		vol := healVolume(fmt.Sprint("gv", v), fmt.Sprint("id-", v), "10.0.0.1", "10.0.0.2")
		for range callers {
			wg.Go(func() {
				if _, err := q.ask(t.Context(), vol, query); err != nil {
					t.Error(err)
				}
			})
		}
	}
	// Let the queries through one at a time while the callers pile up.
	go func() {
		for range volumes {
			time.Sleep(10 * time.Millisecond)
			release <- struct{}{}
		}
	}()
	wg.Wait()
	if n := queries.Load(); n != volumes {
		t.Errorf("%d queries for %d volumes", n, volumes)
	}
	if m := most.Load(); m > parallelHealQueries {
		t.Errorf("%d queries ran at once; want at most %d", m, parallelHealQueries)
	}
}

// A caller that gives up does not cancel the query it started, which
// answers those that ask next.
func TestHealQueriesOutliveACaller(t *testing.T) {
	q := newHealQueries()
	gv := healVolume("gv", "id-1", "10.0.0.1")
	var queries atomic.Int32
	release := make(chan struct{})
	query := func(ctx context.Context) (Heal, error) {
		queries.Add(1)
		<-release
		return Heal{Done: ctx.Err() == nil}, ctx.Err()
	}
	impatient, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := q.ask(impatient, gv, query); err == nil {
		t.Error("a caller that gave up got an answer")
	}
	close(release)
	h, err := q.ask(t.Context(), gv, query)
	if err != nil || !h.Done {
		t.Errorf("the next caller got %+v, %v; want the first query's answer", h, err)
	}
	if n := queries.Load(); n != 1 {
		t.Errorf("%d queries; want the one the first caller started", n)
	}
}

func TestHealQueriesForgetOldAnswers(t *testing.T) {
	q := newHealQueries()
	now := time.Unix(1000, 0)
	q.now = func() time.Time { return now }
	query := func(context.Context) (Heal, error) { return Heal{Done: true}, nil }
	if _, err := q.ask(t.Context(), healVolume("gone", "id-1", "10.0.0.1"), query); err != nil {
		t.Fatal(err)
	}
	now = now.Add(healAnswerFor)
	if _, err := q.ask(t.Context(), healVolume("gv", "id-2", "10.0.0.1"), query); err != nil {
		t.Fatal(err)
	}
	if _, kept := q.answers["gone"]; kept || len(q.answers) != 1 {
		t.Errorf("answers kept: %v; want only gv's", q.answers)
	}
}
