package selfheal

import (
	"slices"
	"testing"

	"github.com/glusterdocker/gluster/glustercli"
)

// replicated is a started replica 2 volume with bricks on hosts.
func replicated(name string, hosts ...string) glustercli.Volume {
	v := glustercli.Volume{Name: name, Status: "Started", Replica: len(hosts), Options: map[string]string{}}
	for _, h := range hosts {
		v.Bricks = append(v.Bricks, glustercli.Brick{Host: h, Path: "/bricks/" + name})
	}
	return v
}

func TestRepairerStartsMissingDaemons(t *testing.T) {
	stopped := replicated("stopped", "10.0.0.1", "10.0.0.2")
	stopped.Status = "Stopped"
	healOff := replicated("heal-off", "10.0.0.1", "10.0.0.2")
	healOff.Options["cluster.self-heal-daemon"] = "off"
	tests := []struct {
		name    string
		volumes []glustercli.Volume
		// setUp prepares the processes before the first check; between,
		// if set, changes them before the second.
		setUp, between func(f *fakeProcs)
		wantForced     []string
	}{
		{"[Success] every volume given to the daemon", []glustercli.Volume{replicated("a", "10.0.0.1", "10.0.0.2"), replicated("b", "10.0.0.2", "10.0.0.1")}, func(f *fakeProcs) {
			f.shd(94, 1000, "a")
			f.writePID("a", 94)
			f.writePID("b", 94)
		}, nil, nil},
		{"[Success] a volume without a pid file gets its daemon", []glustercli.Volume{replicated("a", "10.0.0.1", "10.0.0.2"), replicated("b", "10.0.0.1", "10.0.0.2")}, func(f *fakeProcs) {
			// As seen on GlusterFS 10.3: shd/b/ exists, empty.
			f.shd(94, 1000, "a")
			f.writePID("a", 94)
		}, nil, []string{"b"}},
		{"[Success] a pid file naming an exited daemon gets a new one", []glustercli.Volume{replicated("a", "10.0.0.1", "10.0.0.2")}, func(f *fakeProcs) {
			f.writePID("a", 94)
		}, nil, []string{"a"}},
		{"[Success] a pid file naming another process gets a daemon", []glustercli.Volume{replicated("a", "10.0.0.1", "10.0.0.2")}, func(f *fakeProcs) {
			f.start(94, 1000, "/usr/sbin/glusterfsd", "--process-name", "brick")
			f.writePID("a", 94)
		}, nil, []string{"a"}},
		{"[Success] a daemon glusterd starts meanwhile is not started twice", []glustercli.Volume{replicated("a", "10.0.0.1", "10.0.0.2")}, func(*fakeProcs) {}, func(f *fakeProcs) {
			f.shd(94, 1000, "a")
			f.writePID("a", 94)
		}, nil},
		{"[Success] volumes without a daemon here are left alone", []glustercli.Volume{stopped, healOff, replicated("elsewhere", "10.0.0.2", "10.0.0.3"), replicated("single", "10.0.0.1")}, func(*fakeProcs) {}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &fakeGluster{volumes: tc.volumes}
			killed := checkTwice(t, g, tc.setUp, tc.between)
			if !slices.Equal(g.forced, tc.wantForced) || len(killed) > 0 {
				t.Errorf("started %v and killed %v, want %v and none", g.forced, killed, tc.wantForced)
			}
		})
	}
}
