package driver

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/glusterdocker/gluster/control"
	"github.com/glusterdocker/gluster/names"
	"github.com/glusterdocker/gluster/settings"
)

// glusterOptionPrefix marks a `docker volume create -o` option that is a
// gluster volume option: gluster.performance.cache-size=64MB.
const glusterOptionPrefix = "gluster."

// DockerVolumeOption labels every gluster volume the plugin creates with the
// Docker volume it backs. Only labelled volumes are listed and deleted.
const DockerVolumeOption = control.DockerVolumeOption

// ErrBadOption marks a create option the plugin refuses.
var ErrBadOption = errors.New("invalid volume option")

// Options are the parsed `docker volume create -o` options.
type Options struct {
	Replica int               // bricks of a replica set, arbiter included; 0 = the plugin's default
	Bricks  int               // bricks in all, in replica sets of Replica; 0 = one replica set
	Arbiter bool              // the last brick holds metadata only
	Servers []string          // restrict bricks to these servers
	Gluster map[string]string // gluster volume options
	Pool    string            // a directory of this pool's shared gluster volume, made on first use
	Volume  string            // use this existing gluster volume instead of creating one
	Subdir  string            // use this subdirectory of the gluster volume, created on first mount
	UID     *uint32           // owner of the volume's root directory
	GID     *uint32
	Mode    *uint32 // permissions of the volume's root directory
	Size    uint64  // hard limit in bytes; 0 = the plugin's default
	// OnRemove is what docker volume rm does to the gluster volume:
	// control.OnRemoveRetain or OnRemoveDelete; "" = the plugin's default.
	OnRemove string
}

// Existing reports whether the Docker volume uses a gluster volume the
// plugin did not create.
func (o Options) Existing() bool { return o.Volume != "" }

var validOptions = []string{"replica", "bricks", "arbiter", "servers", "uid", "gid", "mode", "size", "on-remove", "pool", "volume", "subdir", glusterOptionPrefix + "<option>"}

// maxID is the largest uid or gid: ids are 32 bits, and 4294967295 is
// (uid_t)-1, which chown reads as "leave unchanged".
const maxID = 1<<32 - 2

// ParseOptions validates and parses the options of a create request.
func ParseOptions(raw map[string]string) (Options, error) {
	var o Options
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		value := raw[key]
		if err := o.set(key, value); err != nil {
			return Options{}, fmt.Errorf("%w: %s=%s: %w", ErrBadOption, key, value, err)
		}
	}
	if o.Pool != "" {
		if err := o.checkPooled(); err != nil {
			return Options{}, err
		}
	} else if o.Existing() {
		var creation []string
		if o.Replica != 0 {
			creation = append(creation, "replica")
		}
		if o.Bricks != 0 {
			creation = append(creation, "bricks")
		}
		if o.Arbiter {
			creation = append(creation, "arbiter")
		}
		if len(o.Servers) > 0 {
			creation = append(creation, "servers")
		}
		if len(o.Gluster) > 0 {
			creation = append(creation, glusterOptionPrefix+"*")
		}
		if o.OnRemove != "" {
			// docker volume rm never deletes a volume the plugin did
			// not create.
			creation = append(creation, "on-remove")
		}
		if o.Size > 0 && o.Subdir == "" {
			// A limit on the root would change a volume the plugin did
			// not create for everyone who uses it.
			creation = append(creation, "size (without subdir)")
		}
		if len(creation) > 0 {
			return Options{}, fmt.Errorf("%w: %s describe a new gluster volume and cannot go with volume=%s", ErrBadOption, strings.Join(creation, ", "), o.Volume)
		}
	} else if o.Subdir != "" {
		return Options{}, fmt.Errorf("%w: subdir=%s needs volume=, the gluster volume that holds it", ErrBadOption, o.Subdir)
	}
	if o.Arbiter && o.Replica != 0 && o.Replica != 3 {
		return Options{}, fmt.Errorf("%w: arbiter needs replica=3 (two data bricks and the arbiter)", ErrBadOption)
	}
	if err := control.CheckBrickLayout(o.Bricks, o.Replica, o.Arbiter); err != nil {
		return Options{}, fmt.Errorf("%w: %w", ErrBadOption, err)
	}
	return o, nil
}

func (o *Options) set(key, value string) error {
	switch {
	case key == "bricks":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > control.MaxBricks {
			return fmt.Errorf("bricks is a number of bricks from 1 to %d, a multiple of replica", control.MaxBricks)
		}
		o.Bricks = n
	case key == "replica":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > control.MaxReplica {
			return fmt.Errorf("replica is a number of bricks from 1 to %d", control.MaxReplica)
		}
		o.Replica = n
	case key == "arbiter":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return errors.New("arbiter is true or false")
		}
		o.Arbiter = b
	case key == "servers":
		o.Servers = settings.List(value)
		if len(o.Servers) == 0 {
			return errors.New("servers is a comma-separated list of server addresses")
		}
	case key == "uid" || key == "gid":
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil || n > maxID {
			return fmt.Errorf("%s is a numeric id from 0 to %d", key, uint64(maxID))
		}
		id := uint32(n)
		if key == "uid" {
			o.UID = &id
		} else {
			o.GID = &id
		}
	case key == "mode":
		m, err := strconv.ParseUint(value, 8, 32)
		if err != nil || m > 0o7777 {
			return errors.New("mode is an octal permission such as 0755 or 1777")
		}
		mode := uint32(m)
		o.Mode = &mode
	case key == "size":
		n, err := ParseSize(value)
		if err != nil {
			return err
		}
		o.Size = n
	case key == "on-remove":
		if err := control.ValidateOnRemove(value); err != nil {
			return err
		}
		o.OnRemove = value
	case key == "pool":
		if value == "" {
			// -o pool= asks for a dedicated volume despite DEFAULT_POOL.
			return nil
		}
		if _, err := poolVolume(value); err != nil {
			return err
		}
		o.Pool = value
	case key == "volume":
		if err := names.ValidateVolume(value); err != nil {
			return err
		}
		o.Volume = value
	case key == "subdir":
		clean := path.Clean(strings.Trim(value, "/"))
		if err := control.ValidateSubdir(clean); err != nil {
			return err
		}
		o.Subdir = clean
	case strings.HasPrefix(key, glusterOptionPrefix):
		name := strings.TrimPrefix(key, glusterOptionPrefix)
		if name == DockerVolumeOption || strings.HasPrefix(name, "user.created-at") {
			return fmt.Errorf("%s is set by the plugin itself", name)
		}
		if o.Gluster == nil {
			o.Gluster = map[string]string{}
		}
		o.Gluster[name] = value
	default:
		return fmt.Errorf("unknown option; valid options: %s", strings.Join(validOptions, ", "))
	}
	return nil
}
