package control

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
)

// DockerVolumeOption labels every gluster volume the plugin creates with the
// Docker volume it backs. Only labelled volumes are listed, stopped and
// deleted through the plugin and this API.
const DockerVolumeOption = "user.docker-volume"

// serviceLabels are volume options only the service sets (or, for
// DockerVolumeOption, checks against the volume's name): callers must not
// forge them, and no server setting can hand them out.
var serviceLabels = []string{DockerVolumeOption, CreatedAtOption, BrickOwnerOption, WitnessOption, "user.docker-subvolume.*", SubvolumeSizeOptionPrefix + "*", SubvolumeOnRemoveOptionPrefix + "*", RetainedOption, OnRemoveOption}

// optionGroup is a set of gluster volume options that are safe to hand to
// whoever creates volumes: each affects that volume only and names no path
// or certificate on the servers.
type optionGroup struct {
	names  []string // exact names, or prefixes ending in '*'
	reason string
	// check validates the value further; nil accepts any value gluster
	// itself accepts.
	check func(value string) error
}

// allowedOptions is the one list of options volume creators may set.
// Refused, among others: options that name server paths or certificates
// (changelog.changelog-dir, server.statedump-path, ssl.*, server.ssl,
// client.ssl, auth.ssl-allow, storage.*, nfs.*, geo-replication.*), options
// of the whole pool (cluster.server-quorum-ratio, cluster.op-version,
// cluster.brick-multiplex, cluster.enable-shared-storage) and log levels
// above WARNING, which flood logs the servers share.
var allowedOptions = []optionGroup{
	{names: []string{"performance.*", "server.event-threads", "client.event-threads"}, reason: "caches and threads of this volume's clients and bricks"},
	{names: []string{"network.ping-timeout"}, reason: "how soon this volume's clients give up on a silent brick"},
	{names: []string{
		"cluster.quorum-type", "cluster.quorum-count", "cluster.quorum-reads", "cluster.favorite-child-policy",
		"cluster.self-heal-daemon", "cluster.data-self-heal", "cluster.metadata-self-heal", "cluster.entry-self-heal",
		"cluster.data-self-heal-algorithm", "cluster.self-heal-window-size", "cluster.background-self-heal-count",
		"cluster.heal-timeout", "cluster.granular-entry-heal", "cluster.shd-max-threads", "cluster.shd-wait-qlength",
		"cluster.read-hash-mode", "cluster.choose-local", "cluster.eager-lock", "cluster.full-lock",
		"cluster.consistent-metadata", "cluster.ensure-durability", "cluster.min-free-disk", "cluster.min-free-inodes",
		"cluster.lookup-optimize", "cluster.lookup-unhashed", "cluster.readdir-optimize",
	}, reason: "replication, self-heal and placement within this volume"},
	{names: []string{"features.shard", "features.shard-block-size"}, reason: "how this volume splits large files"},
	{names: []string{"features.cache-invalidation*"}, reason: "cache invalidation between this volume's clients"},
	{names: []string{"auth.allow", "auth.reject"}, reason: "which clients may mount this volume", check: checkAddressList},
	{names: []string{"diagnostics.client-log-level", "diagnostics.brick-log-level"}, reason: "this volume's log levels, at WARNING or quieter", check: checkQuietLogLevel},
}

// quietLogLevels are gluster's log levels at WARNING or less verbose.
var quietLogLevels = []string{"WARNING", "ERROR", "CRITICAL", "NONE"}

// OptionPolicy decides which gluster volume options callers may set: the
// built-in list plus the names and prefixes a server setting adds.
type OptionPolicy struct {
	extra []string
}

var extraPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*(\.\*|\*)?$`)

// NewOptionPolicy returns the policy that also allows extra: option names,
// or prefixes ending in '*' ("features.foo", "performance.*",
// "features.bar*"). The service's own labels cannot be allowed.
func NewOptionPolicy(extra []string) (OptionPolicy, error) {
	for _, e := range extra {
		if !extraPattern.MatchString(e) || !strings.Contains(e, ".") || len(e) > 128 {
			return OptionPolicy{}, fmt.Errorf("%q is not a gluster option name or a prefix ending in '*' such as features.foo or performance.*", e)
		}
		for _, label := range serviceLabels {
			if matchOption(e, strings.TrimSuffix(label, "*")) || matchOption(label, strings.TrimSuffix(e, "*")) {
				return OptionPolicy{}, fmt.Errorf("%q would let callers set %s, which the server sets itself", e, label)
			}
		}
	}
	return OptionPolicy{extra: slices.Clone(extra)}, nil
}

// matchOption reports whether name is pattern or starts with pattern's
// prefix when pattern ends in '*'.
func matchOption(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return pattern == name
}

// Check refuses an option callers may not set, saying which they may.
func (p OptionPolicy) Check(key, value string) error {
	if err := validateOption(key, value); err != nil {
		return err
	}
	for _, label := range serviceLabels {
		if matchOption(label, key) {
			return fmt.Errorf("option %s is set by the server itself", key)
		}
	}
	for _, g := range allowedOptions {
		if slices.ContainsFunc(g.names, func(n string) bool { return matchOption(n, key) }) {
			if g.check == nil {
				return nil
			}
			if err := g.check(value); err != nil {
				return fmt.Errorf("option %s: %w", key, err)
			}
			return nil
		}
	}
	if slices.ContainsFunc(p.extra, func(n string) bool { return matchOption(n, key) }) {
		return nil
	}
	return fmt.Errorf("option %s may not be set through this API; allowed: %s (a server's EXTRA_VOLUME_OPTIONS adds more)", key, p.allowed())
}

func (p OptionPolicy) allowed() string {
	var all []string
	for _, g := range allowedOptions {
		all = append(all, g.names...)
	}
	all = append(all, p.extra...)
	return strings.Join(all, ", ")
}

var hostPatternWildcard = regexp.MustCompile(`^(\d{1,3}|\*)(\.(\d{1,3}|\*)){1,3}$`)

// checkAddressList accepts a comma-separated list of addresses, CIDR
// blocks, IPv4 wildcard patterns (192.168.*) and host names, as auth.allow
// and auth.reject take them, and "*" for everyone.
func checkAddressList(value string) error {
	if value == "" {
		return errors.New("the list of addresses is empty")
	}
	for _, item := range strings.Split(value, ",") {
		switch {
		case item == "*":
		case net.ParseIP(item) != nil:
		case validCIDR(item):
		case hostPatternWildcard.MatchString(item) && strings.Contains(item, "*"):
		case ValidateHost(item) == nil:
		default:
			return fmt.Errorf("%q is neither an address, a CIDR block, a pattern such as 192.168.* nor a host name", item)
		}
	}
	return nil
}

func validCIDR(s string) bool {
	_, _, err := net.ParseCIDR(s)
	return err == nil
}

func checkQuietLogLevel(value string) error {
	if !slices.Contains(quietLogLevels, strings.ToUpper(value)) {
		return fmt.Errorf("level %q: use one of %s; more verbose levels flood the logs the servers share", value, strings.Join(quietLogLevels, ", "))
	}
	return nil
}
