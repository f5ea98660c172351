//go:build e2e

package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// TestPluginSocketActivation runs the plugin as systemd would for a legacy
// plugin: systemd-socket-activate holds the socket and passes it on, and the
// plugin reports readiness and stopping on NOTIFY_SOCKET.
func TestPluginSocketActivation(t *testing.T) {
	if _, err := exec.LookPath("systemd-socket-activate"); err != nil {
		t.Fatal("systemd-socket-activate is not installed: install the systemd package (tests/setup.sh does)")
	}
	dir := t.TempDir()
	binary := filepath.Join(dir, "gluster-plugin")
	testbed.MustRun(t, "go", "build", "-o", binary, "../../plugin")

	notifyPath := filepath.Join(dir, "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()

	socket := filepath.Join(dir, "gluster.sock")
	cmd := exec.Command("systemd-socket-activate", "--listen="+socket,
		"--setenv=NOTIFY_SOCKET="+notifyPath,
		"--setenv=SERVERS=127.0.0.1",
		"--setenv=TOKEN=activation-test-token",
		"--setenv=STATE_DIR="+filepath.Join(dir, "state"),
		"--setenv=MOUNT_ROOT="+filepath.Join(dir, "mnt"),
		binary)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}, Timeout: 30 * time.Second}
	call := func(method string) string {
		t.Helper()
		var body string
		testbed.Eventually(t, 30*time.Second, method+" answered on the activated socket", func() error {
			resp, err := client.Post("http://plugin/"+method, "application/vnd.docker.plugins.v1+json", strings.NewReader("{}"))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			body = string(data)
			return nil
		})
		return body
	}
	if got := call("Plugin.Activate"); !strings.Contains(got, `"VolumeDriver"`) {
		t.Errorf("Plugin.Activate = %s", got)
	}
	if got := call("VolumeDriver.Capabilities"); !strings.Contains(got, `"global"`) {
		t.Errorf("VolumeDriver.Capabilities = %s", got)
	}

	expect := func(want string) {
		t.Helper()
		buf := make([]byte, 512)
		notify.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			n, err := notify.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %s on NOTIFY_SOCKET: %v", want, err)
			}
			if strings.Contains(string(buf[:n]), want) {
				return
			}
		}
	}
	expect("READY=1")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expect("STOPPING=1")
	if err := cmd.Wait(); err != nil {
		t.Errorf("plugin exit: %v", err)
	}
}
