package main

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/glustercli"
	"github.com/glusterdocker/gluster/metrics"
	"github.com/glusterdocker/gluster/settings"
)

// config holds the server's settings. Environment variables override the
// TOML file named by $CONFIG.
type config struct {
	Address        string   `toml:"address" env:"ADDRESS"`
	Peers          []string `toml:"peers" env:"PEERS"`
	BrickRoot      string   `toml:"brick_root" env:"BRICK_ROOT"`
	Token          string   `toml:"token" env:"TOKEN"`
	TokenFile      string   `toml:"token_file" env:"TOKEN_FILE"`
	ControlPort    int      `toml:"control_port" env:"CONTROL_PORT"`
	GlusterdSocket string   `toml:"glusterd_socket" env:"GLUSTERD_SOCKET"`
	LogLevel       string   `toml:"log_level" env:"LOG_LEVEL"`
	LogFormat      string   `toml:"log_format" env:"LOG_FORMAT"`
	MetricsAddress string   `toml:"metrics_address" env:"METRICS_ADDRESS"`
	// BrickMultiplex is the pool-wide cluster.brick-multiplex, on or
	// off, set once the pool formed.
	BrickMultiplex string `toml:"brick_multiplex" env:"BRICK_MULTIPLEX"`
	// TLS, on or off, says whether the control API, glusterd's
	// management connections and the volumes' I/O use TLS with
	// certificates of the cluster's CA (tls.go). It is chosen when the
	// cluster is made: volumes keep what they were created with.
	TLS string `toml:"tls" env:"TLS"`
	// Witness is the address of the thin arbiter (gluster-server witness)
	// that replica 2 volumes created from now on get as their third voter.
	Witness string `toml:"witness" env:"WITNESS"`
	// ExtraVolumeOptions extends the volume options callers may set:
	// option names, or prefixes ending in '*'.
	ExtraVolumeOptions []string `toml:"extra_volume_options" env:"EXTRA_VOLUME_OPTIONS"`

	volumeOptions control.OptionPolicy // built from ExtraVolumeOptions
}

// defaultConfigFile is read when present; $CONFIG names another.
const defaultConfigFile = "/etc/gluster-server/server.toml"

func loadConfig(lookup func(string) (string, bool)) (config, error) {
	cfg := config{
		BrickRoot:      "/bricks",
		ControlPort:    control.DefaultPort,
		GlusterdSocket: glustercli.DefaultSocket,
		LogLevel:       "info",
		LogFormat:      "text",
		// A brick process that crashes takes every brick it serves with
		// it: many volumes on one host should share a pool instead.
		BrickMultiplex: "off",
		// The control API's token and the volumes' data cross the
		// network: encrypted and authenticated unless told otherwise.
		TLS: "on",
	}
	if err := settings.Load(&cfg, defaultConfigFile, lookup); err != nil {
		return cfg, err
	}
	if err := settings.Token(&cfg.Token, &cfg.TokenFile); err != nil {
		return cfg, fmt.Errorf("%w: put the control API token in it (%s)", err, control.TokenHint)
	}
	cfg.Peers = slices.DeleteFunc(cfg.Peers, func(p string) bool { return p == cfg.Address })
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	policy, err := control.NewOptionPolicy(cfg.ExtraVolumeOptions)
	if err != nil {
		return cfg, fmt.Errorf("EXTRA_VOLUME_OPTIONS: %w", err)
	}
	cfg.volumeOptions = policy
	return cfg, nil
}

func (c config) validate() error {
	if c.Address == "" {
		return fmt.Errorf("ADDRESS is not set: set it to the address the other servers and the clients reach this server at")
	}
	for _, h := range append([]string{c.Address}, c.Peers...) {
		if err := control.ValidateHost(h); err != nil {
			return fmt.Errorf("ADDRESS/PEERS: %w", err)
		}
	}
	if c.Witness != "" {
		if err := control.ValidateHost(c.Witness); err != nil {
			return fmt.Errorf("WITNESS: %w", err)
		}
		if slices.Contains(append([]string{c.Address}, c.Peers...), c.Witness) {
			return fmt.Errorf("WITNESS %s is a server of the pool: run the witness on a third host, where it holds no brick", c.Witness)
		}
		if c.TLS == "on" {
			return fmt.Errorf("WITNESS with TLS=on: the witness serves without TLS so far, and TLS volumes could not reach it; leave WITNESS unset, or run the cluster with TLS=off")
		}
	}
	if err := validateBrickRoot(c.BrickRoot); err != nil {
		return fmt.Errorf("BRICK_ROOT: %w", err)
	}
	if c.Token == "" {
		return fmt.Errorf("no control API token: set TOKEN or TOKEN_FILE (the same on every server and plugin; %s)", control.TokenHint)
	}
	if err := control.ValidateToken(c.Token); err != nil {
		return fmt.Errorf("TOKEN/TOKEN_FILE: %w", err)
	}
	if c.BrickMultiplex != "on" && c.BrickMultiplex != "off" {
		return fmt.Errorf("BRICK_MULTIPLEX %q: use on (one brick process per server for all volumes) or off (one per volume)", c.BrickMultiplex)
	}
	if c.TLS != "on" && c.TLS != "off" {
		return fmt.Errorf("TLS %q: use on (certificates of a CA the servers make, for the control API and gluster's traffic) or off", c.TLS)
	}
	if c.ControlPort <= 0 || c.ControlPort > 65535 {
		return fmt.Errorf("CONTROL_PORT %d is not a port number", c.ControlPort)
	}
	if err := metrics.ValidateAddress(c.MetricsAddress); err != nil {
		return fmt.Errorf("METRICS_ADDRESS: %w: use HOST:PORT, such as %s:9475, or nothing to turn metrics off", err, c.Address)
	}
	return nil
}

// validateBrickRoot refuses a brick root whose volumes' directories could
// be mistaken for system directories or for one another's.
func validateBrickRoot(root string) error {
	switch {
	case !filepath.IsAbs(root):
		return fmt.Errorf("%q is not an absolute path: use one such as /bricks", root)
	case filepath.Clean(root) != root:
		return fmt.Errorf("%q is not a clean path: use %s", root, filepath.Clean(root))
	case root == "/":
		return fmt.Errorf("the root directory cannot hold bricks: use a directory of its own such as /bricks")
	}
	return nil
}
