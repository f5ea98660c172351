package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/glusterdocker/gluster/backoff"
	"github.com/glusterdocker/gluster/certstore"
	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/periodic"
	"github.com/glusterdocker/gluster/pki"
)

// tlsDir keeps the server's certificate, and the cluster CA's, in
// glusterd's working directory, which lives on the host: a re-created
// container keeps its identity.
const tlsDir = "/var/lib/glusterd/cluster-tls"

// secureAccessFile turns on TLS for glusterd's management connections, and
// for those of every gluster process started here.
const secureAccessFile = "/var/lib/glusterd/secure-access"

// Lifetimes of what the servers issue. A GlusterFS process loads its
// certificate, its CA and the revocation list once, when it first needs
// them (GlusterFS 10.3's socket transport keeps its SSL context for good):
// a brick or glusterd presents the certificate it started with until it
// ends, and a FUSE client the one its mount started with, across
// reconnections. New files reach new processes only. So certificates are
// renewed once two thirds of their life has passed (pki.RenewalDue), which
// leaves running processes the last third with the old one, and live long
// enough for the processes that use them.
const (
	// caLifetime is the cluster CA's: replacing it means enrolling every
	// host again.
	caLifetime = 10 * 365 * 24 * time.Hour
	// serverLifetime is a server's certificate's: as long as the CA's, as
	// glusterd and the bricks would otherwise have to restart to take a
	// renewed one.
	serverLifetime = caLifetime
	// clientLifetime is a plugin host's: a year, renewed after eight
	// months, so that a mount made before the renewal keeps a valid
	// certificate for four more.
	clientLifetime = 365 * 24 * time.Hour
	// crlLifetime is the revocation list's. OpenSSL refuses every
	// certificate once the list it holds is past its next update, and the
	// bricks read the list only when they start: it must outlive them.
	crlLifetime = caLifetime
	// renewCheck is how often a running server looks at its certificate's
	// age.
	renewCheck = time.Hour
	// enrollRequestTimeout bounds one enrollment call to one peer.
	enrollRequestTimeout = 10 * time.Second
	// crlCatchUpTimeout bounds asking one peer for its revocation list as
	// a server starts: peers that run answer in milliseconds, and a server
	// whose peers are all down must not wait long for each.
	crlCatchUpTimeout = 2 * time.Second
)

// enrollRetry spaces out a joining server's attempts to reach a server of
// the cluster that holds the CA.
var enrollRetry = backoff.Policy{First: time.Second, Max: 10 * time.Second, Jitter: 0.2}

// identity is this server's certificate and the cluster's CA, with the
// CA's key, so that any server can enroll hosts.
type identity struct {
	store   certstore.Store
	address string
	logger  *slog.Logger

	mu      sync.Mutex
	id      certstore.Identity
	ca      *pki.Authority
	keyPair *tls.Certificate
}

// authority is the server's part in the enrollment API: issuing with the
// identity, revoking with the revoker.
type authority struct {
	*identity
	*revoker
}

var _ control.Enroller = authority{}

