package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
)

// fakeAdminAPI records the changes asked for; heals report pending entries
// and rebalances report running the first time they are asked for (the
// first stalled+1 times), unless failed says how a rebalance ended.
type fakeAdminAPI struct {
	vols        []control.Volume
	refuse      error
	calls       []string
	healing     map[string]int
	rebalancing map[string]int
	stalled     int
	failed      string
}

func (f *fakeAdminAPI) Peers(context.Context) ([]control.Peer, error) {
	return []control.Peer{{Address: "10.0.0.1", UUID: "u1", Connected: true, Self: true}, {Address: "10.0.0.2", UUID: "u2"}}, nil
}

func (f *fakeAdminAPI) AddPeer(_ context.Context, address string) (control.Peer, error) {
	f.calls = append(f.calls, "add "+address)
	return control.Peer{Address: address, UUID: "u", Connected: true}, f.refuse
}

func (f *fakeAdminAPI) RemovePeer(_ context.Context, address string) error {
	f.calls = append(f.calls, "remove "+address)
	return f.refuse
}

func (f *fakeAdminAPI) Volumes(context.Context) ([]control.Volume, error) { return f.vols, nil }

func (f *fakeAdminAPI) RaiseReplica(_ context.Context, name string, req control.ReplicaRequest) (control.Volume, error) {
	f.calls = append(f.calls, fmt.Sprintf("replica %s %d %v", name, req.Replica, req.Servers))
	return control.Volume{Name: name, Replica: req.Replica}, f.refuse
}

func (f *fakeAdminAPI) ReplaceBrick(_ context.Context, name string, req control.ReplaceRequest) (control.Volume, error) {
	f.calls = append(f.calls, fmt.Sprintf("replace %s %s>%s", name, req.From, req.To))
	return control.Volume{Name: name}, f.refuse
}

func (f *fakeAdminAPI) Heal(_ context.Context, name string) (control.Heal, error) {
	f.calls = append(f.calls, "heal "+name)
	if f.healing == nil {
		f.healing = map[string]int{}
	}
	if f.healing[name] <= f.stalled {
		f.healing[name]++
		return control.Heal{Pending: 7, Bricks: []control.BrickHeal{{Brick: "10.0.0.1:/bricks/" + name, Connected: true, Pending: 7}}}, nil
	}
	return control.Heal{Done: true}, nil
}

func (f *fakeAdminAPI) Expand(_ context.Context, name string, req control.ExpandRequest) (control.Volume, error) {
	f.calls = append(f.calls, fmt.Sprintf("expand %s %v", name, req.Servers))
	v := labelled(name, "10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.5")
	v.Replica = 2
	return v, f.refuse
}

func (f *fakeAdminAPI) Rebalance(_ context.Context, name string) (control.Rebalance, error) {
	f.calls = append(f.calls, "rebalance "+name)
	if f.rebalancing == nil {
		f.rebalancing = map[string]int{}
	}
	servers := []control.ServerRebalance{{Server: "10.0.0.1", Status: "in progress", RebalanceCounts: control.RebalanceCounts{Files: 5}}}
	switch {
	case f.failed == "not started":
		return control.Rebalance{Status: f.failed}, nil
	case f.failed != "":
		servers[0].Status = f.failed
		return control.Rebalance{Status: f.failed, Servers: servers}, nil
	case f.rebalancing[name] <= f.stalled:
		f.rebalancing[name]++
		return control.Rebalance{Status: "in progress", Running: true, RebalanceCounts: control.RebalanceCounts{Files: 5, Bytes: 5 << 20}, Servers: servers}, nil
	}
	servers[0].Status = "completed"
	return control.Rebalance{Status: "completed", Done: true, RebalanceCounts: control.RebalanceCounts{Files: 9}, Servers: servers}, nil
}

// Purge deletes only a retained volume, as the control API does.
func (f *fakeAdminAPI) Purge(_ context.Context, name string) error {
	f.calls = append(f.calls, "purge "+name)
	for _, v := range f.vols {
		if v.Name == name && control.Retained(v.Options) {
			return f.refuse
		}
	}
	return control.ErrConflict
}

