package mounter

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var volumeName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// unsafeChars are characters that mount.glusterfs, a shell script that expands
// its arguments unquoted and splits options at commas, would split or glob.
const unsafeChars = " \t\r\n,*?[]\\'\"$`"

// validate rejects requests that mount.glusterfs would misread, and targets
// that the mount table could not be matched against.
func (r Request) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequest}, args...)...)
	}
	if !volumeName.MatchString(r.Volume) {
		return bad("volume name %q: only letters, digits, - and _ are allowed", r.Volume)
	}
	if r.Subdir != "" && (path.IsAbs(r.Subdir) || path.Clean(r.Subdir) != r.Subdir || r.Subdir == ".." || strings.HasPrefix(r.Subdir, "../")) {
		return bad("subdirectory %q must be a clean relative path inside the volume", r.Subdir)
	}
	if len(r.Servers) == 0 {
		return bad("no gluster servers given for volume %q", r.Volume)
	}
	for _, s := range append(append([]string(nil), r.Servers...), r.Bricks...) {
		// The source and backup-volfile-servers both separate servers with
		// colons, so IPv6 literals cannot be passed.
		if strings.ContainsAny(s, ":/"+unsafeChars) {
			return bad("server %q: use an IPv4 address or a host name", s)
		}
	}
	if !filepath.IsAbs(r.Target) || filepath.Clean(r.Target) != r.Target || r.Target == "/" {
		return bad("target %q must be a clean absolute path other than /", r.Target)
	}
	if !filepath.IsAbs(r.LogFile) {
		return bad("log file %q must be an absolute path", r.LogFile)
	}
	for _, s := range []string{r.Subdir, r.Target, r.LogFile} {
		if strings.ContainsAny(s, unsafeChars) {
			return bad("%q must not contain blanks, commas, quotes or glob characters", s)
		}
	}
	return nil
}

// uniqueHosts lists every server and brick host once, in order.
func uniqueHosts(servers, bricks []string) []string {
	seen := make(map[string]bool)
	var hosts []string
	for _, h := range append(append([]string(nil), servers...), bricks...) {
		if h != "" && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// liveFirst orders servers for fetching the volume file: the live ones in the
// user's order, then the dead ones, which mount still tries last in case they
// came back. It also returns the dead ones.
func liveFirst(servers []string, dead map[string]bool) (order, unreachable []string) {
	seen := make(map[string]bool)
	var live []string
	for _, s := range servers {
		if seen[s] {
			continue
		}
		seen[s] = true
		if dead[s] {
			unreachable = append(unreachable, s)
		} else {
			live = append(live, s)
		}
	}
	return append(live, unreachable...), unreachable
}

// mountArgs returns the arguments of mount(8): order[0] serves the volume
// file, the other servers are its backups.
func mountArgs(req Request, order []string, dead map[string]bool, deadBrickTimeout time.Duration) []string {
	var opts []string
	if len(order) > 1 {
		opts = append(opts, "backup-volfile-servers="+strings.Join(order[1:], ":"))
	}
	opts = append(opts, "log-file="+req.LogFile)
	if x := deadBrickOption(req.Volume, req.Bricks, dead, deadBrickTimeout); x != "" {
		opts = append(opts, "xlator-option="+x)
	}
	source := order[0] + ":/" + path.Join(req.Volume, req.Subdir)
	return []string{"-t", "glusterfs", "-o", strings.Join(opts, ","), source, req.Target}
}

// deadBrickOption returns an xlator option that gives up connecting to the
// bricks on dead hosts after timeout (whole seconds, at least one) instead
// of the 42 s TCP timeout that would otherwise delay the mount, or "" when
// no brick host is dead.
//
// mount.glusterfs passes on only its last xlator-option, so one fnmatch
// pattern must name all the bricks, and it must not name a live one: a short
// TCP user timeout on a live brick drops it during a network blip of a few
// seconds. A pattern made of a fixed prefix and one character class for the
// last digit is exact, so the dead bricks sharing the most common leading
// digits get the option: all of them in volumes of up to 10 bricks, and the
// others keep the default timeout, which only makes the mount slower.
func deadBrickOption(volume string, bricks []string, dead map[string]bool, timeout time.Duration) string {
	var prefixes []string
	lastDigits := make(map[string]string)
	for i, host := range bricks {
		if !dead[host] {
			continue
		}
		n := strconv.Itoa(i)
		prefix := n[:len(n)-1]
		if _, ok := lastDigits[prefix]; !ok {
			prefixes = append(prefixes, prefix)
		}
		lastDigits[prefix] += n[len(n)-1:]
	}
	if len(prefixes) == 0 {
		return ""
	}
	best := prefixes[0]
	for _, p := range prefixes[1:] {
		if len(lastDigits[p]) > len(lastDigits[best]) {
			best = p
		}
	}
	digits := lastDigits[best]
	if len(digits) > 1 {
		digits = "[" + digits + "]"
	}
	seconds := max(int(timeout/time.Second), 1)
	return fmt.Sprintf("%s-client-%s%s.transport.tcp-user-timeout=%d", volume, best, digits, seconds)
}