// prepareTLS gives this server its certificate before glusterd starts:
// the one it kept, a new one from a server of the cluster, or, for the
// first server of a new cluster, a new CA's. It then shows the files to
// GlusterFS and turns TLS on for its management connections.
func prepareTLS(ctx context.Context, cfg config, logger *slog.Logger) (*identity, error) {
	s := &identity{store: certstore.Store{Dir: tlsDir}, address: cfg.Address, logger: logger}
	id, err := s.store.Load()
	switch {
	case err == nil:
		logger.Info("certificate kept", "subject", id.Cert.Subject.CommonName, "expires", id.Cert.NotAfter, "ca", pki.Fingerprint(id.CA))
	case !errors.Is(err, certstore.ErrNone):
		return nil, err
	case makesCA(cfg):
		if id, err = s.newCluster(ctx, cfg); err != nil {
			return nil, err
		}
	default:
		if id, err = s.join(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if err := s.use(id); err != nil {
		return nil, err
	}
	if err := s.renewIfDue(); err != nil {
		return nil, err
	}
	s.catchUpCRL(ctx, cfg)
	if err := s.store.LinkForGluster(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(secureAccessFile, nil, 0o644); err != nil {
		return nil, fmt.Errorf("turning on TLS for glusterd: %w", err)
	}
	return s, nil
}

// makesCA reports whether this server makes the CA of a new cluster: the
// first of the cluster's addresses in order does, so that servers started
// at once agree without talking.
func makesCA(cfg config) bool {
	return !slices.ContainsFunc(cfg.Peers, func(p string) bool { return p < cfg.Address })
}

// newCluster makes the CA, unless a peer already has one (this server
// joins an existing cluster then), and this server's certificate.
func (s *identity) newCluster(ctx context.Context, cfg config) (certstore.Identity, error) {
	for _, peer := range cfg.Peers {
		if answer, err := s.peerCA(ctx, cfg, peer); err == nil {
			s.logger.Info("joining the cluster whose CA a peer has", "server", peer, "ca", caFingerprint([]byte(answer.CA)))
			return s.join(ctx, cfg)
		}
	}
	ca, err := pki.NewAuthority(time.Now(), caLifetime)
	if err != nil {
		return certstore.Identity{}, err
	}
	s.logger.Info("cluster CA made", "ca", pki.Fingerprint(ca.Certificate()))
	caKey, err := ca.KeyPEM()
	if err != nil {
		return certstore.Identity{}, err
	}
	crl, err := ca.RevocationList(nil, 1, time.Now(), crlLifetime)
	if err != nil {
		return certstore.Identity{}, err
	}
	id, err := s.issueOwn(ca, certstore.Identity{CAPEM: ca.CertPEM(), CAKeyPEM: caKey, CRLPEM: crl})
	if err != nil {
		return certstore.Identity{}, err
	}
	return s.keep(id)
}

// keep saves id and returns it as the store reads it back: with its
// certificates parsed, which only Load fills in.
func (s *identity) keep(id certstore.Identity) (certstore.Identity, error) {
	if err := s.store.Save(id); err != nil {
		return certstore.Identity{}, err
	}
	return s.store.Load()
}

// issueOwn issues this server a new key's certificate with ca.
func (s *identity) issueOwn(ca *pki.Authority, id certstore.Identity) (certstore.Identity, error) {
	key, csr, err := newRequest("server-" + s.address)
	if err != nil {
		return id, err
	}
	cert, err := ca.Issue(csr, pki.RoleServer, []string{s.address}, time.Now(), serverLifetime)
	if err != nil {
		return id, err
	}
	id.KeyPEM, id.CertPEM = key, cert
	return id, nil
}

// newRequest makes a key and a certificate request for it.
func newRequest(commonName string) (key, csr []byte, err error) {
	if key, err = pki.NewKey(); err != nil {
		return nil, nil, err
	}
	csr, err = pki.NewRequest(key, commonName)
	return key, csr, err
}

// join enrolls this server with whichever peer answers first with the
// cluster's CA, trying until ctx ends.
func (s *identity) join(ctx context.Context, cfg config) (certstore.Identity, error) {
	key, csr, err := newRequest("server-" + s.address)
	if err != nil {
		return certstore.Identity{}, err
	}
	for attempt := range enrollRetry.Attempts(ctx) {
		for _, peer := range cfg.Peers {
			id, err := s.enrollWith(ctx, cfg, peer, csr)
			if err != nil {
				s.logger.Info("waiting for a server with the cluster's CA to enroll with", "server", peer, "attempt", attempt, "error", err)
				continue
			}
			id.KeyPEM = key
			if id, err = s.keep(id); err != nil {
				return certstore.Identity{}, err
			}
			s.logger.Info("enrolled", "server", peer, "ca", pki.Fingerprint(id.CA))
			return id, nil
		}
	}
	return certstore.Identity{}, fmt.Errorf("no peer gave this server a certificate of the cluster (%v): %w", cfg.Peers, ctx.Err())
}

// peerCA asks peer for the cluster's CA and revocation list, which it
// must prove with the token.
func (s *identity) peerCA(ctx context.Context, cfg config, peer string) (control.CAAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, enrollRequestTimeout)
	defer cancel()
	// Unverified on purpose: the answer carries its own proof.
	first := httpsClient(&tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}) //nolint:gosec
	return control.NewClient(peer, cfg.ControlPort, cfg.Token, first).CA(ctx)
}

// enrollWith gets this server's certificate from peer, over a connection
// that verifies peer against the CA it proved.
func (s *identity) enrollWith(ctx context.Context, cfg config, peer string, csr []byte) (certstore.Identity, error) {
	answer, err := s.peerCA(ctx, cfg, peer)
	if err != nil {
		return certstore.Identity{}, err
	}
	ca, err := pki.ParseCertificate([]byte(answer.CA))
	if err != nil {
		return certstore.Identity{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, enrollRequestTimeout)
	defer cancel()
	client := control.NewClient(peer, cfg.ControlPort, cfg.Token, httpsClient(pki.ClientTLS(ca)))
	e, err := client.Enroll(ctx, control.EnrollRequest{CSR: string(csr), Role: control.RoleServer, Address: s.address})
	if err != nil {
		return certstore.Identity{}, err
	}
	return certstore.Identity{CertPEM: []byte(e.Certificate), CAPEM: []byte(e.CA), CAKeyPEM: []byte(e.CAKey), CRLPEM: []byte(e.CRL)}, nil
}

// httpsClient is an HTTP client that speaks TLS with conf.
func httpsClient(conf *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: conf}, Timeout: enrollRequestTimeout}
}

