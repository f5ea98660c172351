package control

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds request bodies; a create request is a few hundred bytes.
const maxBody = 64 << 10

// changeTimeout bounds a change once started. A change runs to its end even
// if the caller goes away, so that a rollback is never cut short.
const changeTimeout = 3 * time.Minute

// HandlerOption changes a default of NewHandler.
type HandlerOption func(*handler)

// WithEnroller serves the enrollment API (enroll.go) of servers that
// serve TLS.
func WithEnroller(e Enroller) HandlerOption {
	return func(h *handler) { h.enroller = e }
}

// NewHandler serves the control API for svc. Every request must carry
// "Authorization: Bearer TOKEN", but for the cluster CA's certificate;
// token must not be empty.
func NewHandler(svc *Service, token string, logger *slog.Logger, opts ...HandlerOption) http.Handler {
	h := &handler{svc: svc, logger: logger}
	for _, o := range opts {
		o(h)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/volumes", h.list)
	mux.HandleFunc("POST /v1/volumes", h.create)
	mux.HandleFunc("GET /v1/volumes/{name}", h.get)
	mux.HandleFunc("DELETE /v1/volumes/{name}", h.delete)
	mux.HandleFunc("POST /v1/volumes/{name}/start", h.start)
	mux.HandleFunc("POST /v1/volumes/{name}/stop", h.stop)
	mux.HandleFunc("POST /v1/volumes/{name}/retain", h.retain)
	mux.HandleFunc("POST /v1/volumes/{name}/purge", h.purge)
	mux.HandleFunc("GET /v1/peers", h.peers)
	mux.HandleFunc("POST /v1/peers", h.addPeer)
	mux.HandleFunc("DELETE /v1/peers/{address}", h.removePeer)
	mux.HandleFunc("POST /v1/volumes/{name}/replica", h.raiseReplica)
	mux.HandleFunc("POST /v1/volumes/{name}/replace-brick", h.replaceBrick)
	mux.HandleFunc("GET /v1/volumes/{name}/heal", h.heal)
	mux.HandleFunc("POST /v1/volumes/{name}/expand", h.expand)
	mux.HandleFunc("GET /v1/volumes/{name}/rebalance", h.rebalance)
	mux.HandleFunc("PUT /v1/bricks/{name}", h.makeBrick)
	mux.HandleFunc("DELETE /v1/bricks/{name}", h.removeBrick)
	mux.HandleFunc("PUT /v1/volumes/{name}/subvolumes/{docker}", h.addSubvolume)
	mux.HandleFunc("DELETE /v1/volumes/{name}/subvolumes/{docker}", h.removeSubvolume)
	if h.enroller != nil {
		mux.HandleFunc("POST /v1/certificates", h.enroll)
		mux.HandleFunc("POST /v1/revocations", h.revoke)
		mux.HandleFunc("PUT /v1/crl", h.adoptCRL)
	}
	protected := requireToken(token, newRefusalLog(logger, time.Now), mux)
	if h.enroller == nil {
		return protected
	}
	return openRoutes(h.enroller, token, protected)
}

type handler struct {
	svc      *Service
	enroller Enroller // nil: no enrollment API
	logger   *slog.Logger
}

// requireToken refuses requests without the token, logging them to refusals.
// A refused client's connection is closed, so that it cannot hold one of the
// server's connections kept alive.
func requireToken(token string, refusals *refusalLog, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			refusals.refused(r)
			w.Header().Set("Connection", "close")
			writeError(w, fmt.Errorf("%w: send the server's token as \"Authorization: Bearer TOKEN\"", ErrUnauthorized))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// list lists every volume, or with ?name=NAME the one volume of that name
// (none if it does not exist): a lookup as cheap as one `volume info`, and
// an answer an older server, which ignores the query, gives in full.
func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	if name := r.URL.Query().Get("name"); name != "" {
		vols, err := h.svc.Find(r.Context(), name)
		reply(w, http.StatusOK, vols, err)
		return
	}
	vols, err := h.svc.List(r.Context())
	reply(w, http.StatusOK, vols, err)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	vol, err := h.svc.Get(r.Context(), r.PathValue("name"))
	reply(w, http.StatusOK, vol, err)
}

func (h *handler) peers(w http.ResponseWriter, r *http.Request) {
	peers, err := h.svc.Peers(r.Context())
	reply(w, http.StatusOK, peers, err)
}

func (h *handler) addPeer(w http.ResponseWriter, r *http.Request) {
	var req PeerRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := changeContext(r)
	defer cancel()
	peer, err := h.svc.AddPeer(ctx, req.Address)
	reply(w, http.StatusOK, peer, err)
}

func (h *handler) removePeer(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := changeContext(r)
	defer cancel()
	reply(w, http.StatusNoContent, nil, h.svc.RemovePeer(ctx, r.PathValue("address")))
}

func (h *handler) raiseReplica(w http.ResponseWriter, r *http.Request) {
	var req ReplicaRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := changeContext(r)
	defer cancel()
	vol, err := h.svc.RaiseReplica(ctx, r.PathValue("name"), req)
	reply(w, http.StatusOK, vol, err)
}

func (h *handler) replaceBrick(w http.ResponseWriter, r *http.Request) {
	var req ReplaceRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := changeContext(r)
	defer cancel()
	vol, err := h.svc.ReplaceBrick(ctx, r.PathValue("name"), req)
	reply(w, http.StatusOK, vol, err)
}

func (h *handler) heal(w http.ResponseWriter, r *http.Request) {
	heal, err := h.svc.Heal(r.Context(), r.PathValue("name"))
	reply(w, http.StatusOK, heal, err)
}

func (h *handler) expand(w http.ResponseWriter, r *http.Request) {
	var req ExpandRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := changeContext(r)
	defer cancel()
	vol, err := h.svc.Expand(ctx, r.PathValue("name"), req)
	reply(w, http.StatusOK, vol, err)
}

func (h *handler) rebalance(w http.ResponseWriter, r *http.Request) {
	rebalance, err := h.svc.Rebalance(r.Context(), r.PathValue("name"))
	reply(w, http.StatusOK, rebalance, err)
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	var req CreateRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := changeContext(r)
	defer cancel()
	vol, created, err := h.svc.Create(ctx, req)
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	reply(w, code, vol, err)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, h.svc.Delete)
}

