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

// maxReplica bounds replica counts to what makes sense for one replica set.
const maxReplica = 16

// maxBricks bounds a volume's bricks: each lies on a server of its own, and
// pools of the hosts this plugin is for have a handful of servers.
const maxBricks = 16

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
	if req.Replica < 0 || req.Replica > maxReplica {
		return fmt.Errorf("%w: replica %d: use 1 to %d", ErrInvalid, req.Replica, maxReplica)
	}
	if req.Arbiter && req.Replica != 3 && req.Replica != 0 {
		return fmt.Errorf("%w: an arbiter needs replica 3 (two data bricks and the arbiter), got replica %d", ErrInvalid, req.Replica)
	}
	if err := ValidateOnRemove(req.OnRemove); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := validateBricks(req); err != nil {
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

// validateBricks accepts a brick count only as whole replica sets of an
// explicit replica count, without an arbiter.
func validateBricks(req CreateRequest) error {
	switch {
	case req.Bricks == 0:
		return nil
	case req.Bricks < 0 || req.Bricks > maxBricks:
		return fmt.Errorf("bricks %d: use 1 to %d", req.Bricks, maxBricks)
	case req.Replica == 0:
		return fmt.Errorf("bricks %d needs a replica count", req.Bricks)
	case req.Bricks%req.Replica != 0:
		return fmt.Errorf("bricks %d is not a multiple of replica %d: give whole replica sets", req.Bricks, req.Replica)
	case req.Arbiter && req.Bricks != req.Replica:
		return errors.New("an arbiter goes with one replica set only")
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
