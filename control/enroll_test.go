package control

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/glusterdocker/gluster/pki"
	"github.com/glusterdocker/gluster/pki/pkitest"
)

// fakeEnroller answers the enrollment API with fixed answers and counts
// the certificates asked for.
type fakeEnroller struct {
	ca      []byte
	crl     []byte
	answer  Enrollment
	err     error
	calls   atomic.Int32
	revoked []string
	adopted [][]byte
}

func (f *fakeEnroller) CA() []byte { return f.ca }

func (f *fakeEnroller) CRL() []byte { return f.crl }

func (f *fakeEnroller) Revoke(_ context.Context, serial string) (Revocation, error) {
	f.revoked = append(f.revoked, serial)
	return Revocation{Serial: serial, Servers: []string{"10.0.0.1"}}, f.err
}

func (f *fakeEnroller) AdoptCRL(_ context.Context, crl []byte) error {
	f.adopted = append(f.adopted, crl)
	return f.err
}

func (f *fakeEnroller) Enroll(EnrollRequest) (Enrollment, error) {
	f.calls.Add(1)
	return f.answer, f.err
}

// newEnrollServer serves the control API with e as its enroller over plain
// HTTP.
func newEnrollServer(t *testing.T, e Enroller) string {
	t.Helper()
	svc := NewService("10.0.0.1", t.TempDir(), newFakeGluster("10.0.0.1"), newFakePeers(), discard)
	srv := httptest.NewServer(NewHandler(svc, token, discard, WithEnroller(e)))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClientCA(t *testing.T) {
	ca := pkitest.Authority(t)
	tests := []struct {
		name        string
		ca          []byte // what the server holds
		clientToken string
		err         error
	}{
		{"[Success] the CA with a proof the token holder accepts", ca.CertPEM(), token, nil},
		{"[Error] a client with another token finds no proof", ca.CertPEM(), "other", errNoProof},
		{"[Error] a server without a CA yet is unavailable", nil, token, ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			host, port := splitURL(t, newEnrollServer(t, &fakeEnroller{ca: tc.ca, crl: []byte("the list")}))
			got, err := NewClient(host, port, tc.clientToken, nil).CA(context.Background())
			if !errors.Is(err, tc.err) {
				t.Fatalf("CA: err = %v, want %v", err, tc.err)
			}
			if err == nil && (got.CA != string(tc.ca) || got.CRL != "the list") {
				t.Errorf("CA = %+v, want the server's CA and revocation list", got)
			}
		})
	}
}

func TestCAWithoutToken(t *testing.T) {
	ca := pkitest.Authority(t)
	url := newEnrollServer(t, &fakeEnroller{ca: ca.CertPEM()})
	nonce := strings.Repeat("ab", nonceLength)
	tests := []struct {
		name  string
		query string
		code  int
	}{
		{"[Success] a nonce of the right length", "?nonce=" + nonce, http.StatusOK},
		{"[Error] no nonce", "", http.StatusBadRequest},
		{"[Error] a nonce that is not hex", "?nonce=" + strings.Repeat("zz", nonceLength), http.StatusBadRequest},
		{"[Error] a short nonce", "?nonce=" + nonce[2:], http.StatusBadRequest},
		{"[Error] a long nonce", "?nonce=" + nonce + "ab", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(url + "/v1/ca" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.code)
			}
		})
	}
}

func TestCAProof(t *testing.T) {
	ca := pkitest.Authority(t)
	host, port := splitURL(t, newEnrollServer(t, &fakeEnroller{ca: ca.CertPEM()}))
	nonce := make([]byte, nonceLength)
	var answer CAAnswer
	// A client without the token asks: the answer still comes, with a
	// proof only the token checks.
	client := NewClient(host, port, "", nil)
	if err := client.do(context.Background(), http.MethodGet, "/v1/ca?nonce="+hex.EncodeToString(nonce), nil, &answer); err != nil {
		t.Fatal(err)
	}
	proof, err := hex.DecodeString(answer.Proof)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{"[Success] the token checks the proof", token, true},
		{"[Error] another token does not", token + "x", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pki.CheckProof(tc.token, nonce, ca.Certificate().Raw, proof); got != tc.want {
				t.Errorf("CheckProof = %t, want %t", got, tc.want)
			}
		})
	}
}