func (f *fakeAdminAPI) Revoke(_ context.Context, serial string) (control.Revocation, error) {
	f.calls = append(f.calls, "revoke "+serial)
	return control.Revocation{Serial: serial, Servers: []string{"10.0.0.1"}, Missed: []string{"10.0.0.2"}}, nil
}

func labelled(name string, servers ...string) control.Volume {
	v := control.Volume{Name: name, Options: map[string]string{control.DockerVolumeOption: strings.ReplaceAll(name, "__", ".")}}
	for _, s := range servers {
		v.Bricks = append(v.Bricks, control.Brick{Server: s, Path: "/bricks/" + name})
	}
	return v
}

func TestAdmin(t *testing.T) {
	vols := []control.Volume{
		labelled("a__b", "10.0.0.1", "10.0.0.2"),
		labelled("c", "10.0.0.2", "10.0.0.3"),
		labelled("elsewhere", "10.0.0.1", "10.0.0.3"),
	}
	foreign := control.Volume{Name: "manual", Bricks: []control.Brick{{Server: "10.0.0.2"}}}
	kept := labelled("kept", "10.0.0.1", "10.0.0.2")
	kept.Options[control.RetainedOption] = "2026-12-03T11:00:00Z"
	adopted := labelled("adopted", "10.0.0.1", "10.0.0.2")
	adopted.Options[control.RetainedOption] = "no"
	retention := append(slices.Clone(vols), kept, adopted)
	// Started replicated volumes, and two wait-healed leaves alone.
	var replicas []control.Volume
	for _, v := range vols[:2] {
		v.Status, v.Replica = "Started", 2
		replicas = append(replicas, v)
	}
	stopped, single := labelled("stopped", "10.0.0.1", "10.0.0.2"), labelled("single", "10.0.0.1")
	stopped.Status, stopped.Replica = "Stopped", 2
	single.Status, single.Replica = "Started", 1
	replicas = append(replicas, stopped, single)
	tests := []struct {
		name   string
		args   []string
		vols   []control.Volume
		refuse error
		calls  []string
		output string // a line the output holds
		err    error  // nil, errUsage, or any error (errAny)
	}{
		{"[Success] add a server", []string{"add-server", "10.0.0.4"}, nil, nil, []string{"add 10.0.0.4"}, "10.0.0.4 joined the pool", nil},
		{"[Success] raise by Docker name, following the heal", []string{"replica", "a.b", "3"}, vols, nil,
			[]string{"replica a__b 3 []", "heal a__b", "heal a__b"}, "a__b: healing, 7 entries to heal: 10.0.0.1:/bricks/a__b 7", nil},
		{"[Success] raise onto a named server without waiting", []string{"-wait=false", "replica", "c", "3", "10.0.0.4"}, vols, nil,
			[]string{"replica c 3 [10.0.0.4]", "heal c"}, "c: healing, 7 entries", nil},
		{"[Success] replace a server", []string{"replace-server", "10.0.0.2", "10.0.0.4"}, vols, nil,
			[]string{"replace a__b 10.0.0.2>10.0.0.4", "replace c 10.0.0.2>10.0.0.4", "remove 10.0.0.2", "heal a__b", "heal a__b", "heal c", "heal c"}, "c: healed", nil},
		{"[Success] drain a server", []string{"-wait=false", "drain", "10.0.0.3"}, vols, nil,
			[]string{"replace c 10.0.0.3>", "replace elsewhere 10.0.0.3>", "remove 10.0.0.3", "heal c", "heal elsewhere"}, "10.0.0.3 left the pool", nil},
		{"[Success] heal progress once", []string{"-wait=false", "heal", "c"}, vols, nil, []string{"heal c"}, "c: healing, 7 entries", nil},
		{"[Success] wait-healed waits for every started replicated volume", []string{"wait-healed"}, replicas, nil,
			[]string{"heal a__b", "heal a__b", "heal c", "heal c"}, "c: healed", nil},
		{"[Success] wait-healed with a timeout after the volumes named", []string{"wait-healed", "a.b", "-timeout", "1m"}, replicas, nil,
			[]string{"heal a__b", "heal a__b"}, "a__b: healed", nil},
		{"[Error] wait-healed with a timeout that is no duration", []string{"wait-healed", "-timeout", "soon"}, replicas, nil, nil, "", errUsage},
		{"[Success] expand by Docker name, following the rebalance", []string{"expand", "a.b"}, vols, nil,
			[]string{"expand a__b []", "rebalance a__b", "rebalance a__b"}, "a__b: rebalanced, 9 files moved", nil},
		{"[Success] expand onto named servers without waiting", []string{"-wait=false", "expand", "c", "10.0.0.4", "10.0.0.5"}, vols, nil,
			[]string{"expand c [10.0.0.4 10.0.0.5]", "rebalance c"}, "c: rebalancing, 5 files moved (5MiB)", nil},
		{"[Success] expand says the new layout", []string{"-wait=false", "expand", "c"}, vols, nil,
			[]string{"expand c []", "rebalance c"}, "c: 2 replica sets of 2, bricks 10.0.0.1, 10.0.0.2, 10.0.0.4, 10.0.0.5", nil},
		{"[Success] rebalance progress once", []string{"-wait=false", "rebalance", "c"}, vols, nil, []string{"rebalance c"}, "10.0.0.1 in progress (5 files)", nil},
		{"[Error] a refused expand follows no rebalance", []string{"expand", "c"}, vols, errors.New("refused"), []string{"expand c []"}, "", errAny},
		{"[Error] expand without a volume", []string{"expand"}, vols, nil, nil, "", errUsage},
		{"[Error] a volume the plugin did not make keeps its server in the pool", []string{"drain", "10.0.0.2"}, append(slices.Clone(vols), foreign), nil,
			[]string{"replace a__b 10.0.0.2>", "replace c 10.0.0.2>"}, "", errAny},
		{"[Error] a refused move keeps the server in the pool", []string{"replace-server", "10.0.0.2", "10.0.0.4"}, vols, errors.New("refused"),
			[]string{"replace a__b 10.0.0.2>10.0.0.4", "replace c 10.0.0.2>10.0.0.4"}, "", errAny},
		{"[Error] unknown volume", []string{"heal", "nope"}, vols, nil, nil, "", errAny},
		{"[Success] retained lists only retained volumes", []string{"retained"}, retention, nil, nil, "kept    kept           2026-12-03T11:00:00Z", nil},
		{"[Success] purge a retained volume", []string{"purge", "kept"}, retention, nil, []string{"purge kept"}, "kept: purged", nil},
		{"[Error] purge goes on past a volume that is not retained", []string{"purge", "c", "kept", "kept"}, retention, nil,
			[]string{"purge c", "purge kept"}, "c: not purged", errAny},
		{"[Error] purge without a name", []string{"purge"}, retention, nil, nil, "", errUsage},
		{"[Success] revoke a certificate, naming the servers not reached", []string{"revoke", "1f"}, nil, nil, []string{"revoke 1f"}, "not reached: 10.0.0.2", nil},
		{"[Error] ca on a server without TLS", []string{"ca"}, nil, nil, nil, "", errAny},
		{"[Error] revoke without a serial", []string{"revoke"}, nil, nil, nil, "", errUsage},
		{"[Error] no command", nil, nil, nil, nil, "", errUsage},
		{"[Error] unknown command", []string{"format-disk", "x"}, nil, nil, nil, "", errUsage},
		{"[Error] replica count not a number", []string{"replica", "c", "three"}, vols, nil, nil, "", errUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAdminAPI{vols: tc.vols, refuse: tc.refuse}
			var out strings.Builder
			a := admin{api: api, out: &out}
			err := a.run(context.Background(), tc.args)
			switch {
			case tc.err == nil && err != nil, tc.err != nil && err == nil:
				t.Fatalf("err = %v, want %v", err, tc.err)
			case tc.err == errUsage && !errors.Is(err, errUsage):
				t.Fatalf("err = %v, want a usage error", err)
			}
			if !slices.Equal(api.calls, tc.calls) {
				t.Errorf("calls %q, want %q", api.calls, tc.calls)
			}
			if !strings.Contains(out.String(), tc.output) {
				t.Errorf("output %q, want a line with %q", out.String(), tc.output)
			}
		})
	}
}