func (h *handler) start(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, h.svc.Start)
}

func (h *handler) stop(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, h.svc.Stop)
}

func (h *handler) makeBrick(w http.ResponseWriter, r *http.Request) {
	var req BrickRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	h.change(w, r, func(ctx context.Context, name string) error { return h.svc.MakeLocalBrick(ctx, name, req.Owner) })
}

func (h *handler) removeBrick(w http.ResponseWriter, r *http.Request) {
	owner := r.URL.Query().Get("owner")
	h.change(w, r, func(ctx context.Context, name string) error { return h.svc.RemoveLocalBrick(ctx, name, owner) })
}

// change runs an operation on the volume the path names and answers 204.
func (h *handler) change(w http.ResponseWriter, r *http.Request, op func(context.Context, string) error) {
	ctx, cancel := changeContext(r)
	defer cancel()
	reply(w, http.StatusNoContent, nil, op(ctx, r.PathValue("name")))
}

func changeContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), changeTimeout)
}

// decodeStrict decodes one JSON value and refuses unknown fields, so that a
// misspelt option is an error rather than silently ignored.
func decodeStrict(body io.Reader, v any) error {
	dec := json.NewDecoder(io.LimitReader(body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %w", ErrInvalid, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: request body: more than one JSON value", ErrInvalid)
	}
	return nil
}

func reply(w http.ResponseWriter, code int, body any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	if body == nil {
		w.WriteHeader(code)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	for _, s := range statusOf {
		if errors.Is(err, s.err) {
			code = s.code
			break
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(errorBody{Error: strings.TrimSpace(err.Error())})
}
