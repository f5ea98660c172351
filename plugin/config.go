package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/driver"
	"github.com/glusterdocker/gluster/metrics"
	"github.com/glusterdocker/gluster/pki"
	"github.com/glusterdocker/gluster/settings"
)

// config holds the plugin's settings: `docker plugin set gluster KEY=VALUE`
// for the managed plugin, the environment or a TOML file otherwise.
type config struct {
	Servers     []string `toml:"servers" env:"SERVERS"`
	Token       string   `toml:"token" env:"TOKEN"`
	TokenFile   string   `toml:"token_file" env:"TOKEN_FILE"`
	ControlPort int      `toml:"control_port" env:"CONTROL_PORT"`
	// CAFingerprint pins the cluster CA of servers that serve TLS: the
	// plugin then speaks TLS only, to servers whose certificate that CA
	// issued, and gets its own certificate from them for gluster's traffic.
	CAFingerprint  string `toml:"ca_fingerprint" env:"CA_FINGERPRINT"`
	StateDir       string `toml:"state_dir" env:"STATE_DIR"`
	MountRoot      string `toml:"mount_root" env:"MOUNT_ROOT"`
	MountTimeout   string `toml:"mount_timeout" env:"MOUNT_TIMEOUT"` // a duration, or autoMountTimeout
	DefaultReplica int    `toml:"default_replica" env:"DEFAULT_REPLICA"`
	DefaultSize    string `toml:"default_size" env:"DEFAULT_SIZE"`
	DefaultPool    string `toml:"default_pool" env:"DEFAULT_POOL"`
	OnRemove       string `toml:"on_remove" env:"ON_REMOVE"`
	Socket         string `toml:"socket" env:"SOCKET"`
	LogLevel       string `toml:"log_level" env:"LOG_LEVEL"`
	LogFormat      string `toml:"log_format" env:"LOG_FORMAT"`
	MetricsAddress string `toml:"metrics_address" env:"METRICS_ADDRESS"`
	DetachClients  bool   `toml:"detach_clients" env:"DETACH_CLIENTS"`
}

// defaultConfigFile is read when present; $CONFIG names another.
const defaultConfigFile = "/etc/docker-gluster/plugin.toml"

// tokenFileHint says where the managed plugin finds its token file: in the
// host directory config.json mounts at the same path.
const tokenFileHint = "the managed plugin sees the host's directory /etc/docker-gluster (the mount secrets.source) there: " +
	"put the servers' token in the file on the host (mode 0600), such as /etc/docker-gluster/token"

// dockerMountLimit is the longest any Docker waits for a plugin's Mount
// (2 minutes since Docker 23; Docker 20.10 waits 30 s for every call). A
// mount must fail with its own error before Docker gives up, never after.
const dockerMountLimit = 2 * time.Minute

// autoMountTimeout, the default MOUNT_TIMEOUT, lets the driver learn how
// long this host's Docker waits for a Mount.
const autoMountTimeout = "auto"

func loadConfig(lookup func(string) (string, bool)) (config, error) {
	cfg := config{
		ControlPort:  control.DefaultPort,
		StateDir:     "/var/lib/docker-gluster",
		MountRoot:    "/mnt/volumes",
		MountTimeout: autoMountTimeout,
		Socket:       "gluster",
		LogLevel:     "info",
		// A prune on any one host removes every unused volume of the
		// cluster: by default it must not take their data with it.
		OnRemove:  control.OnRemoveRetain,
		LogFormat: "text",
		// Loopback: the plugin runs on the host's network, and the volume
		// API's metrics are for this host's own Prometheus unless told so.
		MetricsAddress: "127.0.0.1:9474",
	}
	if err := settings.Load(&cfg, defaultConfigFile, lookup); err != nil {
		return cfg, err
	}
	if err := settings.Token(&cfg.Token, &cfg.TokenFile); err != nil {
		return cfg, fmt.Errorf("%w: %s", err, tokenFileHint)
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	var errs []error
	if len(c.Servers) == 0 {
		errs = append(errs, errors.New("SERVERS is empty: set it to one or more gluster server addresses (docker plugin set gluster SERVERS=10.0.0.1,10.0.0.2)"))
	}
	for _, s := range c.Servers {
		if err := control.ValidateHost(s); err != nil {
			errs = append(errs, fmt.Errorf("SERVERS: %w", err))
		}
	}
	if c.Token == "" {
		errs = append(errs, errors.New("TOKEN is empty: set it, or TOKEN_FILE, to the servers' control API token"))
	} else if err := control.ValidateToken(c.Token); err != nil {
		errs = append(errs, fmt.Errorf("TOKEN/TOKEN_FILE: %w", err))
	}
	if _, err := c.caPin(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.mountTimeout(); err != nil {
		errs = append(errs, err)
	}
	if c.DefaultReplica < 0 {
		errs = append(errs, fmt.Errorf("DEFAULT_REPLICA %d: use 0 (as many servers as there are, up to 3) or more", c.DefaultReplica))
	}
	if c.OnRemove == "" {
		errs = append(errs, fmt.Errorf("ON_REMOVE is empty: use %s or %s", control.OnRemoveRetain, control.OnRemoveDelete))
	} else if err := control.ValidateOnRemove(c.OnRemove); err != nil {
		errs = append(errs, fmt.Errorf("ON_REMOVE: %w", err))
	}
	if _, err := c.defaultSize(); err != nil {
		errs = append(errs, fmt.Errorf("DEFAULT_SIZE: %w, or nothing for no limit", err))
	}
	if _, err := driver.ParseOptions(map[string]string{"pool": c.DefaultPool}); err != nil {
		errs = append(errs, fmt.Errorf("DEFAULT_POOL: %w, or nothing for dedicated volumes", err))
	}
	if err := metrics.ValidateAddress(c.MetricsAddress); err != nil {
		errs = append(errs, fmt.Errorf("METRICS_ADDRESS: %w: use HOST:PORT, such as 127.0.0.1:9474, or nothing to turn metrics off", err))
	}
	return errors.Join(errs...)
}

// caPin is CA_FINGERPRINT's bytes, nil when it is empty (servers without
// TLS).
func (c config) caPin() ([]byte, error) {
	if c.CAFingerprint == "" {
		return nil, nil
	}
	pin, err := pki.ParseFingerprint(c.CAFingerprint)
	if err != nil {
		return nil, fmt.Errorf("CA_FINGERPRINT: %w: the servers log it (\"ca=sha256:...\"), and gluster-admin ca prints it", err)
	}
	return pin, nil
}

// mountTimeout is MOUNT_TIMEOUT as a duration, 0 for autoMountTimeout.
func (c config) mountTimeout() (time.Duration, error) {
	if c.MountTimeout == autoMountTimeout {
		return 0, nil
	}
	d, err := time.ParseDuration(c.MountTimeout)
	if err != nil || d <= 0 || d >= dockerMountLimit {
		return 0, fmt.Errorf("MOUNT_TIMEOUT %q: use %s (the plugin learns how long Docker waits) or a duration below Docker's limit of %s", c.MountTimeout, autoMountTimeout, dockerMountLimit)
	}
	return d, nil
}

// defaultSize is DEFAULT_SIZE in bytes, 0 when it is empty.
func (c config) defaultSize() (uint64, error) {
	if c.DefaultSize == "" {
		return 0, nil
	}
	return driver.ParseSize(c.DefaultSize)
}
