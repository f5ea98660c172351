package control

import (
	"slices"
	"testing"

	"github.com/glusterdocker/gluster/glustercli"
)

func TestClientHosts(t *testing.T) {
	heal := []glustercli.Daemon{{Host: "localhost", Online: true}, {Host: "10.0.0.2", Online: true}}
	tests := []struct {
		name   string
		status glustercli.Status
		want   []string
	}{
		{"[Success] only self-heal daemons", glustercli.Status{
			SelfHeal: heal,
			Bricks: []glustercli.BrickStatus{
				{Clients: []string{"10.0.0.1:49149", "10.0.0.2:49149"}},
				{Clients: []string{"10.0.0.2:49146"}},
			},
		}, nil},
		{"[Success] a client on a server host", glustercli.Status{
			SelfHeal: heal,
			Bricks:   []glustercli.BrickStatus{{Clients: []string{"10.0.0.1:49149", "10.0.0.1:49150", "10.0.0.2:49149"}}},
		}, []string{"10.0.0.1"}},
		{"[Success] clients elsewhere", glustercli.Status{
			SelfHeal: heal,
			Bricks: []glustercli.BrickStatus{
				{Clients: []string{"192.0.2.9:1000", "10.0.0.1:49149"}},
				{Clients: []string{"192.0.2.8:1000"}},
			},
		}, []string{"192.0.2.8", "192.0.2.9"}},
		{"[Success] offline healer counts as client", glustercli.Status{
			SelfHeal: []glustercli.Daemon{{Host: "localhost", Online: false}},
			Bricks:   []glustercli.BrickStatus{{Clients: []string{"10.0.0.1:49149"}}},
		}, []string{"10.0.0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := clientHosts(tc.status, "10.0.0.1"); !slices.Equal(got, tc.want) {
				t.Errorf("clientHosts() = %v, want %v", got, tc.want)
			}
		})
	}
}