func TestEnrollRoute(t *testing.T) {
	want := Enrollment{Certificate: "cert", CA: "ca", CRL: "crl"}
	tests := []struct {
		name     string
		enroller bool
		method   string
		path     string
		auth     string
		body     string
		code     int
		calls    int32
	}{
		{"[Success] with the token, the enroller answers", true, http.MethodPost, "/v1/certificates", "Bearer " + token, `{"csr":"x","role":"client"}`, http.StatusOK, 1},
		{"[Error] without the token", true, http.MethodPost, "/v1/certificates", "", `{"csr":"x","role":"client"}`, http.StatusUnauthorized, 0},
		{"[Error] with a wrong token", true, http.MethodPost, "/v1/certificates", "Bearer guess", `{"csr":"x","role":"client"}`, http.StatusUnauthorized, 0},
		{"[Error] an unknown field", true, http.MethodPost, "/v1/certificates", "Bearer " + token, `{"csr":"x","role":"client","ca_key":"k"}`, http.StatusBadRequest, 0},
		{"[Error] no enroller: no certificates with the token", false, http.MethodPost, "/v1/certificates", "Bearer " + token, `{}`, http.StatusNotFound, 0},
		{"[Error] no enroller: no certificates without the token", false, http.MethodPost, "/v1/certificates", "", `{}`, http.StatusUnauthorized, 0},
		{"[Error] no enroller: no CA with the token", false, http.MethodGet, "/v1/ca?nonce=" + strings.Repeat("ab", nonceLength), "Bearer " + token, "", http.StatusNotFound, 0},
		{"[Error] no enroller: no CA without the token", false, http.MethodGet, "/v1/ca?nonce=" + strings.Repeat("ab", nonceLength), "", "", http.StatusUnauthorized, 0},
		{"[Error] the enroller does not open other routes", true, http.MethodGet, "/v1/peers", "", "", http.StatusUnauthorized, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &fakeEnroller{ca: pkitest.Authority(t).CertPEM(), answer: want}
			var opts []HandlerOption
			if tc.enroller {
				opts = append(opts, WithEnroller(e))
			}
			svc := NewService("10.0.0.1", t.TempDir(), newFakeGluster("10.0.0.1"), newFakePeers(), discard)
			h := NewHandler(svc, token, discard, opts...)
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if got := e.calls.Load(); got != tc.calls {
				t.Errorf("enroller called %d times, want %d", got, tc.calls)
			}
		})
	}
}