func caFingerprint(caPEM []byte) string {
	ca, err := pki.ParseCertificate(caPEM)
	if err != nil {
		return "unreadable"
	}
	return pki.Fingerprint(ca)
}

// catchUpCRL takes the newest revocation list the peers that answer have:
// this server may have been down when a certificate was revoked. Its
// bricks start after this, so they read the list.
func (s *identity) catchUpCRL(ctx context.Context, cfg config) {
	for _, peer := range cfg.Peers {
		askCtx, cancel := context.WithTimeout(ctx, crlCatchUpTimeout)
		answer, err := s.peerCA(askCtx, cfg, peer)
		cancel()
		if err != nil || answer.CA != string(s.CA()) {
			continue
		}
		if _, err := s.adoptCRL([]byte(answer.CRL)); err != nil {
			s.logger.Warn("a peer's revocation list was refused", "server", peer, "error", err)
		}
	}
}

// use makes id the identity the server presents and issues with.
func (s *identity) use(id certstore.Identity) error {
	if id.CAKeyPEM == nil {
		return fmt.Errorf("%s holds no key of the cluster CA: remove the directory to enroll this server again", tlsDir)
	}
	ca, err := pki.LoadAuthority(id.CAPEM, id.CAKeyPEM)
	if err != nil {
		return err
	}
	pair, err := id.KeyPair()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.id, s.ca, s.keyPair = id, ca, pair
	return nil
}

// renewIfDue gives the server a new certificate once two thirds of the
// current one's life has passed. GlusterFS reads the files for each new
// connection and the control API presents the new one at once.
func (s *identity) renewIfDue() error {
	s.mu.Lock()
	id, ca := s.id, s.ca
	s.mu.Unlock()
	if !pki.RenewalDue(id.Cert, time.Now()) {
		return nil
	}
	renewed, err := s.issueOwn(ca, id)
	if err != nil {
		return fmt.Errorf("renewing this server's certificate: %w", err)
	}
	if renewed, err = s.keep(renewed); err != nil {
		return err
	}
	if err := s.use(renewed); err != nil {
		return err
	}
	s.logger.Info("certificate renewed", "expires", renewed.Cert.NotAfter)
	return nil
}

// renewLoop renews the certificate when due until ctx ends.
func (s *identity) renewLoop(ctx context.Context) {
	periodic.Every(ctx, renewCheck, func(context.Context) {
		if err := s.renewIfDue(); err != nil {
			s.logger.Error("certificate renewal failed; the current one stays in use", "error", err)
		}
	})
}

// certificate is the control API's certificate, the current one.
func (s *identity) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyPair, nil
}

// serverTLS is the control API's TLS configuration.
func (s *identity) serverTLS() *tls.Config {
	return pki.ServerTLS(func() (*tls.Certificate, error) { return s.certificate(nil) })
}

// clientTLS verifies other servers against the cluster's CA.
func (s *identity) clientTLS() *tls.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pki.ClientTLS(s.id.CA)
}

// CA implements control.Enroller.
func (s *identity) CA() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id.CAPEM
}

// CRL implements control.Enroller.
func (s *identity) CRL() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id.CRLPEM
}

// Enroll implements control.Enroller: servers get the CA's key too, so
// that any of them can enroll hosts.
func (s *identity) Enroll(req control.EnrollRequest) (control.Enrollment, error) {
	var hosts []string
	lifetime := clientLifetime
	switch req.Role {
	case control.RoleClient:
		if req.Address != "" {
			return control.Enrollment{}, fmt.Errorf("%w: a client's certificate names no address", control.ErrInvalid)
		}
	case control.RoleServer:
		if err := control.ValidateHost(req.Address); err != nil {
			return control.Enrollment{}, fmt.Errorf("%w: a server's address: %w", control.ErrInvalid, err)
		}
		hosts, lifetime = []string{req.Address}, serverLifetime
	default:
		return control.Enrollment{}, fmt.Errorf("%w: role %q: use %s or %s", control.ErrInvalid, req.Role, control.RoleServer, control.RoleClient)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cert, err := s.ca.Issue([]byte(req.CSR), pki.Role(req.Role), hosts, time.Now(), lifetime)
	if err != nil {
		return control.Enrollment{}, fmt.Errorf("%w: %w", control.ErrInvalid, err)
	}
	e := control.Enrollment{Certificate: string(cert), CA: string(s.id.CAPEM), CRL: string(s.id.CRLPEM)}
	if req.Role == control.RoleServer {
		e.CAKey = string(s.id.CAKeyPEM)
	}
	return e, nil
}
