package control

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/glusterdocker/gluster/pki"
)

// The enrollment API: how servers and plugins get certificates of the
// cluster's CA, and how the cluster revokes them. GET /v1/ca answers
// anyone, as a CA certificate and its revocation list are public; its
// proof tells only a holder of the token that the answer is genuine. The
// other calls need the token, as every other call does.

// CAAnswer is the cluster CA's certificate and the proof that the server
// that sent it knows the token (pki.Proof over the caller's nonce).
type CAAnswer struct {
	CA    string `json:"ca"`    // PEM
	Proof string `json:"proof"` // hex
	// CRL is the cluster's revocation list (PEM), signed by the CA.
	CRL string `json:"crl,omitempty"`
}

// RevokeRequest revokes a certificate the cluster issued.
type RevokeRequest struct {
	Serial string `json:"serial"` // hex, as openssl x509 -noout -serial prints it
}

// Revocation answers a RevokeRequest: the servers whose bricks now refuse
// the certificate, and those that were not reached, which take the list
// from a peer when they start.
type Revocation struct {
	Serial  string   `json:"serial"`
	Servers []string `json:"servers"`
	Missed  []string `json:"missed,omitempty"`
}

// CRLRequest hands a server the cluster's newest revocation list.
type CRLRequest struct {
	CRL string `json:"crl"` // PEM
}

// Roles of an EnrollRequest.
const (
	RoleServer = string(pki.RoleServer)
	RoleClient = string(pki.RoleClient)
)

// EnrollRequest asks for a certificate for the key of a certificate
// request.
type EnrollRequest struct {
	CSR  string `json:"csr"`  // PEM
	Role string `json:"role"` // RoleServer or RoleClient
	// Address is a server's address, which its certificate names so that
	// clients can check they reached it.
	Address string `json:"address,omitempty"`
}

// Enrollment answers an EnrollRequest.
type Enrollment struct {
	Certificate string `json:"certificate"` // PEM
	CA          string `json:"ca"`          // PEM
	// CAKey is given to servers only, so that any live server can enroll
	// a host.
	CAKey string `json:"ca_key,omitempty"`
	// CRL lists the certificates the cluster revoked.
	CRL string `json:"crl,omitempty"`
}

// Enroller issues and revokes the cluster CA's certificates.
type Enroller interface {
	// CA returns the CA's certificate, nil while this server has none.
	CA() []byte
	// CRL returns the cluster's revocation list.
	CRL() []byte
	// Enroll issues a certificate; its errors wrap ErrInvalid for a bad
	// request.
	Enroll(req EnrollRequest) (Enrollment, error)
	// Revoke revokes a certificate on every server it reaches.
	Revoke(ctx context.Context, serial string) (Revocation, error)
	// AdoptCRL takes a revocation list newer than this server's.
	AdoptCRL(ctx context.Context, crl []byte) error
}

// nonceLength is the length of the nonce GET /v1/ca takes, in bytes.
const nonceLength = 32

// openRoutes serves GET /v1/ca to anyone and hands every other request to
// protected.
func openRoutes(e Enroller, token string, protected http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ca", func(w http.ResponseWriter, r *http.Request) {
		nonce, err := hex.DecodeString(r.URL.Query().Get("nonce"))
		if err != nil || len(nonce) != nonceLength {
			writeError(w, fmt.Errorf("%w: nonce: want %d random bytes in hex", ErrInvalid, nonceLength))
			return
		}
		ca := e.CA()
		if ca == nil {
			writeError(w, fmt.Errorf("%w: this server has no certificate of the cluster yet", ErrUnavailable))
			return
		}
		cert, err := pki.ParseCertificate(ca)
		if err != nil {
			writeError(w, err)
			return
		}
		reply(w, http.StatusOK, CAAnswer{CA: string(ca), Proof: hex.EncodeToString(pki.Proof(token, nonce, cert.Raw)), CRL: string(e.CRL())}, nil)
	})
	mux.Handle("/", protected)
	return mux
}

func (h *handler) revoke(w http.ResponseWriter, r *http.Request) {
	var req RevokeRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := changeContext(r)
	defer cancel()
	revocation, err := h.enroller.Revoke(ctx, req.Serial)
	reply(w, http.StatusOK, revocation, err)
}

func (h *handler) adoptCRL(w http.ResponseWriter, r *http.Request) {
	var req CRLRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := changeContext(r)
	defer cancel()
	reply(w, http.StatusNoContent, nil, h.enroller.AdoptCRL(ctx, []byte(req.CRL)))
}

func (h *handler) enroll(w http.ResponseWriter, r *http.Request) {
	var req EnrollRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	enrollment, err := h.enroller.Enroll(req)
	if err == nil {
		h.logger.Info("certificate issued", "role", req.Role, "address", req.Address, "client", r.RemoteAddr)
	}
	reply(w, http.StatusOK, enrollment, err)
}

// CA asks for the cluster CA's certificate and revocation list, and
// checks the answer's proof: the answer is the cluster's only if the
// server that sent it knows the token. The certificate is not otherwise
// verified; the caller pins it for what follows.
func (c *Client) CA(ctx context.Context) (CAAnswer, error) {
	nonce, err := pki.NewNonce()
	if err != nil {
		return CAAnswer{}, err
	}
	var answer CAAnswer
	if err := c.do(ctx, http.MethodGet, "/v1/ca?nonce="+url.QueryEscape(hex.EncodeToString(nonce)), nil, &answer); err != nil {
		return CAAnswer{}, err
	}
	cert, err := pki.ParseCertificate([]byte(answer.CA))
	if err != nil {
		return CAAnswer{}, fmt.Errorf("control API %s: the cluster CA: %w", c.base, err)
	}
	proof, err := hex.DecodeString(answer.Proof)
	if err != nil || !pki.CheckProof(c.token, nonce, cert.Raw, proof) {
		return CAAnswer{}, fmt.Errorf("control API %s: %w", c.base, errNoProof)
	}
	return answer, nil
}

// errNoProof means a server answered with a CA but could not prove it
// knows the token.
var errNoProof = errors.New("the answer's CA comes without proof that its sender knows the token: is this the cluster's server, and is the token the cluster's?")

// Enroll asks for a certificate.
func (c *Client) Enroll(ctx context.Context, req EnrollRequest) (Enrollment, error) {
	var enrollment Enrollment
	err := c.do(ctx, http.MethodPost, "/v1/certificates", req, &enrollment)
	return enrollment, err
}

// Revoke revokes a certificate the cluster issued, on every server.
func (c *Client) Revoke(ctx context.Context, serial string) (Revocation, error) {
	var r Revocation
	err := c.do(ctx, http.MethodPost, "/v1/revocations", RevokeRequest{Serial: serial}, &r)
	return r, err
}

// AdoptCRL hands the server the cluster's newest revocation list; it
// answers once its bricks refuse what the list revokes.
func (c *Client) AdoptCRL(ctx context.Context, crl string) error {
	return c.do(ctx, http.MethodPut, "/v1/crl", CRLRequest{CRL: crl}, nil)
}

// Enroll asks any live server for a certificate.
func (c *Cluster) Enroll(ctx context.Context, req EnrollRequest) (Enrollment, error) {
	var enrollment Enrollment
	err := c.each(ctx, func(cl *Client) error {
		var err error
		enrollment, err = cl.Enroll(ctx, req)
		return err
	})
	return enrollment, err
}
