package metrics

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestInstrumentHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/volumes/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") == "missing" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Write([]byte("{}"))
	})
	mux.HandleFunc("DELETE /v1/volumes/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	// Refused before routing, as a wrong token is.
	guarded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
	tests := []struct {
		name      string
		method    string
		path      string
		token     bool
		operation string
		code      string
		refused   float64 // auth failures counted
	}{
		{"[Success] body without WriteHeader", http.MethodGet, "/v1/volumes/gv0", true, "GET /v1/volumes/{name}", "200", 0},
		{"[Success] no content", http.MethodDelete, "/v1/volumes/gv0", true, "DELETE /v1/volumes/{name}", "204", 0},
		{"[Error] handler's own status", http.MethodGet, "/v1/volumes/missing", true, "GET /v1/volumes/{name}", "404", 0},
		{"[Error] no route", http.MethodGet, "/v2/other", true, "unrouted", "404", 0},
		{"[Error] refused before routing", http.MethodGet, "/v1/volumes/gv0", false, "unrouted", "401", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			h := InstrumentHandler(guarded, reg)
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.token {
				req.Header.Set("Authorization", "Bearer t")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assertFamilies(t, reg, family{
				name: "gluster_server_requests_total", kind: "counter",
				help:   "Requests to the control API, by operation (route pattern) and HTTP status code.",
				series: map[string]float64{fmt.Sprintf("code=%q,operation=%q", tc.code, tc.operation): 1},
			}, family{
				name: "gluster_server_auth_failures_total", kind: "counter",
				help:   "Control API requests refused for a missing or wrong token.",
				series: map[string]float64{"": tc.refused},
			})
			if got := observations(t, reg, "gluster_server_request_duration_seconds", map[string]string{"operation": tc.operation}); got != 1 {
				t.Errorf("request_duration_seconds{operation=%q} has %v observations, want 1", tc.operation, got)
			}
			if code := w.Result().StatusCode; code == 0 {
				t.Error("the response lost its status code")
			}
		})
	}
}
