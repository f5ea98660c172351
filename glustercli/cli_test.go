package glustercli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// scripted answers each command with the fixture named for its arguments.
type scripted struct {
	t       *testing.T
	answers map[string][]string // "volume info" -> fixtures, consumed in order
	calls   []string
}

func (s *scripted) exec(_ context.Context, name string, args ...string) ([]byte, error) {
	if name != "gluster" || len(args) < 3 || args[1] != "--mode=script" || args[2] != "--xml" {
		s.t.Fatalf("unexpected command %s %v", name, args)
	}
	key := strings.Join(args[3:], " ")
	s.calls = append(s.calls, key)
	fixtures := s.answers[key]
	if len(fixtures) == 0 {
		s.t.Fatalf("no answer for %q", key)
	}
	next := fixtures[0]
	if len(fixtures) > 1 {
		s.answers[key] = fixtures[1:]
	}
	return os.ReadFile("testdata/" + next)
}

func newScripted(t *testing.T, answers map[string][]string) (*CLI, *scripted) {
	s := &scripted{t: t, answers: answers}
	return New(DefaultSocket, s.exec, time.Second, discard), s
}

func TestVolume(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{
		"volume info gv0":  {"info.xml"},
		"volume info nope": {"info-missing.xml"},
	})
	got, err := cli.Volume(context.Background(), "gv0")
	if err != nil {
		t.Fatal(err)
	}
	want := Volume{
		Name: "gv0", ID: "e7822b6b-69d3-4499-a2b7-484e81bfbb2b", Status: "Started", Type: "Replicate",
		Replica: 2,
		Bricks: []Brick{
			{Host: "172.30.77.11", Path: "/bricks/gv0"},
			{Host: "172.30.77.12", Path: "/bricks/gv0"},
		},
	}
	if got.Options["performance.cache-size"] != "64MB" || len(got.Options) != 6 {
		t.Errorf("options = %v", got.Options)
	}
	got.Options = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Volume() =\n%+v\nwant\n%+v", got, want)
	}
	if _, err := cli.Volume(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing volume: err = %v, want ErrNotFound", err)
	}
}

func TestVolumeAbsentFromStore(t *testing.T) {
	store := t.TempDir()
	if err := os.MkdirAll(filepath.Join(store, "vols", "gv0"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		store   string
		volume  string
		askCLI  bool // the store cannot tell: gluster volume info answers
		present bool
	}{
		{name: "listed in the store", store: store, volume: "gv0", askCLI: true, present: true},
		{name: "absent from the store", store: store, volume: "nope"},
		{name: "no store", volume: "nope", askCLI: true},
		{name: "a store without vols/", store: t.TempDir(), volume: "nope", askCLI: true},
		{name: "a name that is not a file name", store: store, volume: "..", askCLI: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli, s := newScripted(t, map[string][]string{
				"volume info gv0":  {"info.xml"},
				"volume info nope": {"info-missing.xml"},
				"volume info ..":   {"info-missing.xml"},
			})
			cli.WithStore(tc.store)
			_, err := cli.Volume(context.Background(), tc.volume)
			if tc.present != (err == nil) || (err != nil && !errors.Is(err, ErrNotFound)) {
				t.Errorf("Volume(%q) = %v; want found %v", tc.volume, err, tc.present)
			}
			if asked := len(s.calls) > 0; asked != tc.askCLI {
				t.Errorf("gluster CLI asked: %v (%v); want %v", asked, s.calls, tc.askCLI)
			}
		})
	}
}

func TestVolumesEmpty(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{"volume info": {"info-empty.xml"}})
	vols, err := cli.Volumes(context.Background())
	if err != nil || len(vols) != 0 {
		t.Fatalf("Volumes() = %v, %v; want none", vols, err)
	}
}

func TestPeers(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{"pool list": {"pool.xml"}})
	got, err := cli.Peers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Peer{
		{UUID: "b3e92ec0-cc64-48d2-9876-65f4a7db00aa", Hostname: "172.30.77.12", Hostnames: []string{"172.30.77.12"}, Connected: true, State: "Peer in Cluster"},
		{UUID: "55567e3a-037c-4548-8fe1-b0cccef1117d", Hostname: "localhost", Connected: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Peers() = %+v, want %+v", got, want)
	}
}

