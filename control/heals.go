package control

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/glusterdocker/gluster/glustercli"
)

// A heal query starts a gluster client (glfsheal) that connects to every
// brick of the volume: tens of MiB and a fraction of a CPU second each.
// The plugin of every host asks for the heal progress of a volume while
// Docker starts its containers, so a Swarm starting a hundred services at
// once would start hundreds of them on one small server. The API shares
// them instead: one query per volume and brick layout at a time, its answer
// good for healAnswerFor, and at most parallelHealQueries running at once.
const (
	// healAnswerFor is how long an answer stands for later questions about
	// the same bricks: about what `gluster volume heal VOL info` takes on
	// a busy pool, and short next to a heal anyone watches.
	healAnswerFor = 5 * time.Second
	// parallelHealQueries bounds the glfsheal processes the API runs at
	// once; the others wait their turn.
	parallelHealQueries = 2
	// healQueryTimeout bounds one query, which every caller asking about
	// that volume shares: a brick that does not answer holds glfsheal for
	// its connection attempts, and an answer later than this is not worth
	// waiting for.
	healQueryTimeout = 30 * time.Second
)

// healQueries shares and bounds one server's heal queries.
type healQueries struct {
	slots   chan struct{}
	flights singleflight.Group
	mu      sync.Mutex
	answers map[string]healAnswer // by volume name
	now     func() time.Time
}

type healAnswer struct {
	layout string // the bricks it is about
	heal   Heal
	at     time.Time
}

func newHealQueries() *healQueries {
	return &healQueries{slots: make(chan struct{}, parallelHealQueries), answers: map[string]healAnswer{}, now: time.Now}
}

// brickLayout names a volume and its bricks in order: an answer about
// other bricks (one added, moved or replaced since), or about an earlier
// volume of that name, says nothing of these.
func brickLayout(v glustercli.Volume) string {
	layout := []string{v.ID}
	for _, b := range v.Bricks {
		layout = append(layout, b.Host+":"+b.Path)
	}
	return strings.Join(layout, " ")
}

// ask returns the answer given about the volume's bricks within
// healAnswerFor, or the one query's answer that is running or starts now.
func (q *healQueries) ask(ctx context.Context, v glustercli.Volume, query func(context.Context) (Heal, error)) (Heal, error) {
	layout := brickLayout(v)
	q.mu.Lock()
	a, ok := q.answers[v.Name]
	q.mu.Unlock()
	if ok && a.layout == layout && q.now().Sub(a.at) < healAnswerFor {
		return a.heal, nil
	}
	answer := q.flights.DoChan(v.Name+"\n"+layout, func() (any, error) {
		// Shared by every caller: none of them may cancel it for the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healQueryTimeout)
		defer cancel()
		select {
		case q.slots <- struct{}{}:
		case <-ctx.Done():
			return Heal{}, ctx.Err()
		}
		defer func() { <-q.slots }()
		h, err := query(ctx)
		if err == nil {
			q.keep(v.Name, healAnswer{layout: layout, heal: h, at: q.now()})
		}
		return h, err
	})
	select {
	case r := <-answer:
		if r.Err != nil {
			return Heal{}, r.Err
		}
		return r.Val.(Heal), nil
	case <-ctx.Done():
		return Heal{}, ctx.Err()
	}
}

// keep records an answer and forgets those too old to be given again, so
// that volumes deleted since leave nothing behind.
func (q *healQueries) keep(name string, a healAnswer) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for n, old := range q.answers {
		if a.at.Sub(old.at) >= healAnswerFor {
			delete(q.answers, n)
		}
	}
	q.answers[name] = a
}
