//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/certstore"
	"github.com/glusterdocker/gluster/names"
	"github.com/glusterdocker/gluster/pki"
	"github.com/glusterdocker/gluster/pki/pkitest"
	"github.com/glusterdocker/gluster/tests/testbed"
)

// tlsOctet is the subnet octet of TestTLS's cluster; TestTrixieTLS's is
// the next.
const tlsOctet = 115

// TestTLS runs a cluster with TLS=on and a plugin that pins its CA, and
// attacks it from the network: what crosses it is encrypted, hosts without
// a certificate of the cluster cannot mount, and a restarted server keeps
// its identity.
func TestTLS(t *testing.T) {
	c := testbed.NewCluster(t, "gte2e-tls", tlsOctet, 2)
	c.UseTLS()
	c.StartAll(t)
	fingerprint := c.CAFingerprint(t)
	c.WaitPool(t, poolTimeout)
	s1 := c.Servers[0]

	// A mount refused for its certificate is retried until the deadline:
	// one below Docker 20.10's 30 s lets the plugin's own error through.
	p := testbed.InstallPlugin(t, c, "gte2e-tls", "CA_FINGERPRINT="+fingerprint, "MOUNT_TIMEOUT=15s")
	volume := "gte2e-tls-data"
	gluster, _ := names.FromDocker(volume)
	var marker string
	t.Run("what crosses the network is encrypted", func(t *testing.T) {
		capture := startCapture(t, c)
		// A size limit too: the servers' quota commands mount the volume
		// themselves, through TLS as every client must.
		testbed.MustDocker(t, "volume", "create", "-d", p.Name, "-o", "replica=2", "-o", "size=64M", volume)
		marker = "contents-in-clear-" + randomHex(t)
		out := runWith(t, volume, fmt.Sprintf("for i in $(seq 200); do echo %s; done > /data/f && sync && cat /data/f | head -1", marker))
		if strings.TrimSpace(out) != marker {
			t.Fatalf("read back %q, want %q", out, marker)
		}
		packets := capture.stop(t)
		for _, secret := range []string{c.Token, marker} {
			if bytes.Contains(packets, []byte(secret)) {
				t.Errorf("the capture of a create, mount and write holds %q in clear", secret)
			}
		}
		if len(packets) < 20<<10 {
			t.Errorf("the capture holds %d bytes: it saw too little to prove anything", len(packets))
		}
	})
	t.Run("plain HTTP is refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s1.Address+":24080/v1/peers", nil)
		req.Header.Set("Authorization", "Bearer "+c.Token)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Errorf("plain HTTP answered %s", resp.Status)
			}
		}
	})
	t.Run("hosts without a certificate of the cluster cannot mount", func(t *testing.T) {
		ca := loadAuthority(t, s1)
		valid := issueClient(t, ca, time.Now(), 24*time.Hour)
		expired := issueClient(t, ca, time.Now().Add(-48*time.Hour), 24*time.Hour)
		foreign := issueClient(t, pkitest.Authority(t), time.Now(), 24*time.Hour)
		foreign.CAPEM = ca.CertPEM() // presents a certificate the cluster's CA did not sign
		for _, tc := range []struct {
			name  string
			files *certstore.Identity
			mount bool
		}{
			{"[Success] a certificate the cluster issued", &valid, true},
			{"[Error] no certificate", nil, false},
			{"[Error] an expired certificate of the cluster", &expired, false},
			{"[Error] another CA's certificate", &foreign, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out, err := rawMount(t, c, gluster, tc.files)
				if tc.mount && (err != nil || !strings.Contains(out, marker)) {
					t.Fatalf("mount with %s failed: %v\n%s", tc.name, err, out)
				}
				if !tc.mount && (err == nil || strings.Contains(out, marker)) {
					t.Fatalf("mount with %s succeeded:\n%s", tc.name, out)
				}
			})
		}
	})
	t.Run("a restarted server keeps its identity", func(t *testing.T) {
		before := s1.TLSIdentity(t)
		s1.Recreate(t)
		c.WaitPool(t, poolTimeout)
		after := s1.TLSIdentity(t)
		if !bytes.Equal(before.CertPEM, after.CertPEM) || !bytes.Equal(before.CAPEM, after.CAPEM) {
			t.Errorf("the server's certificate or CA changed across a restart")
		}
		if got := strings.TrimSpace(runWith(t, volume, "head -1 /data/f")); got != marker {
			t.Errorf("after the restart the volume reads %q, want %q", got, marker)
		}
	})
	t.Run("a revoked certificate is refused", func(t *testing.T) {
		plugin, err := certstore.Store{Dir: filepath.Join(p.StateDir, "tls")}.Load()
		if err != nil {
			t.Fatalf("the plugin's certificate: %v", err)
		}
		serial := plugin.Cert.SerialNumber.Text(16)
		r, err := s1.Client().Revoke(context.Background(), serial)
		if err != nil || len(r.Servers) != len(c.Servers) || len(r.Missed) != 0 {
			t.Fatalf("revoking %s: %+v, %v; want every server to take the list", serial, r, err)
		}
		out, err := testbed.RunContainer(t, volume, "head -1 /data/f")
		if err == nil || strings.Contains(out, marker) {
			t.Fatalf("a container mounted the volume with a revoked certificate:\n%s", out)
		}
		if !strings.Contains(err.Error(), "presented certificate client-") || !strings.Contains(err.Error(), serial) {
			t.Errorf("the refused mount's error does not name the certificate:\n%v", err)
		}
		if out, err := rawMount(t, c, gluster, &plugin); err == nil || strings.Contains(out, marker) {
			t.Errorf("gluster's own client mounted the volume with the revoked certificate:\n%s", out)
		}
	})
	testbed.MustDocker(t, "volume", "rm", volume)
}

