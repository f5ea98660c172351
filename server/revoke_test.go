package main

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/pki"
)

func TestRevoke(t *testing.T) {
	s := newServerIdentity(t, "10.0.0.1", time.Now())
	first, err := s.revoke(big.NewInt(0x1f))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.revoke(big.NewInt(0x1f))
	if err != nil || string(again) != string(first) {
		t.Errorf("revoking the same serial again changed the list (%v)", err)
	}
	second, err := s.revoke(big.NewInt(0x2e))
	if err != nil {
		t.Fatal(err)
	}
	list, err := pki.ParseRevocationList(second, s.id.CA)
	if err != nil {
		t.Fatal(err)
	}
	var serials []string
	for _, e := range list.RevokedCertificateEntries {
		serials = append(serials, e.SerialNumber.Text(16))
	}
	slices.Sort(serials)
	if !slices.Equal(serials, []string{"1f", "2e"}) || list.Number.Int64() != 3 {
		t.Errorf("list revokes %v with number %d, want [1f 2e] and 3", serials, list.Number)
	}
	kept, err := s.store.Load()
	if err != nil || string(kept.CRLPEM) != string(second) {
		t.Errorf("the store holds another list (%v)", err)
	}
}

func TestAdoptCRL(t *testing.T) {
	s := newServerIdentity(t, "10.0.0.1", time.Now())
	peer := newServerIdentity(t, "10.0.0.2", time.Now())
	ca, err := pki.LoadAuthority(s.id.CAPEM, s.id.CAKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	list := func(number int64) []byte {
		crl, err := ca.RevocationList([]*big.Int{big.NewInt(number)}, number, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return crl
	}
	otherCA, err := pki.LoadAuthority(peer.id.CAPEM, peer.id.CAKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := otherCA.RevocationList(nil, 9, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		crl   []byte
		newer bool
		err   bool
	}{
		{"[Success] a newer list is taken", list(5), true, false},
		{"[Success] the same number again is not", list(5), false, false},
		{"[Success] an older list is not", list(3), false, false},
		{"[Error] another CA's list is refused", foreign, false, true},
		{"[Error] no list at all is refused", []byte("nonsense"), false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			newer, err := s.adoptCRL(tc.crl)
			if newer != tc.newer || (err != nil) != tc.err {
				t.Errorf("adoptCRL = %t, %v; want %t, error %t", newer, err, tc.newer, tc.err)
			}
		})
	}
	if got, _ := pki.ParseRevocationList(s.CRL(), s.id.CA); got == nil || got.Number.Int64() != 5 {
		t.Errorf("the server keeps list %v, want number 5", got)
	}
}

// fakeBricks is glusterd as a brick restart sees it: processes that stop
// when killed and come back under new pids once glusterd noticed.
type fakeBricks struct {
	vols    []glustercli.Volume
	pids    map[string]int // volume -> this server's brick process
	stopped map[int]bool
	noticed bool // glusterd saw the stopped processes go
	started []string
	nextPID int
}

func (f *fakeBricks) Volumes(context.Context) ([]glustercli.Volume, error) { return f.vols, nil }

func (f *fakeBricks) StatusAll(context.Context) ([]glustercli.Status, error) {
	var out []glustercli.Status
	for _, v := range f.vols {
		if !v.Started() {
			continue
		}
		pid := f.pids[v.Name]
		out = append(out, glustercli.Status{Volume: v.Name, Bricks: []glustercli.BrickStatus{
			{Host: "10.0.0.1", Online: !f.stopped[pid] || !f.noticed, PID: pid},
			{Host: "10.0.0.2", Online: true, PID: 7},
		}})
	}
	return out, nil
}

// StartForce starts the stopped bricks of name, but only from the second
// call on: the first finds them still running, as glusterd can before it
// saw their connection close.
func (f *fakeBricks) StartForce(_ context.Context, name string) error {
	f.started = append(f.started, name)
	if !f.noticed {
		f.noticed = true
		return nil
	}
	if pid := f.pids[name]; f.stopped[pid] {
		f.nextPID++
		f.pids[name] = f.nextPID
	}
	return nil
}

func TestBrickRestart(t *testing.T) {
	tlsVolume := glustercli.Volume{Name: "a", Status: "Started", Options: map[string]string{"server.ssl": "on"}}
	plain := glustercli.Volume{Name: "b", Status: "Started", Options: map[string]string{}}
	stopped := glustercli.Volume{Name: "c", Status: "Stopped", Options: map[string]string{"server.ssl": "on"}}
	f := &fakeBricks{vols: []glustercli.Volume{tlsVolume, plain, stopped}, pids: map[string]int{"a": 100, "b": 200}, stopped: map[int]bool{}, nextPID: 300}
	var killed []int
	r := &brickRestarter{gluster: f, address: "10.0.0.1", logger: discardLogs,
		kill:    func(pid int) error { killed = append(killed, pid); f.stopped[pid] = true; return nil },
		running: func(pid int) bool { return !f.stopped[pid] },
	}
	if err := r.restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(killed, []int{100}) {
		t.Errorf("stopped brick processes %v, want only the TLS volume's on this server, [100]", killed)
	}
	if f.pids["a"] == 100 || !slices.Equal(f.started, []string{"a", "a"}) {
		t.Errorf("volume a runs pid %d after starts %v; want a new process, started again once glusterd noticed", f.pids["a"], f.started)
	}
}

func TestNotRestarted(t *testing.T) {
	statuses := []glustercli.Status{
		{Volume: "up", Bricks: []glustercli.BrickStatus{{Host: "10.0.0.1", Online: true, PID: 5}, {Host: "10.0.0.2", Online: false}}},
		{Volume: "old", Bricks: []glustercli.BrickStatus{{Host: "10.0.0.1", Online: true, PID: 4}}},
		{Volume: "down", Bricks: []glustercli.BrickStatus{{Host: "10.0.0.1", Online: false}}},
	}
	got := notRestarted(statuses, []string{"up", "old", "down", "missing"}, "10.0.0.1", []int{4})
	if !slices.Equal(got, []string{"old", "down", "missing"}) {
		t.Errorf("notRestarted = %v, want [old down missing]", got)
	}
}

// TestRevokeRestartsEveryServersBricks: the revoking server restarts its own
// bricks, whose list it has just written, and hands the list to the others.
func TestRevokeRestartsEveryServersBricks(t *testing.T) {
	s := newServerIdentity(t, "10.0.0.1", time.Now())
	f := &fakeBricks{
		vols:    []glustercli.Volume{{Name: "a", Status: "Started", Options: map[string]string{"server.ssl": "on"}}},
		pids:    map[string]int{"a": 100},
		stopped: map[int]bool{},
		nextPID: 300,
	}
	var killed []int
	bricks := &brickRestarter{gluster: f, address: "10.0.0.1", logger: discardLogs,
		kill:    func(pid int) error { killed = append(killed, pid); f.stopped[pid] = true; return nil },
		running: func(pid int) bool { return !f.stopped[pid] },
	}
	var pushed []string
	r := &revoker{ident: s, gluster: f, bricks: bricks, logger: discardLogs,
		peers: func(context.Context) ([]control.Peer, error) {
			return []control.Peer{{Address: "10.0.0.1"}, {Address: "10.0.0.2"}, {Address: "10.0.0.3"}}, nil
		},
		client: func(peer string) *control.Client {
			pushed = append(pushed, peer)
			return control.NewClient("127.0.0.1", 1, "token", nil) // nothing listens: the peer is down
		},
	}
	got, err := r.Revoke(context.Background(), "1f")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(killed, []int{100}) {
		t.Errorf("stopped brick processes %v, want this server's [100]", killed)
	}
	if !slices.Equal(pushed, []string{"10.0.0.2", "10.0.0.3"}) || !slices.Equal(got.Missed, []string{"10.0.0.2", "10.0.0.3"}) || !slices.Equal(got.Servers, []string{"10.0.0.1"}) {
		t.Errorf("handed the list to %v, answer %+v; want the two peers tried and reported missed", pushed, got)
	}
	if _, err := r.Revoke(context.Background(), "not-hex"); err == nil {
		t.Error("a serial that is not hex was taken")
	}
}