// errAny stands for any error in TestAdmin's table.
var errAny = errors.New("any error")

func TestAdminRebalanceEnds(t *testing.T) {
	tests := []struct {
		name   string
		failed string
		output string
		err    bool
	}{
		{"[Error] failed", "failed", "", true},
		{"[Error] stopped", "stopped", "", true},
		{"[Success] none ran", "not started", "c: gluster knows of no rebalance of it", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAdminAPI{vols: []control.Volume{labelled("c", "10.0.0.1", "10.0.0.2")}, failed: tc.failed}
			var out strings.Builder
			a := admin{api: api, out: &out, wait: true}
			err := a.followRebalance(context.Background(), "c")
			if (err != nil) != tc.err || (err != nil && !strings.Contains(err.Error(), "c-rebalance.log")) {
				t.Errorf("err = %v, want an error naming the rebalance log: %t", err, tc.err)
			}
			if !strings.Contains(out.String(), tc.output) {
				t.Errorf("output %q, want %q", out.String(), tc.output)
			}
		})
	}
}

// TestAdminProgressShownOnChange: a heal or rebalance that reports the same
// progress poll after poll shows it once.
func TestAdminProgressShownOnChange(t *testing.T) {
	api := &fakeAdminAPI{vols: []control.Volume{labelled("c", "10.0.0.1", "10.0.0.2")}, stalled: 3}
	var out strings.Builder
	a := admin{api: api, out: &out, wait: true}
	ctx := context.Background()
	if err := a.followHeals(ctx, []string{"c"}); err != nil {
		t.Fatal(err)
	}
	if err := a.followRebalance(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	want := "c: healing, 7 entries to heal: 10.0.0.1:/bricks/c 7\n" +
		"c: healed\n" +
		"c: rebalancing, 5 files moved (5MiB), 0 looked at, 0 failures, 0 skipped in 0 s: 10.0.0.1 in progress (5 files)\n" +
		"c: rebalanced, 9 files moved (0B), 0 looked at, 0 failures, 0 skipped in 0 s: 10.0.0.1 completed (5 files)\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if n := strings.Count(strings.Join(api.calls, ","), "rebalance c"); n != 5 {
		t.Errorf("%d rebalance polls, want 5: %v", n, api.calls)
	}
}