// TestTrixieTLS runs TLS on GlusterFS 11 (Debian 13): servers and the
// plugin's client, whose GlusterFS looks for its certificate in another
// directory than 10's.
func TestTrixieTLS(t *testing.T) {
	rootfs11 := testbed.BuildTrixie(t)
	c := testbed.NewCluster(t, "gte2e-tls-trx", tlsOctet+1, 2)
	for _, s := range c.Servers {
		s.Image = testbed.ServerImageTrixie
	}
	c.UseTLS()
	c.StartAll(t)
	fingerprint := c.CAFingerprint(t)
	c.WaitPool(t, poolTimeout)
	assertServerVersions(t, c, "11.")
	p := testbed.InstallPluginFrom(t, c, "gte2e-tls-trx", rootfs11, "CA_FINGERPRINT="+fingerprint)
	volume := "gte2e-tls-trx-data"
	testbed.MustDocker(t, "volume", "create", "-d", p.Name, "-o", "replica=2", volume)
	defer testbed.MustDocker(t, "volume", "rm", volume)
	marker := "written-over-tls-" + randomHex(t)
	if got := strings.TrimSpace(runWith(t, volume, "echo "+marker+" > /data/f && cat /data/f")); got != marker {
		t.Fatalf("read back %q, want %q", got, marker)
	}
	gluster, _ := names.FromDocker(volume)
	if out, err := rawMount(t, c, gluster, nil); err == nil || strings.Contains(out, marker) {
		t.Errorf("a host without a certificate mounted the volume:\n%s", out)
	}
}

// runWith runs script in a container with volume at /data.
func runWith(t *testing.T, volume, script string) string {
	t.Helper()
	out, err := testbed.RunContainer(t, volume, script)
	if err != nil {
		t.Fatalf("container on %s: %v\n%s", volume, err, out)
	}
	return out
}

func randomHex(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// loadAuthority reads the cluster CA with its key from a server's state,
// as an attacker who stole it could not, to forge what a test needs.
func loadAuthority(t *testing.T, s *testbed.Server) *pki.Authority {
	t.Helper()
	id := s.TLSIdentity(t)
	ca, err := pki.LoadAuthority(id.CAPEM, id.CAKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// issueClient issues a client certificate of ca, issued at issued for
// lifetime.
func issueClient(t *testing.T, ca *pki.Authority, issued time.Time, lifetime time.Duration) certstore.Identity {
	t.Helper()
	key, cert := pkitest.Issue(t, ca, pki.RoleClient, nil, issued, lifetime)
	return certstore.Identity{KeyPEM: key, CertPEM: cert, CAPEM: ca.CertPEM()}
}

// rawMount mounts the gluster volume with gluster's own client from a
// container on the servers' network, as a host with the right addresses
// would, presenting files (none if nil), and reads the file the test
// wrote.
func rawMount(t *testing.T, c *testbed.Cluster, gluster string, files *certstore.Identity) (string, error) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"run", "--rm", "--label", "gluster-testbed=" + c.Name, "--network", c.Network,
		"--cap-add", "SYS_ADMIN", "--device", "/dev/fuse", "--entrypoint", "sh"}
	setup := "mkdir -p /var/lib/glusterd && touch /var/lib/glusterd/secure-access"
	if files != nil {
		for name, data := range map[string][]byte{"glusterfs.pem": files.CertPEM, "glusterfs.key": files.KeyPEM, "glusterfs.ca": files.CAPEM} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		args = append(args, "-v", dir+":/tls:ro")
		for _, dir := range certstore.GlusterSSLDirs {
			setup += " && cp /tls/* " + dir + "/"
		}
	}
	script := setup + " && mkdir /m && timeout 60 mount -t glusterfs " + c.Servers[0].Address + ":/" + gluster + " /m && head -1 /m/f"
	return testbed.Docker(context.Background(), append(args, testbed.ServerImage, "-c", script)...)
}

// capture is a packet capture on the servers' bridge.
type capture struct {
	cmd  *exec.Cmd
	file string
}

// startCapture captures every packet on the cluster's bridge network, the
// path between the plugin (on the host's network) and the servers.
func startCapture(t *testing.T, c *testbed.Cluster) *capture {
	t.Helper()
	id := strings.TrimSpace(testbed.MustDocker(t, "network", "inspect", "-f", "{{.Id}}", c.Network))
	cp := &capture{file: filepath.Join(t.TempDir(), "capture.pcap")}
	cp.cmd = exec.Command("tcpdump", "-i", "br-"+id[:12], "-U", "-s", "0", "-w", cp.file)
	if err := cp.cmd.Start(); err != nil {
		t.Fatalf("starting tcpdump: %v", err)
	}
	t.Cleanup(func() { _ = cp.cmd.Process.Kill() })
	// tcpdump opens its file once it listens.
	testbed.Eventually(t, 10*time.Second, "tcpdump listening", func() error {
		_, err := os.Stat(cp.file)
		return err
	})
	return cp
}

// stop ends the capture and returns what it saw.
func (cp *capture) stop(t *testing.T) []byte {
	t.Helper()
	_ = cp.cmd.Process.Signal(os.Interrupt)
	_ = cp.cmd.Wait()
	data, err := os.ReadFile(cp.file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
