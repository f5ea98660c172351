package control

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/glusterdocker/gluster/glustercli"
)

// fakeGluster is an in-memory pool: enough of glusterd's behaviour for the
// service's logic. Real glusterd is exercised by the end-to-end tests.
type fakeGluster struct {
	mu            sync.Mutex
	peers         []glustercli.Peer
	vols          map[string]glustercli.Volume
	clients       map[string][]string // volume -> client addresses on its first brick
	badKeys       map[string]bool     // options Set refuses
	failCreate    error               // what Create answers, if set
	failDelete    error               // what Delete answers, if set
	failStart     error               // what Start answers, if set
	dirs          []string            // "volume:/path" of directories quota can limit
	limits        map[string]uint64   // "volume:/path" -> quota hard limit
	failLayout    error               // what AddBricks and ReplaceBrick answer, if set
	failProbe     error               // what Probe answers, if set
	heal          map[string][]glustercli.BrickHeal
	failRebalance error                           // what RebalanceStart answers, if set
	rebalance     map[string]glustercli.Rebalance // what RebalanceStatus answers
	calls         []string
	thinArbiters  []string // of each Create
}

func newFakeGluster(peers ...string) *fakeGluster {
	f := &fakeGluster{vols: map[string]glustercli.Volume{}, clients: map[string][]string{}, badKeys: map[string]bool{}}
	for i, p := range peers {
		host := p
		if i == 0 {
			host = "localhost"
		}
		f.peers = append(f.peers, glustercli.Peer{UUID: fmt.Sprint("uuid-", i), Hostname: host, Connected: true})
	}
	return f
}

func (f *fakeGluster) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeGluster) Volumes(context.Context) ([]glustercli.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []glustercli.Volume
	for _, name := range slices.Sorted(maps.Keys(f.vols)) {
		out = append(out, f.vols[name])
	}
	return out, nil
}

func (f *fakeGluster) Volume(_ context.Context, name string) (glustercli.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.vols[name]
	if !ok {
		return v, fmt.Errorf("%w: %s", glustercli.ErrNotFound, name)
	}
	return v, nil
}

func (f *fakeGluster) Status(_ context.Context, name string) (glustercli.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.vols[name]
	st := glustercli.Status{Volume: name}
	for i, b := range v.Bricks {
		bs := glustercli.BrickStatus{Host: b.Host, Path: b.Path, Online: true}
		if i == 0 {
			bs.Clients = f.clients[name]
		}
		st.Bricks = append(st.Bricks, bs)
	}
	return st, nil
}

func (f *fakeGluster) Peers(context.Context) ([]glustercli.Peer, error) {
	return slices.Clone(f.peers), nil
}

func (f *fakeGluster) Create(_ context.Context, a glustercli.CreateArgs) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("create %s", a.Name)
	f.thinArbiters = append(f.thinArbiters, a.ThinArbiter)
	if f.failCreate != nil {
		return f.failCreate
	}
	if _, ok := f.vols[a.Name]; ok {
		return &glustercli.Error{Message: "Volume " + a.Name + " already exists"}
	}
	v := glustercli.Volume{Name: a.Name, ID: "id-" + a.Name, Status: "Created", Replica: a.Replica, Bricks: a.Bricks, Options: map[string]string{}}
	if a.Arbiter {
		v.Arbiter = 1
		v.Bricks[len(v.Bricks)-1].Arbiter = true
	}
	f.vols[a.Name] = v
	return nil
}

func (f *fakeGluster) setStatus(name, status string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("%s %s", status, name)
	v, ok := f.vols[name]
	if !ok {
		return fmt.Errorf("%w: %s", glustercli.ErrNotFound, name)
	}
	v.Status = status
	f.vols[name] = v
	return nil
}

func (f *fakeGluster) Start(_ context.Context, name string) error {
	if f.failStart != nil {
		return f.failStart
	}
	return f.setStatus(name, "Started")
}
func (f *fakeGluster) Stop(_ context.Context, name string) error { return f.setStatus(name, "Stopped") }

func (f *fakeGluster) Delete(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("delete %s", name)
	if f.failDelete != nil {
		return f.failDelete
	}
	delete(f.vols, name)
	return nil
}