func TestHealSummary(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    []BrickHeal
		err     error
	}{
		{"[Success] healed", "heal-summary.xml", []BrickHeal{
			{Brick: "172.30.120.11:/bricks/fx", Connected: true},
			{Brick: "172.30.120.12:/bricks/fx", Connected: true},
		}, nil},
		{"[Success] writes while a brick was down", "heal-summary-brick-down.xml", []BrickHeal{
			{Brick: "172.30.120.11:/bricks/fx", Connected: true, Pending: 5},
			{Brick: "172.30.120.12:/bricks/fx"},
		}, nil},
		{"[Error] missing volume", "heal-summary-missing.xml", nil, ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli, _ := newScripted(t, map[string][]string{"volume heal fx info summary": {tc.fixture}})
			got, err := cli.HealSummary(context.Background(), "fx")
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("HealSummary() error = %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("HealSummary() =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestHealSummaryRefusesBadCounts(t *testing.T) {
	answer := []byte(`<cliOutput><healInfo><bricks><brick><name>h:/b</name><status>Connected</status>` +
		`<numberOfEntriesInHealPending>-</numberOfEntriesInHealPending></brick></bricks></healInfo><opRet>0</opRet></cliOutput>`)
	exec := func(context.Context, string, ...string) ([]byte, error) { return answer, nil }
	_, err := New(DefaultSocket, exec, 0, discard).HealSummary(context.Background(), "v")
	if err == nil || !strings.Contains(err.Error(), "h:/b") {
		t.Errorf("HealSummary() error = %v, want one naming the brick", err)
	}
}

func TestStatus(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{
		"volume status gv0 clients": {"status-clients.xml"},
		"volume status gv0":         {"status.xml"},
	})
	got, err := cli.Status(context.Background(), "gv0")
	if err != nil {
		t.Fatal(err)
	}
	want := Status{
		Volume: "gv0",
		Bricks: []BrickStatus{
			{Host: "172.30.77.11", Path: "/bricks/gv0", Online: true, Port: 59029, PID: 201, Clients: []string{"172.30.77.11:49149", "172.30.77.12:49149"}},
			{Host: "172.30.77.12", Path: "/bricks/gv0", Online: true, Port: 60218, PID: 41, Clients: []string{"172.30.77.12:49146"}},
		},
		SelfHeal: []Daemon{{Host: "localhost", Online: true, PID: 218}, {Host: "172.30.77.12", Online: true, PID: 58}},
	}
	// status.xml also lists bricks; Status keeps the ones with clients.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Status() =\n%+v\nwant\n%+v", got, want)
	}
}

// TestStatusLostSelfHealDaemon reads a server's self-heal daemon that
// glusterd reports offline while it is connected to both bricks (its pid
// file names a daemon that failed to start after it): captured on the
// server that was not restarted.
func TestStatusLostSelfHealDaemon(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{
		"volume status survivor clients": {"status-clients-lost.xml"},
		"volume status survivor":         {"status-shd-lost.xml"},
	})
	got, err := cli.Status(context.Background(), "survivor")
	if err != nil {
		t.Fatal(err)
	}
	wantHeal := []Daemon{{Host: "localhost", Online: true, PID: 416}, {Host: "172.30.130.12", Online: false, PID: -1}}
	if !reflect.DeepEqual(got.SelfHeal, wantHeal) {
		t.Errorf("SelfHeal = %+v, want %+v", got.SelfHeal, wantHeal)
	}
	for _, b := range got.Bricks {
		if !slices.ContainsFunc(b.Clients, func(c string) bool { return strings.HasPrefix(c, "172.30.130.12:") }) {
			t.Errorf("brick %s:%s clients %v, want a connection from 172.30.130.12", b.Host, b.Path, b.Clients)
		}
	}
}

// TestStatusQuotaDaemons reads a volume with quota on: each server's quota
// daemon is a client of every brick, and its row is no brick (captured on
// GlusterFS 10.3 after limit-usage).
func TestStatusQuotaDaemons(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{
		"volume status pv clients": {"status-quota.xml"},
		"volume status pv":         {"status-quota.xml"},
	})
	got, err := cli.Status(context.Background(), "pv")
	if err != nil {
		t.Fatal(err)
	}
	wantQuota := []Daemon{{Host: "localhost", Online: true, PID: 206}, {Host: "172.30.224.12", Online: true, PID: 167}}
	if !reflect.DeepEqual(got.Quota, wantQuota) {
		t.Errorf("Quota = %+v, want %+v", got.Quota, wantQuota)
	}
	if len(got.Bricks) != 2 || len(got.SelfHeal) != 2 {
		t.Errorf("Status() = %+v, want two bricks and two self-heal daemons", got)
	}
}

