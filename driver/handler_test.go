package driver

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-plugins-helpers/volume"
)

// blockingDriver answers Mount once the caller gives up, telling why.
type blockingDriver struct {
	volume.Driver // not called
	gaveUp        chan error
}

func (b *blockingDriver) MountContext(ctx context.Context, _ *volume.MountRequest) (*volume.MountResponse, error) {
	<-ctx.Done()
	b.gaveUp <- ctx.Err()
	return nil, ctx.Err()
}

func TestHandlerMountFollowsDocker(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "plugin.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	d := &blockingDriver{gaveUp: make(chan error, 1)}
	go NewHandler(d).Serve(l)
	t.Cleanup(func() { l.Close() })

	// As Docker 20.10 calls a plugin: a client timeout, after which the
	// connection is closed.
	client := &http.Client{
		Timeout: 200 * time.Millisecond,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}},
	}
	_, err = client.Post("http://plugin/VolumeDriver.Mount", "application/vnd.docker.plugins.v1.1+json", strings.NewReader(`{"Name":"v","ID":"a"}`))
	if err == nil {
		t.Fatal("Mount answered although the driver blocks")
	}
	select {
	case err := <-d.gaveUp:
		if err == nil {
			t.Error("the driver's context ended without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the driver's Mount context was not cancelled when Docker stopped waiting")
	}
}
