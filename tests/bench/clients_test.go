//go:build bench

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"

	"github.com/glusterdocker/gluster/tests/testbed"
)

// mountLimit bounds every baseline mount: a naive client with the first
// server freshly stopped takes about 55 s.
const mountLimit = 3 * time.Minute

// clientGoneTimeout is how long a FUSE client may take to exit after its
// unmount.
const clientGoneTimeout = 30 * time.Second

// timed runs f and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// rawMount mounts volume from server on dir with the host's gluster client,
// as a host without the plugin would, and checks that it really mounted:
// mount.glusterfs can exit 0 having mounted nothing.
func rawMount(ctx context.Context, server, volume, dir string, options ...string) error {
	args := []string{"-t", "glusterfs"}
	if len(options) > 0 {
		args = append(args, "-o", strings.Join(options, ","))
	}
	args = append(args, server+":/"+volume, dir)
	if _, err := testbed.Run(ctx, "mount", args...); err != nil {
		return err
	}
	mounted, err := isMounted(dir)
	if err != nil {
		return err
	}
	if !mounted {
		return fmt.Errorf("mount -t glusterfs %s:/%s %s exited 0 but nothing is mounted there", server, volume, dir)
	}
	return nil
}

// naiveMount is the plain gluster client: the first server for the volume
// file, the others as backups, in the order given.
func naiveMount(ctx context.Context, servers []string, volume, dir string) error {
	return rawMount(ctx, servers[0], volume, dir, "backup-volfile-servers="+strings.Join(servers[1:], ":"))
}

// tutorialMount is the client of the well-known GlusterFS + Docker
// tutorial: ping each peer in turn (`ping -c 10`) and mount from the first
// that answers.
func tutorialMount(ctx context.Context, servers []string, volume, dir string, pings int) error {
	var errs []error
	for _, s := range servers {
		if _, err := testbed.Run(ctx, "ping", "-c", strconv.Itoa(pings), s); err != nil {
			errs = append(errs, err)
			continue
		}
		return rawMount(ctx, s, volume, dir)
	}
	return fmt.Errorf("no peer answered: %w", errors.Join(errs...))
}

// isMounted reports whether a gluster FUSE mount is at dir.
func isMounted(dir string) (bool, error) {
	mounts, err := testbed.HostMounts("fuse.glusterfs")
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(mounts, func(m *mountinfo.Info) bool { return m.Mountpoint == dir }), nil
}

// unmount unmounts a raw mount and waits until no FUSE client of volume is
// left on the host, so that the next measurement starts from nothing. A
// client whose server died just before may linger for its TCP timeout after
// the unmount; once its mount is gone it serves nothing, and it is ended.
// Only raw mounts of volume may exist when this is called: every client of
// it is one of ours.
func unmount(t testing.TB, dir, volume string) {
	t.Helper()
	pids := testbed.FUSEClientPIDs(volume)
	testbed.MustRun(t, "umount", dir)
	if testbed.Poll(lingerTimeout, func() error { return clientsLeft(volume) }) == nil {
		return
	}
	for _, pid := range pids {
		if slices.Contains(testbed.FUSEClientPIDs(volume), pid) {
			t.Logf("ending FUSE client %d of %s, still running %s after its unmount", pid, volume, lingerTimeout)
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	waitNoClient(t, volume)
}

// lingerTimeout is how long an unmounted client may take to exit by itself.
const lingerTimeout = 10 * time.Second

func clientsLeft(volume string) error {
	if n := testbed.FUSEClients(volume); n != 0 {
		return fmt.Errorf("%d FUSE clients", n)
	}
	return nil
}

// waitNoClient waits until no gluster FUSE client of volume runs on the host.
func waitNoClient(t testing.TB, volume string) {
	t.Helper()
	testbed.Eventually(t, clientGoneTimeout, "FUSE clients of "+volume+" gone", func() error { return clientsLeft(volume) })
}

// mountDir is an empty directory for raw mounts that is unmounted, if still
// mounted, and removed when the test ends.
func mountDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gbench-mnt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if mounted, err := isMounted(dir); err != nil {
			t.Error(err)
		} else if mounted {
			_, _ = testbed.Run(context.Background(), "umount", dir)
		}
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing mount directory: %v", err)
		}
	})
	return dir
}

// forgetAddress makes the host forget a stopped server's link-layer
// address, as it does by itself some time after the server went away. The
// state just after a stop, when the host still sends to the old address
// and waits for TCP to time out, is "fresh"; this one is "steady".
func forgetAddress(t testing.TB, address string) {
	t.Helper()
	testbed.MustRun(t, "ip", "neigh", "flush", "to", address)
}

// pluginAPI talks to a managed plugin's socket directly, as Docker does.
type pluginAPI struct {
	http *http.Client
}

func newPluginAPI(t testing.TB, p *testbed.Plugin) *pluginAPI {
	t.Helper()
	socket := filepath.Join("/run/docker/plugins", p.ID(t), "gluster.sock")
	return &pluginAPI{http: &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}},
	}}
}

// call posts a request of Docker's volume plugin protocol, such as
// VolumeDriver.List, and decodes the answer into out unless it is nil.
func (a *pluginAPI) call(ctx context.Context, method string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://plugin/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.docker.plugins.v1+json")
	req.Header.Set("Content-Type", "application/vnd.docker.plugins.v1+json")
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading answer: %w", method, err)
	}
	var e struct{ Err string }
	if json.Unmarshal(data, &e) == nil && e.Err != "" {
		return fmt.Errorf("%s: %s", method, e.Err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", method, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decoding %s: %w", method, data, err)
	}
	return nil
}

// listed calls List and checks that it returned n volumes whose names
// start with prefix.
func (a *pluginAPI) listed(ctx context.Context, prefix string, n int) error {
	var resp struct{ Volumes []struct{ Name string } }
	if err := a.call(ctx, "VolumeDriver.List", struct{}{}, &resp); err != nil {
		return err
	}
	got := 0
	for _, v := range resp.Volumes {
		if strings.HasPrefix(v.Name, prefix) {
			got++
		}
	}
	if got != n {
		return fmt.Errorf("List returned %d of the %d volumes named %s*", got, n, prefix)
	}
	return nil
}

// mountAll calls method, VolumeDriver.Mount or Unmount, with mount ID id
// for each volume, mountWorkers at a time.
func (a *pluginAPI) mountAll(method, id string, names []string) error {
	return parallel(mountWorkers, names, func(v string) error {
		return a.call(context.Background(), method, map[string]string{"Name": v, "ID": id}, nil)
	})
}