func TestStatusAll(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{"volume status all": {"status-all.xml"}})
	got, err := cli.StatusAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// fy is stopped: only the started fx is listed.
	if len(got) != 1 || got[0].Volume != "fx" || len(got[0].Bricks) != 2 || len(got[0].SelfHeal) != 2 {
		t.Fatalf("StatusAll() = %+v, want fx with two bricks and two self-heal daemons", got)
	}
	for _, b := range got[0].Bricks {
		if !b.Online || b.Path != "/bricks/fx" {
			t.Errorf("brick %+v, want online at /bricks/fx", b)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		call    func(*CLI) error
		want    error
	}{
		{"[Error] create existing", "create-exists.xml", func(c *CLI) error {
			return c.Create(context.Background(), CreateArgs{Name: "gv0", Replica: 2, Bricks: []Brick{{"a", "/b/gv0", false}, {"b", "/b/gv0", false}}})
		}, ErrExists},
		{"[Error] status of stopped volume", "status-notstarted.xml", func(c *CLI) error {
			_, err := c.Status(context.Background(), "gv0")
			return err
		}, ErrStopped},
		{"[Error] probe unreachable", "probe-fail.xml", func(c *CLI) error {
			return c.Probe(context.Background(), "172.30.77.99")
		}, nil},
		{"[Error] probe of a server in another pool", "probe-other-pool.xml", func(c *CLI) error {
			return c.Probe(context.Background(), "172.30.239.12")
		}, ErrOtherPool},
		{"[Error] bad option", "set-bad.xml", func(c *CLI) error {
			return c.Set(context.Background(), "gv0", map[string]string{"bogus.key": "1"})
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fixed := func(_ context.Context, _ string, _ ...string) ([]byte, error) {
				return os.ReadFile("testdata/" + tc.fixture)
			}
			err := tc.call(New(DefaultSocket, fixed, 0, discard))
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.Message == "" {
				t.Fatalf("err = %v, want a *Error with gluster's message", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestIdempotentStartStop(t *testing.T) {
	cli, _ := newScripted(t, map[string][]string{
		"volume start gv0": {"start-again.xml"},
		"volume stop gv0":  {"status-notstarted.xml"},
	})
	if err := cli.Start(context.Background(), "gv0"); err != nil {
		t.Errorf("Start of a started volume: %v", err)
	}
	if err := cli.Stop(context.Background(), "gv0"); err != nil {
		t.Errorf("Stop of a stopped volume: %v", err)
	}
}

func TestStartForce(t *testing.T) {
	cli, s := newScripted(t, map[string][]string{"volume start survivor force": {"start-force.xml"}})
	if err := cli.StartForce(context.Background(), "survivor"); err != nil {
		t.Fatal(err)
	}
	if len(s.calls) != 1 {
		t.Errorf("ran %q, want one call", s.calls)
	}
}

func TestCreateArguments(t *testing.T) {
	bricks := []Brick{{Host: "a", Path: "/b/v"}, {Host: "b", Path: "/b/v"}, {Host: "c", Path: "/b/v"}}
	tests := []struct {
		name string
		args CreateArgs
		want string
	}{
		{"[Success] replica 3", CreateArgs{Name: "v", Replica: 3, Bricks: bricks}, "volume create v replica 3 a:/b/v b:/b/v c:/b/v force"},
		{"[Success] arbiter", CreateArgs{Name: "v", Replica: 3, Arbiter: true, Bricks: bricks}, "volume create v replica 2 arbiter 1 a:/b/v b:/b/v c:/b/v force"},
		{"[Success] single brick", CreateArgs{Name: "v", Replica: 1, Bricks: bricks[:1]}, "volume create v a:/b/v force"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli, s := newScripted(t, map[string][]string{tc.want: {"probe.xml"}})
			if err := cli.Create(context.Background(), tc.args); err != nil {
				t.Fatal(err)
			}
			if s.calls[0] != tc.want {
				t.Errorf("ran %q, want %q", s.calls[0], tc.want)
			}
		})
	}
}

func TestSetArguments(t *testing.T) {
	want := "volume set v network.ping-timeout 10 user.created-at 2026-11-22T08:00:00Z user.docker-volume app"
	cli, s := newScripted(t, map[string][]string{want: {"probe.xml"}})
	err := cli.Set(context.Background(), "v", map[string]string{
		"user.docker-volume": "app", "network.ping-timeout": "10", "user.created-at": "2026-11-22T08:00:00Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.calls) != 1 || s.calls[0] != want {
		t.Errorf("ran %q, want one call %q", s.calls, want)
	}
}

func TestErrorIs(t *testing.T) {
	sentinels := []error{ErrNotFound, ErrExists, ErrBusy, ErrPeerBehind, ErrStarted, ErrStopped, ErrRebalancing, ErrNoRebalance}
	tests := []struct {
		message string
		want    error
	}{
		{"Volume gv0 does not exist", ErrNotFound},
		{"Volume gv0 already exists", ErrExists},
		{"Another transaction is in progress for gv0. Please try again after some time.", ErrBusy},
		{"Locking failed on 172.30.0.12. Please check log file for details.", ErrBusy},
		{"Staging failed on srv1.net. Error: Volume gv0 does not exist", ErrPeerBehind},
		{"Volume gv0 already started", ErrStarted},
		{"Volume gv0 is not started", ErrStopped},
		{"Rebalance on gv0 is already started", ErrStarted},
		{"Volume name gv0 rebalance is in progress. Please retry after completion", ErrRebalancing},
		{"Rebalance not started for volume gv0.", ErrNoRebalance},
		{"Some of the peers are down", nil},
	}
	for _, tc := range tests {
		t.Run(tc.message, func(t *testing.T) {
			err := &Error{Args: []string{"volume", "x"}, Message: tc.message}
			for _, sentinel := range sentinels {
				if got := errors.Is(err, sentinel); got != (sentinel == tc.want) {
					t.Errorf("errors.Is(%q, %v) = %v", tc.message, sentinel, got)
				}
			}
		})
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		want   error
	}{
		{"busy", "Another transaction is in progress for gv0. Please try again after some time.", ErrBusy},
		{"peer behind", "Staging failed on srv1.net. Error: Volume gv0 does not exist", ErrPeerBehind},
	}
	ok, err := os.ReadFile("testdata/probe.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			failed := []byte(`<cliOutput><opRet>-1</opRet><opErrno>30800</opErrno><opErrstr>` + tc.answer + `</opErrstr></cliOutput>`)
			calls := 0
			exec := func(_ context.Context, _ string, _ ...string) ([]byte, error) {
				calls++
				if calls < 3 {
					return failed, nil
				}
				return ok, nil
			}
			if err := New(DefaultSocket, exec, 5*time.Second, discard).Start(context.Background(), "gv0"); err != nil {
				t.Fatalf("Start: %v", err)
			}
			if calls != 3 {
				t.Errorf("calls = %d, want 3", calls)
			}
			calls = -100
			err := New(DefaultSocket, exec, 0, discard).Start(context.Background(), "gv0")
			if !errors.Is(err, tc.want) {
				t.Errorf("without retry budget: err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestArgumentsStartingWithDashAreRefused(t *testing.T) {
	tests := []struct {
		name string
		run  func(*CLI) error
	}{
		{"[Error] option value", func(c *CLI) error {
			return c.Set(context.Background(), "v", map[string]string{"performance.cache-size": "--log-file=/var/lib/glusterd/x"})
		}},
		{"[Error] option key", func(c *CLI) error {
			return c.Set(context.Background(), "v", map[string]string{"--log-file=/x": "1"})
		}},
		{"[Error] single dash", func(c *CLI) error {
			return c.Set(context.Background(), "v", map[string]string{"performance.cache-size": "-1"})
		}},
		{"[Error] volume name", func(c *CLI) error { return c.Start(context.Background(), "--glusterd-sock=/tmp/x") }},
		{"[Error] brick", func(c *CLI) error {
			return c.Create(context.Background(), CreateArgs{Name: "v", Replica: 1, Bricks: []Brick{{Host: "--log-file=/x", Path: "/b"}}})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli, s := newScripted(t, nil)
			if err := tc.run(cli); !errors.Is(err, ErrUnsafeArgument) {
				t.Errorf("err = %v, want ErrUnsafeArgument", err)
			}
			if len(s.calls) != 0 {
				t.Errorf("gluster ran: %v", s.calls)
			}
		})
	}
}
