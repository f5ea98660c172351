package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// repeatedBody writes n bytes of filler after prefix.
func repeatedBody(w http.ResponseWriter, prefix string, n int) {
	w.Write([]byte(prefix))
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for written := 0; written < n; written += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func TestClientBoundsAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer http.HandlerFunc
		check  func(t *testing.T, peers []Peer, err error)
	}{
		{"[Success] a normal answer", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`[{"address":"10.0.0.1","connected":true}]`))
		}, func(t *testing.T, peers []Peer, err error) {
			if err != nil || len(peers) != 1 || peers[0].Address != "10.0.0.1" {
				t.Errorf("Peers() = %+v, %v", peers, err)
			}
		}},
		{"[Error] an answer past the bound", func(w http.ResponseWriter, r *http.Request) {
			repeatedBody(w, `["`, maxAnswer)
		}, func(t *testing.T, peers []Peer, err error) {
			if err == nil || !strings.Contains(err.Error(), "larger than") {
				t.Errorf("Peers() = %d peers, %v; want an error saying the answer is too large", len(peers), err)
			}
		}},
		{"[Error] an error answer past the bound", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			repeatedBody(w, "", 4*maxErrorAnswer)
		}, func(t *testing.T, _ []Peer, err error) {
			var apiErr *APIError
			if !errors.As(err, &apiErr) || len(apiErr.Message) > maxErrorAnswer+100 {
				t.Errorf("Peers() error of %d bytes, want an APIError of at most about %d", len(err.Error()), maxErrorAnswer)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.answer)
			defer srv.Close()
			host, port := splitURL(t, srv.URL)
			peers, err := NewClient(host, port, token, srv.Client()).Peers(context.Background())
			tc.check(t, peers, err)
		})
	}
}

func TestLookup(t *testing.T) {
	ts := newTestServer(t, "a1", "a2")
	ctx := context.Background()
	for _, name := range []string{"v1", "v2"} {
		if _, err := ts.client.Create(ctx, CreateRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	// A server that predates ?name= answers with every volume.
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode([]Volume{{Name: "v1"}, {Name: "v2", Replica: 2}})
	}))
	t.Cleanup(old.Close)
	oldHost, oldPort := splitURL(t, old.URL)
	clients := []struct {
		name   string
		client *Client
	}{
		{"[Success] a server that looks up one volume", ts.client},
		{"[Success] a server that lists them all", NewClient(oldHost, oldPort, token, nil)},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			vol, err := c.client.Lookup(ctx, "v2")
			if err != nil || vol.Name != "v2" || vol.Replica != 2 {
				t.Errorf("Lookup(v2) = %+v, %v", vol, err)
			}
			var apiErr *APIError
			if _, err := c.client.Lookup(ctx, "missing"); !errors.Is(err, ErrNotFound) || !errors.As(err, &apiErr) {
				t.Errorf("Lookup(missing) = %v, want the server's not-found answer", err)
			}
		})
	}
	t.Run("[Error] an invalid name", func(t *testing.T) {
		if _, err := ts.client.Lookup(ctx, "-bad"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Lookup(-bad) = %v, want ErrInvalid", err)
		}
	})
}
