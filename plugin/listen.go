package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"github.com/coreos/go-systemd/v22/activation"
)

// pluginSocketDir is where Docker looks for plugins' sockets.
const pluginSocketDir = "/run/docker/plugins"

// listen returns the socket systemd passed (socket activation), or else a
// socket of the plugin's own in Docker's plugin directory. go-plugins-helpers
// does not take a systemd socket by itself. cleanup removes the socket file
// the plugin made.
func listen(socket string) (l net.Listener, cleanup func(), err error) {
	activated, err := activation.Listeners()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the sockets systemd passed: %w", err)
	}
	if len(activated) > 0 {
		return activated[0], func() {}, nil
	}
	path := socket
	if !filepath.IsAbs(path) {
		path = filepath.Join(pluginSocketDir, socket+".sock")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, err
	}
	// A socket left by an earlier instance would make Listen fail.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	l, err = net.Listen("unix", path)
	if err != nil {
		return nil, nil, err
	}
	return l, func() { os.Remove(path) }, nil
}