func (f *fakeGluster) Set(_ context.Context, name string, options map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for key := range options {
		if f.badKeys[key] {
			return &glustercli.Error{Message: "option : " + key + " does not exist"}
		}
	}
	maps.Copy(f.vols[name].Options, options)
	return nil
}

// fakePeers stands for the brick endpoints of the other servers.
type fakePeers struct {
	mu      sync.Mutex
	made    []string         // "server/volume" of brick directories made
	removed []string         // "server/volume" of brick directories removed
	refuse  map[string]error // what MakeBrick answers on a server
	silent  map[string]error // what Answers and RemoveBrick answer for a server
	owners  map[string]string
}

func newFakePeers() *fakePeers {
	return &fakePeers{refuse: map[string]error{}, owners: map[string]string{}}
}

func (f *fakePeers) MakeBrick(_ context.Context, server, volume, owner string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.refuse[server]; err != nil {
		return err
	}
	f.made = append(f.made, server+"/"+volume)
	f.owners[server+"/"+volume] = owner
	return nil
}

func (f *fakePeers) Answers(_ context.Context, server string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.silent[server]
}

func (f *fakePeers) RemoveBrick(_ context.Context, server, volume, owner string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.silent[server]; err != nil {
		return err
	}
	if f.owners[server+"/"+volume] != owner {
		return fmt.Errorf("%w: %s/%s not made by owner %s", ErrConflict, server, volume, owner)
	}
	delete(f.owners, server+"/"+volume)
	f.removed = append(f.removed, server+"/"+volume)
	return nil
}

func (f *fakeGluster) Probe(_ context.Context, host string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("probe %s", host)
	if f.failProbe != nil {
		return f.failProbe
	}
	if !slices.ContainsFunc(f.peers, func(p glustercli.Peer) bool { return p.Hostname == host }) {
		f.peers = append(f.peers, glustercli.Peer{UUID: "uuid-" + host, Hostname: host, Connected: true})
	}
	return nil
}

func (f *fakeGluster) Detach(_ context.Context, host string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("detach %s", host)
	f.peers = slices.DeleteFunc(f.peers, func(p glustercli.Peer) bool { return p.Hostname == host })
	return nil
}

func (f *fakeGluster) AddBricks(_ context.Context, name string, replica int, bricks []glustercli.Brick) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("add-brick %s replica %d %v", name, replica, bricks)
	if f.failLayout != nil {
		return f.failLayout
	}
	v := f.vols[name]
	v.Bricks = append(slices.Clone(v.Bricks), bricks...)
	v.Replica = replica
	f.vols[name] = v
	return nil
}

func (f *fakeGluster) ReplaceBrick(_ context.Context, name string, from, to glustercli.Brick) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("replace-brick %s %s:%s %s:%s", name, from.Host, from.Path, to.Host, to.Path)
	if f.failLayout != nil {
		return f.failLayout
	}
	v := f.vols[name]
	v.Bricks = slices.Clone(v.Bricks)
	v.Bricks[slices.Index(v.Bricks, from)] = to
	f.vols[name] = v
	return nil
}

func (f *fakeGluster) HealFull(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("heal %s full", name)
	return nil
}

func (f *fakeGluster) HealSummary(_ context.Context, name string) ([]glustercli.BrickHeal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.heal[name], nil
}

func (f *fakeGluster) AddReplicaSets(_ context.Context, name string, bricks []glustercli.Brick) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("add-brick %s %v", name, bricks)
	if f.failLayout != nil {
		return f.failLayout
	}
	v := f.vols[name]
	v.Bricks = append(slices.Clone(v.Bricks), bricks...)
	f.vols[name] = v
	return nil
}

func (f *fakeGluster) RebalanceStart(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("rebalance %s start", name)
	return f.failRebalance
}

func (f *fakeGluster) RebalanceStatus(_ context.Context, name string) (glustercli.Rebalance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.vols[name]; !ok {
		return glustercli.Rebalance{}, &glustercli.Error{Message: "Volume " + name + " does not exist"}
	}
	r, ok := f.rebalance[name]
	if !ok {
		return r, &glustercli.Error{Message: "Rebalance not started for volume " + name + "."}
	}
	return r, nil
}