func TestClientEnroll(t *testing.T) {
	want := Enrollment{Certificate: "cert", CA: "ca", CAKey: "key", CRL: "crl"}
	tests := []struct {
		name  string
		token string
		err   error
		want  Enrollment
	}{
		{"[Success] the enroller's answer", token, nil, want},
		{"[Error] a refused request", token, ErrInvalid, Enrollment{}},
		{"[Error] a wrong token", "guess", ErrUnauthorized, Enrollment{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &fakeEnroller{answer: want}
			if tc.err == ErrInvalid {
				e.answer, e.err = Enrollment{}, ErrInvalid
			}
			host, port := splitURL(t, newEnrollServer(t, e))
			got, err := NewClient(host, port, tc.token, nil).Enroll(context.Background(), EnrollRequest{CSR: "x", Role: RoleClient})
			if !errors.Is(err, tc.err) {
				t.Fatalf("Enroll: err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("Enroll = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// newTLSEnrollServer serves the control API over TLS with a certificate of
// ca for 127.0.0.1.
func newTLSEnrollServer(t *testing.T, ca *pki.Authority, e Enroller) (string, int) {
	t.Helper()
	pair := pkitest.KeyPair(t, ca, pki.RoleServer, []string{"127.0.0.1"})
	svc := NewService("10.0.0.1", t.TempDir(), newFakeGluster("10.0.0.1"), newFakePeers(), discard)
	srv := httptest.NewUnstartedServer(NewHandler(svc, token, discard, WithEnroller(e)))
	srv.TLS = pki.ServerTLS(func() (*tls.Certificate, error) { return &pair, nil })
	// httptest puts its own certificate in Certificates when there is
	// none, which Go prefers to GetCertificate for clients that send no
	// server name, as clients dialing an IP address do.
	srv.TLS.Certificates = []tls.Certificate{pair}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return splitURL(t, srv.URL)
}

func TestClientOverTLS(t *testing.T) {
	ca := pkitest.Authority(t)
	other := pkitest.Authority(t)
	host, port := newTLSEnrollServer(t, ca, &fakeEnroller{ca: ca.CertPEM(), answer: Enrollment{Certificate: "cert"}})
	tests := []struct {
		name string
		hc   *http.Client
		ok   bool
	}{
		{"[Success] a client trusting the cluster CA", &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(ca.Certificate())}}, true},
		{"[Success] a client pinning the cluster CA", &http.Client{Transport: &http.Transport{TLSClientConfig: pki.PinnedTLS(pinOf(ca))}}, true},
		{"[Error] a plain HTTP client", nil, false},
		{"[Error] a client trusting another CA", &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(other.Certificate())}}, false},
		{"[Error] a client pinning another CA", &http.Client{Transport: &http.Transport{TLSClientConfig: pki.PinnedTLS(pinOf(other))}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := NewClient(host, port, token, tc.hc)
			if got := strings.HasPrefix(client.base, "https://"); got != (tc.hc != nil) {
				t.Errorf("base %s: https %t, want %t", client.base, got, tc.hc != nil)
			}
			ctx := context.Background()
			_, caErr := client.CA(ctx)
			e, enrollErr := client.Enroll(ctx, EnrollRequest{CSR: "x", Role: RoleClient})
			if tc.ok && (caErr != nil || enrollErr != nil || e.Certificate != "cert") {
				t.Errorf("CA: %v; Enroll = %+v, %v; want both to work", caErr, e, enrollErr)
			}
			if !tc.ok && (caErr == nil || enrollErr == nil) {
				t.Errorf("CA: %v; Enroll: %v; want both to fail", caErr, enrollErr)
			}
		})
	}
}

func TestCreateWithVolumeTLS(t *testing.T) {
	const crlDir = "/var/lib/glusterd/cluster-tls/crl"
	extra, err := NewOptionPolicy([]string{"client.ssl", "ssl.crl-path"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		policy  *OptionPolicy
		options map[string]string
		err     error
	}{
		{"[Success] every volume serves TLS", nil, nil, nil},
		{"[Success] with the caller's options", nil, map[string]string{"performance.cache-size": "64MB"}, nil},
		{"[Success] options a server allows callers do not turn TLS off", &extra, map[string]string{"client.ssl": "off", "ssl.crl-path": "/tmp"}, nil},
		{"[Error] the default policy refuses client.ssl", nil, map[string]string{"client.ssl": "off"}, ErrInvalid},
		{"[Error] the default policy refuses server.ssl", nil, map[string]string{"server.ssl": "off"}, ErrInvalid},
		{"[Error] the default policy refuses ssl.*", nil, map[string]string{"ssl.crl-path": "/tmp"}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gluster := newFakeGluster("10.0.0.1", "10.0.0.2")
			opts := []ServiceOption{WithVolumeTLS(crlDir), WithFUSEDevice(fuseDevice(t))}
			if tc.policy != nil {
				opts = append(opts, WithOptionPolicy(*tc.policy))
			}
			svc := NewService("10.0.0.1", t.TempDir(), gluster, newFakePeers(), discard, opts...)
			vol, _, err := svc.Create(context.Background(), CreateRequest{Name: "v", Options: tc.options})
			if !errors.Is(err, tc.err) {
				t.Fatalf("Create: err = %v, want %v", err, tc.err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "may not be set") {
					t.Errorf("Create: err = %v, want the option policy's refusal", err)
				}
				if len(gluster.vols) != 0 {
					t.Errorf("a refused create left volumes: %v", gluster.vols)
				}
				return
			}
			want := map[string]string{"client.ssl": "on", "server.ssl": "on", "ssl.crl-path": crlDir}
			for k, v := range want {
				if got := gluster.vols["v"].Options[k]; got != v {
					t.Errorf("option %s = %q, want %q", k, got, v)
				}
				if got := vol.Options[k]; got != v {
					t.Errorf("answered option %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// pinOf is ca's fingerprint as CA_FINGERPRINT gives it.
func pinOf(ca *pki.Authority) []byte {
	sum := sha256.Sum256(ca.Certificate().Raw)
	return sum[:]
}

// fuseDevice is a file standing for the FUSE device that creates check.
func fuseDevice(t *testing.T) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "fuse")
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestRevocationRoutes(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		call    func(c *Client) error
		err     error
		revoked []string
		adopted int
	}{
		{"[Success] revoke with the token", token, func(c *Client) error {
			r, err := c.Revoke(context.Background(), "1f")
			if err == nil && (r.Serial != "1f" || len(r.Servers) != 1) {
				return fmt.Errorf("answer %+v", r)
			}
			return err
		}, nil, []string{"1f"}, 0},
		{"[Error] revoke without the token", "guess", func(c *Client) error {
			_, err := c.Revoke(context.Background(), "1f")
			return err
		}, ErrUnauthorized, nil, 0},
		{"[Success] a revocation list handed over with the token", token, func(c *Client) error {
			return c.AdoptCRL(context.Background(), "list")
		}, nil, nil, 1},
		{"[Error] a revocation list without the token", "guess", func(c *Client) error {
			return c.AdoptCRL(context.Background(), "list")
		}, ErrUnauthorized, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &fakeEnroller{}
			host, port := splitURL(t, newEnrollServer(t, e))
			if err := tc.call(NewClient(host, port, tc.token, nil)); !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !slices.Equal(e.revoked, tc.revoked) || len(e.adopted) != tc.adopted {
				t.Errorf("revoked %v and adopted %d lists, want %v and %d", e.revoked, len(e.adopted), tc.revoked, tc.adopted)
			}
		})
	}
}
