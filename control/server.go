package control

import (
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Limits of the control API's HTTP server. Its clients are the plugins and
// the other servers, on the cluster's network: what they send arrives in
// milliseconds, and anything slower or bigger only holds resources.
const (
	// headerTimeout bounds reading a request's headers.
	headerTimeout = 10 * time.Second
	// RequestReadTimeout bounds reading a whole request, headers and a
	// body of at most maxBody bytes, so that a client trickling its body
	// is cut off. It leaves a loaded host and a slow link plenty of room.
	// Once the body is read, a slow operation keeps its request context:
	// the server lifts the read deadline then.
	RequestReadTimeout = 15 * time.Second
	// answerMargin is the time left for writing an answer once its
	// operation ended.
	answerMargin = 30 * time.Second
	// writeTimeout bounds a request from the end of its headers to the end
	// of its answer. A change runs for up to changeTimeout after its body
	// was read, and its caller must still get the answer: a shorter limit
	// would cut off a create or delete that is legitimately slow.
	writeTimeout = RequestReadTimeout + changeTimeout + answerMargin
	// idleTimeout closes a kept-alive connection between requests. It is
	// longer than the clients' own limit (idleConnTimeout), so that a client
	// closes its idle connections first and never sends a request on a
	// connection the server is closing.
	idleTimeout = 2 * idleConnTimeout
	// maxHeaderBytes bounds a request's headers: ours carry a token and a
	// few standard headers, under 1 KiB, where Go allows 1 MiB.
	maxHeaderBytes = 16 << 10
	// MaxConnections bounds the connections served at once; more wait
	// in the kernel's accept queue. It leaves room for the kept-alive
	// connections of a hundred plugin hosts (maxIdleConnsPerServer each)
	// and the changes waiting for their turn, while connections that
	// trickle headers and bodies cost at most about 50 MiB.
	MaxConnections = 512
)

// NewServer returns the HTTP server of the control API with its limits.
func NewServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       RequestReadTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// Listen listens on address for the control API, serving at most
// MaxConnections at once.
func Listen(address string) (net.Listener, error) {
	return listenLimited(address, MaxConnections)
}

func listenLimited(address string, connections int) (net.Listener, error) {
	l, err := net.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	return netutil.LimitListener(l, connections), nil
}
