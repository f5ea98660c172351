package control

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// shortReadTimeout stands in for RequestReadTimeout, so that tests wait
// for it in well under a second.
const shortReadTimeout = 200 * time.Millisecond

// serve serves handler through NewServer with a short read timeout on a
// listener that serves at most connections at once, and returns its
// address.
func serve(t *testing.T, connections int, handler http.Handler) string {
	t.Helper()
	l, err := listenLimited("127.0.0.1:0", connections)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(handler)
	srv.ReadTimeout = shortReadTimeout
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

func TestServerCutsOffATricklingBody(t *testing.T) {
	var bodyRead atomic.Bool
	addr := serve(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		bodyRead.Store(err == nil)
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/volumes HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	answer, _ := io.ReadAll(conn)
	if d := time.Since(start); d > 10*shortReadTimeout {
		t.Errorf("the connection stayed open %s, want it closed after the read timeout (%s)", d, shortReadTimeout)
	}
	if bodyRead.Load() {
		t.Error("the handler read a body that never arrived")
	}
	t.Logf("answer: %q", answer)
}

// The read timeout is chosen for reading requests only: it must not end a
// slow operation's request context.
func TestServerKeepsTheContextPastTheReadTimeout(t *testing.T) {
	addr := serve(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * shortReadTimeout):
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
			http.Error(w, "context canceled", http.StatusInternalServerError)
		}
	}))
	for _, body := range []string{"", `{"name":"v"}`} {
		resp, err := http.Post("http://"+addr+"/v1/volumes", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("body %q: status %d, want 204: a slow operation lost its context at the read timeout", body, resp.StatusCode)
		}
	}
}

func TestServerPassesTheBody(t *testing.T) {
	addr := serve(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	}))
	resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(`{"name":"v"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got, _ := io.ReadAll(resp.Body); string(got) != `{"name":"v"}` {
		t.Errorf("the handler read %q", got)
	}
}

func TestServerRefusesLargeHeaders(t *testing.T) {
	addr := serve(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/peers", nil)
	req.Header.Set("X-Padding", strings.Repeat("x", 2*maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
}

func TestListenServesAtMostItsConnections(t *testing.T) {
	addr := serve(t, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	holder, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	// The holder's request is answered: its connection is the one served.
	fmt.Fprintf(holder, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(holder), nil); err != nil {
		t.Fatal(err)
	}

	answered := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		t.Fatalf("a second connection was served while the first was open: %v", err)
	case <-time.After(2 * shortReadTimeout):
	}
	holder.Close()
	select {
	case err := <-answered:
		if err != nil {
			t.Errorf("the waiting request, once the first connection closed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the waiting request was not served after the first connection closed")
	}
}

func TestServerLimitsFitTheOperations(t *testing.T) {
	srv := NewServer(http.NotFoundHandler())
	if srv.WriteTimeout <= srv.ReadTimeout+changeTimeout {
		t.Errorf("WriteTimeout %s cuts off a change that runs its %s after a request read in %s", srv.WriteTimeout, changeTimeout, srv.ReadTimeout)
	}
	if srv.IdleTimeout <= idleConnTimeout {
		t.Errorf("IdleTimeout %s: the server would close idle connections before its clients do (%s)", srv.IdleTimeout, idleConnTimeout)
	}
}
