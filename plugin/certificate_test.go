package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/certstore"
	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/pki"
	"github.com/glusterdocker/gluster/pki/pkitest"
)

var discardLogs = slog.New(slog.NewTextHandler(io.Discard, nil))

// testClientLifetime is what the test servers give clients: the servers'
// own, a month.
const testClientLifetime = 30 * 24 * time.Hour

// testEnroller issues client certificates of ca, answering answerCA as
// the CA (ca's own but when set).
type testEnroller struct {
	ca       *pki.Authority
	answerCA []byte
}

func (e testEnroller) CA() []byte { return e.ca.CertPEM() }

func (e testEnroller) CRL() []byte { return nil }

func (e testEnroller) Revoke(context.Context, string) (control.Revocation, error) {
	return control.Revocation{}, errors.New("not in this test")
}

func (e testEnroller) AdoptCRL(context.Context, []byte) error { return errors.New("not in this test") }

func (e testEnroller) Enroll(req control.EnrollRequest) (control.Enrollment, error) {
	cert, err := e.ca.Issue([]byte(req.CSR), pki.Role(req.Role), nil, time.Now(), testClientLifetime)
	if err != nil {
		return control.Enrollment{}, err
	}
	caPEM := e.ca.CertPEM()
	if e.answerCA != nil {
		caPEM = e.answerCA
	}
	return control.Enrollment{Certificate: string(cert), CA: string(caPEM)}, nil
}

func newAuthority(t *testing.T) *pki.Authority {
	t.Helper()
	ca, err := pki.NewAuthority(time.Now().Add(-365*24*time.Hour), 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// serveEnrollment serves e's enrollment API over TLS on 127.0.0.1 with a
// server certificate of e.ca, counting the certificates asked for.
func serveEnrollment(t *testing.T, e testEnroller, requests *atomic.Int32) *httptest.Server {
	t.Helper()
	pair := pkitest.KeyPair(t, e.ca, pki.RoleServer, []string{"127.0.0.1"})
	svc := control.NewService("127.0.0.1", t.TempDir(), nil, nil, discardLogs)
	api := control.NewHandler(svc, tok, discardLogs, control.WithEnroller(e))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/certificates" {
			requests.Add(1)
		}
		api.ServeHTTP(w, r)
	}))
	srv.Listener = tls.NewListener(srv.Listener, pki.ServerTLS(func() (*tls.Certificate, error) { return &pair, nil }))
	// Handshakes the pinned clients refuse are expected here.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func pinOf(ca *pki.Authority) []byte {
	sum := sha256.Sum256(ca.Certificate().Raw)
	return sum[:]
}

func TestHostCertificateEnsure(t *testing.T) {
	ca, other := newAuthority(t), newAuthority(t)
	now := time.Now()
	tests := []struct {
		name     string
		stored   *pki.Authority // the CA of the certificate stored beforehand, nil for none
		issued   time.Time      // when the stored one was issued
		down     bool           // no server answers
		pin      *pki.Authority // the CA CA_FINGERPRINT names
		answerCA []byte         // the CA the enrollment answer names, ca's but when set
		ensures  int
		requests int32
		renewed  bool   // the store holds a new certificate afterwards
		err      string // what the error says, "" for none
	}{
		{"[Success] the first call enrolls", nil, now, false, ca, nil, 1, 1, true, ""},
		{"[Success] a second call does nothing", nil, now, false, ca, nil, 2, 1, true, ""},
		{"[Success] a current certificate is kept", ca, now, false, ca, nil, 1, 0, false, ""},
		{"[Success] a certificate due for renewal is renewed", ca, now.Add(-testClientLifetime * 3 / 4), false, ca, nil, 1, 1, true, ""},
		{"[Success] an expired certificate is replaced", ca, now.Add(-2 * testClientLifetime), false, ca, nil, 1, 1, true, ""},
		{"[Success] a certificate of another CA is replaced", other, now, false, ca, nil, 1, 1, true, ""},
		{"[Success] a due certificate stays in use while no server answers", ca, now.Add(-testClientLifetime * 3 / 4), true, ca, nil, 1, 0, false, ""},
		{"[Error] no certificate and no server", nil, now, true, ca, nil, 1, 0, false, "this host has no certificate of the cluster"},
		{"[Error] an expired certificate and no server", ca, now.Add(-2 * testClientLifetime), true, ca, nil, 1, 0, false, "this host has no certificate of the cluster"},
		{"[Error] servers of another CA than the pinned one", nil, now, false, other, nil, 1, 0, false, "fingerprint"},
		{"[Error] an enrollment naming another CA than the pinned one", nil, now, false, ca, other.CertPEM(), 1, 1, false, "CA_FINGERPRINT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := serveEnrollment(t, testEnroller{ca: ca, answerCA: tc.answerCA}, &requests)
			port := srv.Listener.Addr().(*net.TCPAddr).Port
			if tc.down {
				srv.Close()
			}
			dir := filepath.Join(t.TempDir(), "certificate")
			var before certstore.Identity
			if tc.stored != nil {
				key, cert := pkitest.Issue(t, tc.stored, pki.RoleClient, nil, tc.issued, testClientLifetime)
				if err := (certstore.Store{Dir: dir}).Save(certstore.Identity{KeyPEM: key, CertPEM: cert, CAPEM: tc.stored.CertPEM()}); err != nil {
					t.Fatal(err)
				}
				before, _ = certstore.Store{Dir: dir}.Load()
			}
			cluster := control.NewCluster([]string{"127.0.0.1"}, port, tok, pki.PinnedTLS(pinOf(tc.pin)))
			h := newHostCertificate(dir, cluster, pinOf(tc.pin), discardLogs)
			var err error
			for range tc.ensures {
				if err = h.ensure(context.Background()); err != nil {
					break
				}
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("ensure: err = %v, want one saying %q", err, tc.err)
			}
			if got := requests.Load(); got != tc.requests {
				t.Errorf("%d certificates asked for, want %d", got, tc.requests)
			}
			after, loadErr := certstore.Store{Dir: dir}.Load()
			_, accessErr := os.Stat(filepath.Join(dir, secureAccessFile))
			switch {
			case tc.renewed:
				if loadErr != nil || !after.CA.Equal(ca.Certificate()) || before.Cert != nil && after.Cert.Equal(before.Cert) {
					t.Errorf("store after ensure: %v, %v; want a new certificate of the cluster CA", after.Cert, loadErr)
				} else if pki.RenewalDue(after.Cert, time.Now()) {
					t.Errorf("the new certificate is due for renewal")
				}
				if accessErr != nil {
					t.Errorf("no %s after enrolling: %v", secureAccessFile, accessErr)
				}
			case tc.stored != nil:
				if loadErr != nil || !after.Cert.Equal(before.Cert) {
					t.Errorf("store after ensure: %v, %v; want the certificate kept", after.Cert, loadErr)
				}
				if err == nil && accessErr != nil {
					t.Errorf("no %s with a kept certificate (a plugin run without CA_FINGERPRINT removed it): %v", secureAccessFile, accessErr)
				}
			default:
				if !errors.Is(loadErr, certstore.ErrNone) {
					t.Errorf("a failed enrollment stored a certificate: %v", loadErr)
				}
				if !errors.Is(accessErr, os.ErrNotExist) {
					t.Errorf("a failed enrollment turned TLS on: %v", accessErr)
				}
			}
		})
	}
}