func TestAdminWaitHealedGivesUp(t *testing.T) {
	api := &fakeAdminAPI{vols: []control.Volume{labelled("c", "10.0.0.1", "10.0.0.2")}, stalled: 1 << 30}
	var out strings.Builder
	a := admin{api: api, out: &out, poll: time.Millisecond}
	err := a.run(t.Context(), []string{"wait-healed", "-timeout", "50ms", "c"})
	if err == nil || !strings.Contains(err.Error(), "not healed within 50ms") {
		t.Errorf("err = %v, want not healed within 50ms", err)
	}
	if !strings.Contains(out.String(), "c: healing, 7 entries") {
		t.Errorf("output %q, want the heal's progress", out.String())
	}
}

func TestAdminHealth(t *testing.T) {
	here, elsewhere := labelled("here", "10.0.0.1", "10.0.0.2"), labelled("elsewhere", "10.0.0.2", "10.0.0.3")
	stopped := labelled("stopped", "10.0.0.1", "10.0.0.2")
	for _, v := range []*control.Volume{&here, &elsewhere} {
		v.Status, v.Replica = "Started", 2
	}
	stopped.Replica = 2
	tests := []struct {
		name    string
		stalled int // heal queries that answer pending entries first
		calls   []string
		healthy bool
	}{
		{"[Success] healed", -1, []string{"heal here"}, true},
		{"[Error] entries to heal", 0, []string{"heal here"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAdminAPI{vols: []control.Volume{here, elsewhere, stopped}, stalled: tc.stalled}
			var out strings.Builder
			a := admin{api: api, out: &out, self: "10.0.0.1"}
			err := a.run(t.Context(), []string{"health"})
			if (err == nil) != tc.healthy {
				t.Errorf("health = %v, want healthy %t", err, tc.healthy)
			}
			if err != nil && !strings.Contains(err.Error(), "here: 7 entries to heal") {
				t.Errorf("health = %v, want the volume and its entries named", err)
			}
			if !slices.Equal(api.calls, tc.calls) {
				t.Errorf("calls %q, want %q: only started replicated volumes with a brick here", api.calls, tc.calls)
			}
		})
	}
}
