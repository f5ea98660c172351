package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/names"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

const token = "s3cret"

type testServer struct {
	gluster *fakeGluster
	peers   *fakePeers
	bricks  string // the brick root of the first server
	fuse    string // the first server's FUSE device, a file of the test's
	client  *Client
	url     string
	svc     *Service
}

func newTestServer(t *testing.T, peers ...string) *testServer {
	t.Helper()
	ts := &testServer{gluster: newFakeGluster(peers...), peers: newFakePeers(), bricks: t.TempDir()}
	ts.fuse = filepath.Join(t.TempDir(), "fuse")
	if err := os.WriteFile(ts.fuse, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	svc := NewService(peers[0], ts.bricks, ts.gluster, ts.peers, discard, WithFUSEDevice(ts.fuse))
	ts.svc = svc
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

func TestRefusedRequestsAreLoggedAndDisconnected(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&out, nil))
	h := NewHandler(NewService("10.0.0.1", t.TempDir(), newFakeGluster("10.0.0.1"), nil, discard), token, logger)
	for range 5 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/v1/peers", nil)
		req.Header.Set("Authorization", "Bearer guess")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("Connection") != "close" {
			t.Errorf("status %d, Connection %q; want 401 and close", rec.Code, rec.Header().Get("Connection"))
		}
	}
	if n := strings.Count(out.String(), "request refused"); n != 1 {
		t.Errorf("%d lines for 5 refusals from one source, want 1:\n%s", n, out.String())
	}
	if strings.Contains(out.String(), "guess") {
		t.Errorf("the log shows the token sent: %s", out.String())
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
		{"[Error] control character in option", []string{"a1", "a2"}, CreateRequest{Name: "v", Options: map[string]string{"performance.a": "x\ny"}}, nil, false, ErrInvalid},
		{"[Error] option value read as a gluster CLI option", []string{"a1", "a2"}, CreateRequest{Name: "v", Options: map[string]string{"performance.cache-size": "--log-file=/var/lib/glusterd/x"}}, nil, false, ErrInvalid},
		{"[Error] option not on the list", []string{"a1", "a2"}, CreateRequest{Name: "v", Options: map[string]string{"storage.owner-uid": "0"}}, nil, false, ErrInvalid},
		{"[Error] forged created-at", []string{"a1", "a2"}, CreateRequest{Name: "v", Options: map[string]string{CreatedAtOption: "2000-01-01T00:00:00Z"}}, nil, false, ErrInvalid},
		{"[Success] the plugin's label", []string{"a1", "a2"}, CreateRequest{Name: "v", Options: map[string]string{DockerVolumeOption: "v"}}, []string{"a1", "a2"}, false, nil},
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

// TestCreateOfARecordedSubvolume: a Docker volume recorded as a
// subdirectory of another volume is not created as a volume of its own.
func TestCreateOfARecordedSubvolume(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1", "a2")
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "shared", Options: map[string]string{DockerVolumeOption: "shared"}}); err != nil {
		t.Fatal(err)
	}
	if err := ts.client.AddSubvolume(ctx, "shared", "app.data", SubvolumeRequest{Subdir: "app"}); err != nil {
		t.Fatal(err)
	}
	_, err := ts.client.Create(ctx, CreateRequest{Name: "app__data", Options: map[string]string{DockerVolumeOption: "app.data"}})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "subdirectory app of volume shared") {
		t.Errorf("create of a recorded subdirectory volume: %v, want ErrConflict naming its volume", err)
	}
	if _, ok := ts.gluster.vols["app__data"]; ok {
		t.Error("a volume was created for it")
	}
}

func TestCreateRollsBackOnBadOption(t *testing.T) {
	ts := newTestServer(t, "a1", "a2")
	ts.gluster.badKeys["performance.bogus"] = true
	_, err := ts.client.Create(context.Background(), CreateRequest{Name: "v", Options: map[string]string{"performance.bogus": "1"}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "performance.bogus") {
		t.Fatalf("err = %v, want ErrInvalid naming the option", err)
	}
	if len(ts.gluster.vols) != 0 {
		t.Errorf("volume left behind: %v", ts.gluster.vols)
	}
	if !slices.Equal(ts.peers.removed, []string{"a2/v"}) {
		t.Errorf("remote brick removals = %v, want [a2/v]", ts.peers.removed)
	}
	assertNoBrick(t, ts.bricks, "v")
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1", "a2")
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "v", Options: map[string]string{DockerVolumeOption: "v"}}); err != nil {
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
	if len(ts.gluster.vols) != 0 || !slices.Equal(ts.peers.removed, []string{"a2/v"}) {
		t.Errorf("after delete: volumes %v, remote removals %v", ts.gluster.vols, ts.peers.removed)
	}
	assertNoBrick(t, ts.bricks, "v")
	if err := ts.client.Delete(ctx, "v"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of a missing volume: err = %v, want ErrNotFound", err)
	}
}