func TestTurnOffTLS(t *testing.T) {
	tests := []struct {
		name   string
		before bool // the secure-access file exists
	}{
		{"[Success] the file is removed", true},
		{"[Success] no file is fine", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, secureAccessFile)
			if tc.before {
				if err := os.WriteFile(file, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := turnOffTLS(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s still there: %v", secureAccessFile, err)
			}
		})
	}
}

func TestClientName(t *testing.T) {
	tests := []struct {
		name string
		host string
		err  error
		want string
	}{
		{"[Success] a plain host name", "node1", nil, "client-node1"},
		{"[Success] a fully qualified name", "node-1.example.com", nil, "client-node-1.example.com"},
		{"[Success] underscores become dashes", "my_host", nil, "client-my-host"},
		{"[Success] spaces and shell characters become dashes", "a b;c$(d)", nil, "client-a-b-c--d-"},
		{"[Success] non-ASCII letters become dashes", "höst", nil, "client-h-st"},
		{"[Error] a name too long for a certificate", strings.Repeat("h", 64), nil, "client"},
		{"[Error] no host name", "", errors.New("no name"), "client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := clientName(func() (string, error) { return tc.host, tc.err })
			if got != tc.want {
				t.Errorf("clientName(%q) = %q, want %q", tc.host, got, tc.want)
			}
			if err := pki.ValidName(got); err != nil {
				t.Errorf("clientName(%q) = %q, which a certificate cannot carry: %v", tc.host, got, err)
			}
		})
	}
}

func TestCAPin(t *testing.T) {
	ca := newAuthority(t)
	tests := []struct {
		name        string
		fingerprint string
		want        []byte
		err         string
	}{
		{"[Success] no fingerprint: no TLS", "", nil, ""},
		{"[Success] the CA's fingerprint", pki.Fingerprint(ca.Certificate()), pinOf(ca), ""},
		{"[Error] not a fingerprint", "sha256:1234", nil, "CA_FINGERPRINT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config{CAFingerprint: tc.fingerprint}.caPin()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("caPin: err = %v, want one naming %q", err, tc.err)
			}
			if string(got) != string(tc.want) || (tc.want == nil) != (got == nil) {
				t.Errorf("caPin = %x, want %x", got, tc.want)
			}
		})
	}
}

// TestHostCertificateInMemory: mounts and probes ask for the certificate
// all the time; after the first, neither the store nor the servers are
// asked again while it is current.
func TestHostCertificateInMemory(t *testing.T) {
	ca := newAuthority(t)
	var requests atomic.Int32
	srv := serveEnrollment(t, testEnroller{ca: ca}, &requests)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	dir := filepath.Join(t.TempDir(), "certificate")
	cluster := control.NewCluster([]string{"127.0.0.1"}, port, tok, pki.PinnedTLS(pinOf(ca)))
	h := newHostCertificate(dir, cluster, pinOf(ca), discardLogs)
	if _, err := h.glusterTLS(); err == nil {
		t.Error("glusterTLS gave a configuration before the host had a certificate")
	}
	if err := h.ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := h.ensure(context.Background()); err != nil {
			t.Fatalf("ensure read the store again: %v", err)
		}
	}
	conf, err := h.glusterTLS()
	if err != nil || len(conf.Certificates) != 1 {
		t.Fatalf("glusterTLS = %v, %v; want the host's certificate", conf, err)
	}
	if got := requests.Load(); got != 1 {
		t.Errorf("%d certificates asked for, want 1", got)
	}
}
