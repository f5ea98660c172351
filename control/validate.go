package control

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"unicode"

	"github.com/glusterdocker/gluster/names"
)

// MaxReplica bounds replica counts to what makes sense for one replica set.
const MaxReplica = 16

// MaxBricks bounds a volume's bricks: each lies on a server of its own, and
// pools of the hosts this plugin is for have a handful of servers.
const MaxBricks = 16

var (
	hostPattern   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)
	optionPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$`)
)

// validateCreate checks everything about a request that can be checked
// without asking gluster, so that a bad request creates nothing.
func validateCreate(req CreateRequest, options OptionPolicy) error {
	if err := names.ValidateVolume(req.Name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if req.Replica < 0 || req.Replica > MaxReplica {
		return fmt.Errorf("%w: replica %d: use 1 to %d", ErrInvalid, req.Replica, MaxReplica)
	}
	if req.Arbiter && req.Replica != 3 && req.Replica != 0 {
		return fmt.Errorf("%w: an arbiter needs replica 3 (two data bricks and the arbiter), got replica %d", ErrInvalid, req.Replica)
	}
	if err := ValidateOnRemove(req.OnRemove); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := CheckBrickLayout(req.Bricks, req.Replica, req.Arbiter); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := validateServers(req.Servers); err != nil {
		return err
	}
	for k, v := range req.Options {
		check := options.Check
		if k == DockerVolumeOption {
			check = func(_, v string) error { return checkDockerLabel(req.Name, v) }
		}
		if err := check(k, v); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	return nil
}

// CheckBrickLayout accepts a brick count (0: one replica set) only as
// whole replica sets of an explicit replica count, without an arbiter.
func CheckBrickLayout(bricks, replica int, arbiter bool) error {
	switch {
	case bricks == 0:
		return nil
	case bricks < 0 || bricks > MaxBricks:
		return fmt.Errorf("bricks %d: use 1 to %d", bricks, MaxBricks)
	case replica == 0:
		return fmt.Errorf("bricks %d needs a replica count, the bricks of each replica set", bricks)
	case bricks%replica != 0:
		return fmt.Errorf("bricks %d is not a multiple of replica %d: give whole replica sets", bricks, replica)
	case arbiter && bricks != replica:
		return errors.New("an arbiter goes with one replica set only: leave out the brick count")
	}
	return nil
}

// validateServers checks a list of server addresses a request names.
func validateServers(servers []string) error {
	seen := map[string]bool{}
	for _, s := range servers {
		if err := ValidateHost(s); err != nil {
			return fmt.Errorf("%w: servers: %w", ErrInvalid, err)
		}
		if seen[s] {
			return fmt.Errorf("%w: servers: %q is listed twice", ErrInvalid, s)
		}
		seen[s] = true
	}
	return nil
}

// checkDockerLabel accepts the plugin's label only with the Docker volume
// name that maps onto the gluster volume's: a caller cannot make a volume
// pass for another Docker volume.
func checkDockerLabel(volume, docker string) error {
	if gluster, err := names.FromDocker(docker); err != nil || gluster != volume {
		return fmt.Errorf("option %s: %q is not the Docker name of volume %s", DockerVolumeOption, docker, volume)
	}
	return nil
}

// ValidateHost accepts an IP address or a DNS name.
func ValidateHost(host string) error {
	if net.ParseIP(host) != nil {
		return nil
	}
	if len(host) > 253 || !hostPattern.MatchString(host) {
		return fmt.Errorf("%q is neither an IP address nor a host name", host)
	}
	return nil
}

func validateOption(key, value string) error {
	if !optionPattern.MatchString(key) || len(key) > 128 {
		return fmt.Errorf("option %q: gluster option names look like performance.cache-size", key)
	}
	// The gluster CLI takes any argument starting with "--" as its own
	// option (--log-file=PATH writes PATH as root), wherever it stands.
	if strings.HasPrefix(value, "-") {
		return fmt.Errorf("option %s: the value must not start with '-'", key)
	}
	if len(value) > 1024 {
		return fmt.Errorf("option %s: the value is longer than 1024 characters", key)
	}
	for _, r := range value {
		if unicode.IsControl(r) {
			return fmt.Errorf("option %s: the value contains a control character", key)
		}
	}
	return nil
}