// TestDeleteWaitsOutAServersQuery: a client on a server of the pool, as a
// heal query runs for a second, delays a delete instead of refusing it.
func TestDeleteWaitsOutAServersQuery(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1", "a2")
	if _, err := ts.client.Create(ctx, CreateRequest{Name: "v", Options: map[string]string{DockerVolumeOption: "v"}}); err != nil {
		t.Fatal(err)
	}
	ts.gluster.mu.Lock()
	ts.gluster.clients["v"] = []string{"a2:49151"}
	ts.gluster.mu.Unlock()
	time.AfterFunc(500*time.Millisecond, func() {
		ts.gluster.mu.Lock()
		defer ts.gluster.mu.Unlock()
		ts.gluster.clients["v"] = nil
	})
	if err := ts.client.Delete(ctx, "v"); err != nil {
		t.Fatalf("delete while a server's query was connected: %v", err)
	}
}

func TestVolumesThePluginDidNotCreateAreNotChanged(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, "a1", "a2")
	ts.gluster.vols["foreign"] = glustercli.Volume{Name: "foreign", ID: "id-foreign", Status: "Started", Options: map[string]string{"performance.cache-size": "1GB"},
		Bricks: []glustercli.Brick{{Host: "a1", Path: "/data/foreign"}, {Host: "a2", Path: "/data/foreign"}}}
	changes := []struct {
		name string
		do   func(context.Context, string) error
	}{
		{"[Error] stop", ts.client.Stop},
		{"[Error] start", ts.client.Start},
		{"[Error] delete", ts.client.Delete},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			err := c.do(ctx, "foreign")
			if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), DockerVolumeOption) {
				t.Errorf("err = %v, want ErrConflict naming the label", err)
			}
		})
	}
	if v := ts.gluster.vols["foreign"]; v.Status != "Started" || len(ts.gluster.calls) != 0 || len(ts.peers.removed) != 0 {
		t.Errorf("foreign volume %+v; gluster ran %v; bricks removed %v", v, ts.gluster.calls, ts.peers.removed)
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
// and validation: anything accepted must be a request gluster can take, and
// must decode to the same request once encoded again, as the client sends it.
func FuzzCreateRequest(f *testing.F) {
	for _, seed := range []string{`{"name":"v"}`, `{"name":"v","replica":3,"arbiter":true}`, `{"name":"v","replica":2,"bricks":4}`, `{"name":"a.b"}`, `{"name":"v","options":{"a.b":"c"}}`, `{"name":"v","servers":["10.0.0.1"]}`, `[]`,
		`{"name":"v","servers":["a","a"]}`, `{"name":"v","replica":2,"arbiter":true}`, `{"name":"v","options":{"a.b":"x\u0000"}}`, `{"name":"v"} {}`, `{"name":"v","Name":"w"}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req CreateRequest
		if decodeStrict(strings.NewReader(body), &req) != nil || validateCreate(req, OptionPolicy{}) != nil {
			return
		}
		if err := names.ValidateVolume(req.Name); err != nil {
			t.Fatalf("accepted name %q: %v", req.Name, err)
		}
		if req.Replica < 0 || req.Replica > MaxReplica || (req.Arbiter && req.Replica != 0 && req.Replica != 3) {
			t.Fatalf("accepted replica %d, arbiter %t", req.Replica, req.Arbiter)
		}
		if req.Bricks < 0 || req.Bricks > MaxBricks || (req.Bricks > 0 && (req.Replica == 0 || req.Bricks%req.Replica != 0)) {
			t.Fatalf("accepted bricks %d with replica %d", req.Bricks, req.Replica)
		}
		for i, s := range req.Servers {
			if ValidateHost(s) != nil || slices.Contains(req.Servers[:i], s) {
				t.Fatalf("accepted servers %q", req.Servers)
			}
		}
		for k, v := range req.Options {
			if validateOption(k, v) != nil {
				t.Fatalf("accepted option %q=%q", k, v)
			}
		}
		data, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		var again CreateRequest
		if err := decodeStrict(bytes.NewReader(data), &again); err != nil || !reflect.DeepEqual(normalized(again), normalized(req)) {
			t.Fatalf("%s decoded to %+v, which encoded as %s decodes to %+v, %v", body, req, data, again, err)
		}
	})
}

// normalized treats an empty list or map as none, as the JSON encoding
// (omitempty) does.
func normalized(req CreateRequest) CreateRequest {
	if len(req.Servers) == 0 {
		req.Servers = nil
	}
	if len(req.Options) == 0 {
		req.Options = nil
	}
	return req
}

// allowedCall reports whether a gluster call the fake recorded names a
// valid volume, or a valid host for a pool change, and has no argument the
// gluster CLI would read as an option.
func allowedCall(call string) bool {
	fields := strings.Fields(call)
	if len(fields) < 2 {
		return false
	}
	check := names.ValidateVolume
	if fields[0] == "probe" || fields[0] == "detach" {
		check = ValidateHost
	}
	return check(fields[1]) == nil && !slices.ContainsFunc(fields, func(f string) bool { return strings.HasPrefix(f, "-") })
}

// apiStatuses are the answers the API documents, and the router's own for
// paths it cleans (redirects), does not know or has no such method for.
var apiStatuses = []int{http.StatusOK, http.StatusCreated, http.StatusNoContent, http.StatusBadRequest,
	http.StatusNotFound, http.StatusConflict, http.StatusLocked, http.StatusServiceUnavailable,
	http.StatusMethodNotAllowed, http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect}

// FuzzAPI sends arbitrary authenticated requests through the whole
// handler, whose every route decodes a volume name from the path or a
// create request from the body: each answer is a documented status, each
// error a JSON message, and nothing ever reaches gluster or the brick
// directories under a name gluster does not allow.
func FuzzAPI(f *testing.F) {
	f.Add(uint8(0), "/v1/volumes", `{"name":"v","replica":2}`)
	f.Add(uint8(1), "/v1/volumes/v", "")
	f.Add(uint8(1), "/v1/volumes/..%2Fetc", "")
	f.Add(uint8(2), "/v1/volumes/v/start", "")
	f.Add(uint8(2), "/v1/volumes/all/stop", "")
	f.Add(uint8(3), "/v1/bricks/v", "")
	f.Add(uint8(3), "/v1/bricks/%2E%2E", "")
	f.Add(uint8(4), "/v1/peers", "")
	f.Add(uint8(2), "/v1/volumes", `{"name":"v","options":{"performance.cache-size":"64MB"}}`)
	f.Add(uint8(0), "/v1/peers", `{"address":"10.0.0.3"}`)
	f.Add(uint8(3), "/v1/peers/10.0.0.2", "")
	f.Add(uint8(2), "/v1/volumes/existing/replica", `{"replica":3}`)
	f.Add(uint8(2), "/v1/volumes/existing/replace-brick", `{"from":"10.0.0.2","to":"--log-file=/x"}`)
	f.Add(uint8(1), "/v1/volumes/existing/heal", "")
	methods := []string{http.MethodPost, http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodGet, http.MethodPut}
	f.Fuzz(func(t *testing.T, method uint8, target, body string) {
		if !strings.HasPrefix(target, "/") {
			return
		}
		req, err := http.NewRequest(methods[int(method)%len(methods)], "http://control"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		gluster := newFakeGluster("10.0.0.1", "10.0.0.2")
		gluster.vols["existing"] = glustercli.Volume{Name: "existing", ID: "id-existing", Status: "Started", Replica: 2, Options: map[string]string{},
			Bricks: []glustercli.Brick{{Host: "localhost", Path: "/bricks/existing"}, {Host: "10.0.0.2", Path: "/bricks/existing"}}}
		bricks := t.TempDir()
		peers := newFakePeers()
		rec := httptest.NewRecorder()
		NewHandler(NewService("10.0.0.1", bricks, gluster, peers, discard), token, discard).ServeHTTP(rec, req)

		if !slices.Contains(apiStatuses, rec.Code) {
			t.Fatalf("%s %s %q: status %d: %s", req.Method, target, body, rec.Code, rec.Body)
		}
		// The router's own answers are plain text; the API's errors never.
		fromAPI := rec.Code == http.StatusBadRequest || rec.Code == http.StatusConflict || rec.Code == http.StatusLocked || rec.Code == http.StatusServiceUnavailable
		if rec.Code >= 400 && (fromAPI || strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json")) {
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s: error answer %q is not a JSON message", req.Method, target, rec.Body)
			}
		}
		for _, call := range gluster.calls {
			if !allowedCall(call) {
				t.Fatalf("%s %s %q ran gluster %q", req.Method, target, body, call)
			}
		}
		for _, made := range append(peers.made, peers.removed...) {
			if _, name, _ := strings.Cut(made, "/"); names.ValidateVolume(name) != nil {
				t.Fatalf("%s %s %q removed remote brick %q", req.Method, target, body, name)
			}
		}
		if entries, _ := os.ReadDir(filepath.Dir(bricks)); len(entries) != 1 {
			t.Fatalf("%s %s %q touched the brick root's parent: %v", req.Method, target, body, entries)
		}
	})
}
