package control

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/glusterdocker/gluster/names"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

const token = "s3cret"

type testServer struct {
	gluster *fakeGluster
	removed []string // "server/volume" of remote brick removals
	client  *Client
	url     string
}

func newTestServer(t *testing.T, peers ...string) *testServer {
	t.Helper()
	ts := &testServer{gluster: newFakeGluster(peers...)}
	remove := func(_ context.Context, server, volume string) error {
		ts.removed = append(ts.removed, server+"/"+volume)
		return nil
	}
	svc := NewService(peers[0], t.TempDir(), ts.gluster, remove, discard)
	srv := httptest.NewServer(NewHandler(svc, token, discard))
	t.Cleanup(srv.Close)
	ts.url = srv.URL
	host, port := splitURL(t, srv.URL)
	ts.client = NewClient(host, port, token, srv.Client())
	return ts
}

func splitURL(t *testing.T, u string) (string, int) {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(parsed.Port())
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Hostname(), port
}

func TestTokenRequired(t *testing.T) {
	ts := newTestServer(t, "10.0.0.1", "10.0.0.2")
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", token} {
		req, _ := http.NewRequest(http.MethodPost, ts.url+"/v1/volumes", strings.NewReader(`{"name":"v"}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}
	if len(ts.gluster.calls) != 0 {
		t.Errorf("unauthenticated requests reached gluster: %v", ts.gluster.calls)
	}
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		peers   []string
		req     CreateRequest
		bricks  []string // servers of the bricks made
		arbiter bool
		err     error
	}{
		{"[Success] default replica is the server count", []string{"10.0.0.1", "10.0.0.2"}, CreateRequest{Name: "v"}, []string{"10.0.0.1", "10.0.0.2"}, false, nil},
		{"[Success] default replica is at most 3", []string{"a1", "a2", "a3", "a4"}, CreateRequest{Name: "v"}, []string{"a1", "a2", "a3"}, false, nil},
		{"[Success] servers restrict placement", []string{"a1", "a2", "a3"}, CreateRequest{Name: "v", Replica: 2, Servers: []string{"a3", "a2"}}, []string{"a2", "a3"}, false, nil},
		{"[Success] arbiter", []string{"a1", "a2", "a3"}, CreateRequest{Name: "v", Replica: 3, Arbiter: true}, []string{"a1", "a2", "a3"}, true, nil},
		{"[Success] options", []string{"a1", "a2"}, CreateRequest{Name: "v", Options: map[string]string{"performance.cache-size": "64MB"}}, []string{"a1", "a2"}, false, nil},
		{"[Error] dot in name", []string{"a1"}, CreateRequest{Name: "a.b"}, nil, false, ErrInvalid},
		{"[Error] path in name", []string{"a1"}, CreateRequest{Name: "../x"}, nil, false, ErrInvalid},
		{"[Error] reserved name", []string{"a1"}, CreateRequest{Name: "all"}, nil, false, ErrInvalid},
		{"[Error] long name", []string{"a1"}, CreateRequest{Name: strings.Repeat("x", 300)}, nil, false, ErrInvalid},
		{"[Error] leading dash", []string{"a1"}, CreateRequest{Name: "-x"}, nil, false, ErrInvalid},
		{"[Error] negative replica", []string{"a1"}, CreateRequest{Name: "v", Replica: -1}, nil, false, ErrInvalid},
		{"[Error] arbiter with replica 2", []string{"a1", "a2"}, CreateRequest{Name: "v", Replica: 2, Arbiter: true}, nil, false, ErrInvalid},
		{"[Error] more replicas than servers", []string{"a1", "a2"}, CreateRequest{Name: "v", Replica: 3}, nil, false, ErrUnavailable},
		{"[Error] unknown server", []string{"a1", "a2"}, CreateRequest{Name: "v", Servers: []string{"a9"}}, nil, false, ErrInvalid},
		{"[Error] bad server name", []string{"a1", "a2"}, CreateRequest{Name: "v", Servers: []string{"a;b"}}, nil, false, ErrInvalid},
		{"[Error] bad option name", []string{"a1", "a2"}, CreateRequest{Name: "v", Options: map[string]string{"Cache Size": "1"}}, nil, false, ErrInvalid},
		{"[Error] control character in option", []string{"a1", "a2"}, CreateRequest{Name: "v", Options: map[string]string{"a.b": "x\ny"}}, nil, false, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, tc.peers...)
			vol, err := ts.client.Create(ctx, tc.req)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Create: err = %v, want %v", err, tc.err)
			}
			if err != nil {
				if len(ts.gluster.vols) != 0 {
					t.Errorf("a failed create left volumes: %v", ts.gluster.vols)
				}
				return
			}
			var servers []string
			for _, b := range vol.Bricks {
				servers = append(servers, b.Server)
			}
			if !slices.Equal(servers, tc.bricks) || vol.Status != "Started" || vol.Arbiter != tc.arbiter {
				t.Errorf("created %+v, want bricks on %v, started, arbiter %t", vol, tc.bricks, tc.arbiter)
			}
			for k, v := range tc.req.Options {
				if vol.Options[k] != v {
					t.Errorf("option %s = %q, want %q", k, vol.Options[k], v)
				}
			}
		})
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1", "a2", "a3")
	first, err := ts.client.Create(ctx, CreateRequest{Name: "v", Replica: 2})
	if err != nil {
		t.Fatal(err)
	}
	again, err := ts.client.Create(ctx, CreateRequest{Name: "v", Replica: 2})
	if err != nil || again.ID != first.ID {
		t.Fatalf("second create = %+v, %v; want the same volume", again, err)
	}
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "v", Replica: 3}); !errors.Is(err, ErrConflict) {
		t.Errorf("create with another layout: err = %v, want ErrConflict", err)
	}
	if n := strings.Count(strings.Join(ts.gluster.calls, ","), "create v"); n != 1 {
		t.Errorf("gluster create ran %d times, want 1", n)
	}
}

func TestCreateRollsBackOnBadOption(t *testing.T) {
	ts := newTestServer(t, "a1", "a2")
	ts.gluster.badKeys["bogus.key"] = true
	_, err := ts.client.Create(context.Background(), CreateRequest{Name: "v", Options: map[string]string{"bogus.key": "1"}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "bogus.key") {
		t.Fatalf("err = %v, want ErrInvalid naming the option", err)
	}
	if len(ts.gluster.vols) != 0 {
		t.Errorf("volume left behind: %v", ts.gluster.vols)
	}
	if !slices.Equal(ts.removed, []string{"a2/v"}) {
		t.Errorf("remote brick removals = %v, want [a2/v]", ts.removed)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1", "a2")
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "v"}); err != nil {
		t.Fatal(err)
	}
	ts.gluster.clients["v"] = []string{"192.0.2.7:49151"}
	err := ts.client.Delete(ctx, "v")
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "192.0.2.7") {
		t.Fatalf("delete with a client: err = %v, want ErrInUse naming 192.0.2.7", err)
	}
	ts.gluster.clients["v"] = nil
	if err := ts.client.Delete(ctx, "v"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if len(ts.gluster.vols) != 0 || !slices.Equal(ts.removed, []string{"a2/v"}) {
		t.Errorf("after delete: volumes %v, remote removals %v", ts.gluster.vols, ts.removed)
	}
	if err := ts.client.Delete(ctx, "v"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of a missing volume: err = %v, want ErrNotFound", err)
	}
}

func TestDecodeRefusesUnknownFields(t *testing.T) {
	ts := newTestServer(t, "a1")
	req, _ := http.NewRequest(http.MethodPost, ts.url+"/v1/volumes", strings.NewReader(`{"name":"v","replicas":2}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "replicas") {
		t.Errorf("status %d body %s, want 400 naming the unknown field", resp.StatusCode, body)
	}
}

// FuzzCreateRequest feeds arbitrary bodies to the create endpoint's decoding
// and validation: anything accepted must be a request gluster can take.
func FuzzCreateRequest(f *testing.F) {
	for _, seed := range []string{`{"name":"v"}`, `{"name":"v","replica":3,"arbiter":true}`, `{"name":"a.b"}`, `{"name":"v","options":{"a.b":"c"}}`, `{"name":"v","servers":["10.0.0.1"]}`, `[]`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req CreateRequest
		if decodeStrict(strings.NewReader(body), &req) != nil || validateCreate(req) != nil {
			return
		}
		if err := names.ValidateVolume(req.Name); err != nil {
			t.Fatalf("accepted name %q: %v", req.Name, err)
		}
		if req.Replica < 0 || req.Replica > maxReplica {
			t.Fatalf("accepted replica %d", req.Replica)
		}
		for k, v := range req.Options {
			if validateOption(k, v) != nil {
				t.Fatalf("accepted option %q=%q", k, v)
			}
		}
	})
}
