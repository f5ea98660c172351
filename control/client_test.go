package control

import (
	"bytes"
	"context"
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
